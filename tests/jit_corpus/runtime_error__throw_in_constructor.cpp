// runtime_error: the constructor throws std::invalid_argument from its own width check.
struct Model : torch::nn::Module {
  static constexpr int64_t kHidden = 63;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    if (kHidden % 2 != 0) throw std::invalid_argument("hidden width must be even");
    fc1 = register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(40, kHidden)));
    fc2 = register_module("fc2", torch::nn::Linear(torch::nn::LinearOptions(kHidden, 10)));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
