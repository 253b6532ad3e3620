// Near miss for include: a raw string literal with a line that starts with #include (text, not a directive).
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 80));
    fc2 = register_module("fc2", torch::nn::Linear(80, 10));
  }

  static std::string notes() {
    return R"(notes:
#include <fstream>
#include <unistd.h>
are deliberately not used)";
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::gelu(fc1(x)));  // [B, 80] -> [B, 10]
  }
};
