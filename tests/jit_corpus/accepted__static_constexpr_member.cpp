// Near miss for static_local: a `static constexpr int kWidth` data member is allowed.
struct Model : torch::nn::Module {
  static constexpr int kWidth = 16;
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, kWidth, 3).stride(2).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(kWidth, kWidth, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(kWidth * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 16, 20]
    x = torch::relu(conv2(x));               // [B, 16, 10]
    return head(x.flatten(1));               // 160 -> 10
  }
};
