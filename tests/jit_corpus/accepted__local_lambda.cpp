// Local lambdas: a conv factory in the constructor and an activation in forward.
struct Model : torch::nn::Module {
  torch::nn::Conv1d c1{nullptr}, c2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    auto conv = [](int64_t in, int64_t out) {
      return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 3).stride(2).padding(1));
    };
    c1 = register_module("c1", conv(1, 16));   // 40 -> 20
    c2 = register_module("c2", conv(16, 32));  // 20 -> 10
    head = register_module("head", torch::nn::Linear(320, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto act = [](const torch::Tensor& t) { return torch::silu(t); };
    x = act(c1(x.unsqueeze(1)));  // [B, 16, 20]
    x = act(c2(x));               // [B, 32, 10]
    return head(x.flatten(1));    // 320 -> 10
  }
};
