// MLP with two 64-unit GELU hidden layers.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, out{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 64));
    out = register_module("out", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::gelu(fc1(x));  // [B, 64]
    x = torch::gelu(fc2(x));  // [B, 64]
    return out(x);            // [B, 10]
  }
};
