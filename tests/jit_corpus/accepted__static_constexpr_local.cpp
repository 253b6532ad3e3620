// Near miss for static_local: `static constexpr` / `static const` locals and a static member function are allowed.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 3).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 16, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(160, 10));
  }

  static torch::Tensor act(const torch::Tensor& t) {
    static constexpr double kSlope = 0.1;
    return torch::leaky_relu(t, kSlope);
  }

  torch::Tensor forward(torch::Tensor x) {
    static const int64_t kPool = 2;
    x = act(conv1(x.unsqueeze(1)));        // [B, 16, 40]
    x = torch::max_pool1d(x, kPool, kPool);  // [B, 16, 20]
    x = act(conv2(x));                     // [B, 16, 10]
    return head(x.flatten(1));             // 160 -> 10
  }
};
