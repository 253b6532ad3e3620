// Wide two-layer strided CNN (k5/s2/p2 then k3/s2/p1): lengths 40 -> 20 -> 10.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 32, 5).stride(2).padding(2)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(32, 32, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(32 * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 32, 20]
    x = torch::relu(conv2(x));               // [B, 32, 10]
    return head(x.flatten(1));               // 320 -> 10
  }
};
