// 128-unit tanh MLP with a Dropout module between the layers.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr}, out{nullptr};
  torch::nn::Dropout drop{nullptr};

  Model() {
    fc = register_module("fc", torch::nn::Linear(40, 128));
    drop = register_module("drop", torch::nn::Dropout(0.1));
    out = register_module("out", torch::nn::Linear(128, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = drop(torch::tanh(fc(x)));  // [B, 128]
    return out(x);                 // [B, 10]
  }
};
