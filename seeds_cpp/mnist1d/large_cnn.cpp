// The paper's larger hand-designed CNN (Listing 2): a SAME-padded conv stem,
// two residual conv blocks between average pools, then a 256-unit MLP head.
// 91,082 trainable parameters.
struct Model : torch::nn::Module {
  torch::nn::Conv1d stem{nullptr}, block1{nullptr}, block2{nullptr};
  torch::nn::Linear hidden{nullptr}, out{nullptr};

  Model() {
    stem = register_module("stem", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 32, 3).padding(torch::kSame)));
    block1 = register_module("block1", torch::nn::Conv1d(torch::nn::Conv1dOptions(32, 32, 3).padding(torch::kSame)));
    block2 = register_module("block2", torch::nn::Conv1d(torch::nn::Conv1dOptions(32, 32, 3).padding(torch::kSame)));
    hidden = register_module("hidden", torch::nn::Linear(320, 256));
    out = register_module("out", torch::nn::Linear(256, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(stem(x.unsqueeze(1)));  // [B, 32, 40]
    x = torch::avg_pool1d(x, 2, 2);          // [B, 32, 20]
    x = x + torch::relu(block1(x));
    x = x + torch::relu(block2(x));
    x = torch::avg_pool1d(x, 2, 2);          // [B, 32, 10]
    x = torch::relu(hidden(x.flatten(1)));   // 320 -> 256
    return out(x);
  }
};
