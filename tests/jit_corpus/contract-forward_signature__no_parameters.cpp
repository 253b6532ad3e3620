// forward_signature: forward() takes no input tensor.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};

  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }

  torch::Tensor forward() {
    return fc(torch::zeros({1, 40}));  // ignores any input
  }
};
