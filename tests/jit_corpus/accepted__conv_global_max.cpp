// Two convs (k7 same, k5/s2) with global max pooling over time via Tensor::max(dim).
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 64, 7).padding(3)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(64, 64, 5).stride(2).padding(2)));
    head = register_module("head", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 64, 40]
    x = torch::relu(conv2(x));               // [B, 64, 20]
    x = std::get<0>(x.max(2));               // [B, 64]
    return head(x);                          // [B, 10]
  }
};
