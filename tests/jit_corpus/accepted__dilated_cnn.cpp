// Dilated convs (d=2, d=4) that keep length 40, then avg pool to 10.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 3).dilation(2).padding(2)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 16, 3).dilation(4).padding(4)));
    head = register_module("head", torch::nn::Linear(160, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // (40 + 4 - 4 - 1) + 1 = 40
    x = torch::relu(conv2(x));               // (40 + 8 - 8 - 1) + 1 = 40
    x = torch::avg_pool1d(x, 4, 4);          // [B, 16, 10]
    return head(x.flatten(1));               // 160 -> 10
  }
};
