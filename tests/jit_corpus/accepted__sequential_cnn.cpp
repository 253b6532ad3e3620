// Whole network as one torch::nn::Sequential (conv, pool, conv, flatten, linear).
struct Model : torch::nn::Module {
  torch::nn::Sequential net{nullptr};

  Model() {
    net = register_module("net", torch::nn::Sequential(
        torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 8, 5).padding(2)),             // [B, 8, 40]
        torch::nn::ReLU(),
        torch::nn::MaxPool1d(torch::nn::MaxPool1dOptions(2)),                        // [B, 8, 20]
        torch::nn::Conv1d(torch::nn::Conv1dOptions(8, 16, 3).stride(2).padding(1)),  // [B, 16, 10]
        torch::nn::ReLU(),
        torch::nn::Flatten(),                                                        // [B, 160]
        torch::nn::Linear(160, 10)));
  }

  torch::Tensor forward(torch::Tensor x) { return net->forward(x.unsqueeze(1)); }
};
