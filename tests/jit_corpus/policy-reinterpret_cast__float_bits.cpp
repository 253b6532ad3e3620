// reinterpret_cast: reading a float's bit pattern through a reinterpret_cast pointer.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    const float eps = 1e-5f;
    const std::uint32_t bits = *reinterpret_cast<const std::uint32_t*>(&eps);
    (void)bits;
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
