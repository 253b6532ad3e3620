// include: #include <unistd.h> (POSIX header, unused).
#include <unistd.h>

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
