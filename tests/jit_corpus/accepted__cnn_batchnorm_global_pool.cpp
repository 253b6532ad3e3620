// Conv + BatchNorm1d blocks, then global average pooling to a 32-d vector.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 5).padding(2)));
    bn1 = register_module("bn1", torch::nn::BatchNorm1d(16));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 32, 3).stride(2).padding(1)));
    bn2 = register_module("bn2", torch::nn::BatchNorm1d(32));
    head = register_module("head", torch::nn::Linear(32, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn1(conv1(x.unsqueeze(1))));  // [B, 16, 40]
    x = torch::avg_pool1d(x, 2, 2);               // [B, 16, 20]
    x = torch::relu(bn2(conv2(x)));               // [B, 32, 10]
    x = torch::adaptive_avg_pool1d(x, 1);         // [B, 32, 1]
    return head(x.flatten(1));                    // 32 -> 10
  }
};
