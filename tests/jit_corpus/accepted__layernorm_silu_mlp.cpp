// Pre-activation MLP with LayerNorm and SiLU.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, out{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({64})));
    fc2 = register_module("fc2", torch::nn::Linear(64, 64));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({64})));
    out = register_module("out", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::silu(norm1(fc1(x)));  // [B, 64]
    x = torch::silu(norm2(fc2(x)));  // [B, 64]
    return out(x);                   // [B, 10]
  }
};
