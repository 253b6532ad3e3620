// MLP with BatchNorm1d on features, ELU and dropout.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr}, out{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
  torch::nn::Dropout drop{nullptr};

  Model() {
    fc = register_module("fc", torch::nn::Linear(40, 96));
    bn = register_module("bn", torch::nn::BatchNorm1d(96));
    drop = register_module("drop", torch::nn::Dropout(0.2));
    out = register_module("out", torch::nn::Linear(96, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = drop(torch::elu(bn(fc(x))));  // [B, 96]
    return out(x);                    // [B, 10]
  }
};
