// Same-length convs with max pooling (40 -> 20 -> 10) and a two-layer MLP head.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc{nullptr}, out{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 3).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 32, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(320, 64));
    out = register_module("out", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 16, 40]
    x = torch::max_pool1d(x, 2, 2);          // [B, 16, 20]
    x = torch::relu(conv2(x));               // [B, 32, 20]
    x = torch::max_pool1d(x, 2, 2);          // [B, 32, 10]
    x = torch::relu(fc(x.flatten(1)));       // 320 -> 64
    return out(x);                           // 64 -> 10
  }
};
