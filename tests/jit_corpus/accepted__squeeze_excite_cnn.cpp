// CNN with a squeeze-and-excitation channel gate (sigmoid weights from pooled features).
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear se_down{nullptr}, se_up{nullptr}, head{nullptr};

  Model() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 32, 5).stride(2).padding(2)));
    se_down = register_module("se_down", torch::nn::Linear(32, 8));
    se_up = register_module("se_up", torch::nn::Linear(8, 32));
    head = register_module("head", torch::nn::Linear(320, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv(x.unsqueeze(1)));                               // [B, 32, 20]
    auto w = torch::sigmoid(se_up(torch::relu(se_down(x.mean(2)))));     // [B, 32]
    x = x * w.unsqueeze(2);                                              // gated channels
    x = torch::avg_pool1d(x, 2, 2);                                      // [B, 32, 10]
    return head(x.flatten(1));                                           // 320 -> 10
  }
};
