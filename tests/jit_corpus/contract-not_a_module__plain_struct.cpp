// not_a_module: Model holds Linear layers and has forward, but does not derive from torch::nn::Module.
struct Model {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = torch::nn::Linear(40, 64);
    fc2 = torch::nn::Linear(64, 10);
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
