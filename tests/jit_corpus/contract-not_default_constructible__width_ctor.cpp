// not_default_constructible: the only constructor is `explicit Model(int64_t width)`.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  explicit Model(int64_t width) {
    fc1 = register_module("fc1", torch::nn::Linear(40, width));
    fc2 = register_module("fc2", torch::nn::Linear(width, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
