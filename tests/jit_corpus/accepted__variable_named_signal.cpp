// Near miss for forbidden_call: a local variable named `signal` (the 1-D input), not a call to signal().
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(2, 16, 5).stride(2).padding(2)));
    head = register_module("head", torch::nn::Linear(160, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto signal = x.unsqueeze(1);                        // [B, 1, 40]
    auto smooth = torch::avg_pool1d(signal, 3, 1, 1);    // [B, 1, 40]
    auto features = torch::cat({signal, smooth}, 1);     // [B, 2, 40]
    features = torch::relu(conv(features));              // [B, 16, 20]
    features = torch::max_pool1d(features, 2, 2);        // [B, 16, 10]
    return head(features.flatten(1));                    // 160 -> 10
  }
};
