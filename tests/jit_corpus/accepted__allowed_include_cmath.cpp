// Near miss for include: allowed standard headers (<cmath>, <vector>, <algorithm>) included explicitly.
#include <cmath>
#include <vector>
#include <algorithm>

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = x * (1.0 / std::sqrt(40.0));   // fixed input scaling
    return fc2(torch::tanh(fc1(x)));   // [B, 64] -> [B, 10]
  }
};
