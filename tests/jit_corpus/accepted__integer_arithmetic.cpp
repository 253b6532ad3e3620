// Near miss for pointer_arithmetic: arithmetic on x.size(...) integers only.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(2, 16, 3).padding(1)));
    head = register_module("head", torch::nn::Linear(16 * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    const int64_t batch = x.size(0);
    const int64_t half = x.size(1) / 2;     // 20
    const int64_t pool = half / 10;         // 2
    x = x.reshape({batch, 2, half});        // [B, 2, 20]: the two halves as channels
    x = torch::relu(conv(x));               // [B, 16, 20]
    x = torch::max_pool1d(x, pool, pool);   // [B, 16, 10]
    return head(x.reshape({batch, -1}));    // 160 -> 10
  }
};
