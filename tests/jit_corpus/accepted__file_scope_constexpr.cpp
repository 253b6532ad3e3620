// Near miss for mutable_global: a file-scope `constexpr int kHidden` is allowed.
constexpr int kHidden = 32;

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, out{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, kHidden));
    fc2 = register_module("fc2", torch::nn::Linear(kHidden, kHidden));
    out = register_module("out", torch::nn::Linear(kHidden, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(fc1(x));
    x = x + torch::relu(fc2(x));  // residual, [B, 32]
    return out(x);                // [B, 10]
  }
};
