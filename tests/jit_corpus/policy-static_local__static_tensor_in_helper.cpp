// static_local: a `static torch::Tensor` cache inside a helper member function.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor window(const torch::Tensor& x) {
    static torch::Tensor ones;
    if (!ones.defined()) ones = torch::ones({40});
    return x * ones.to(x.device());
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(window(x))));  // [B, 10]
  }
};
