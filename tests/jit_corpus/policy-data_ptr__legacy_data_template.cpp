// data_ptr: the deprecated x.data<float>() accessor (a deprecation warning, not a compile error).
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    const float* values = x.data<float>();
    (void)values;
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
