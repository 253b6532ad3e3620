// Near miss for reinterpret_cast/const_cast: only static_cast and Tensor::to are used.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    const int64_t length = static_cast<int64_t>(x.size(1));          // 40
    const double scale = 1.0 / static_cast<double>(length);
    x = x.to(torch::kFloat) * static_cast<float>(scale * 40.0);      // scale 1.0
    return fc2(torch::relu(fc1(x)));                                 // [B, 10]
  }
};
