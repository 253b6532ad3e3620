// runtime_error: the head expects 25*5 features but the conv stack produces 25*10 (off-by-one stride plan).
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 25, 5).stride(2).padding(2)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(25, 25, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(125, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 25, 20]
    x = torch::relu(conv2(x));               // [B, 25, 10]
    return head(x.flatten(1));               // 250 features into Linear(125, 10): throws
  }
};
