// forward_signature: no forward at all; the logic lives in a method named predict.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor predict(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
