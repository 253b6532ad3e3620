// runtime_error: libtorch throws in the constructor: register_module name "blocks.0" contains a dot.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("blocks.0", torch::nn::Linear(40, 64));
    fc2 = register_module("blocks.1", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
