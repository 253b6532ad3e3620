// static_local: a non-const static data member (`static inline int instances`).
struct Model : torch::nn::Module {
  static inline int instances = 0;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    ++instances;
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
