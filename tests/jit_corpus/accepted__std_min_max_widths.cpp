// Channel width chosen with std::min / std::max at construction (= 20).
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    const int64_t width = std::min<int64_t>(64, std::max<int64_t>(8, 40 / 2));  // 20
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, width, 3).stride(2).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(width, width, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(width * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 20, 20]
    x = torch::relu(conv2(x));               // [B, 20, 10]
    return head(x.flatten(1));               // 200 -> 10
  }
};
