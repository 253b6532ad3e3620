// const_cast: a helper casts away const on a const torch::Tensor& argument.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  static torch::Tensor act(const torch::Tensor& t) {
    torch::Tensor& mutable_t = const_cast<torch::Tensor&>(t);
    return mutable_t.relu();
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(act(fc1(x)));  // [B, 10]
  }
};
