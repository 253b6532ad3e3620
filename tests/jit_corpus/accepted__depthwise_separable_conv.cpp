// Depthwise-separable conv: a groups=16 depthwise conv followed by a 1x1 pointwise conv.
struct Model : torch::nn::Module {
  torch::nn::Conv1d stem{nullptr}, depthwise{nullptr}, pointwise{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    stem = register_module("stem", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 3).padding(1)));
    depthwise = register_module("depthwise", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 16, 5).padding(2).groups(16)));
    pointwise = register_module("pointwise", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 32, 1)));
    head = register_module("head", torch::nn::Linear(320, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(stem(x.unsqueeze(1)));  // [B, 16, 40]
    x = torch::relu(depthwise(x));          // [B, 16, 40]
    x = torch::relu(pointwise(x));          // [B, 32, 40]
    x = torch::max_pool1d(x, 4, 4);         // [B, 32, 10]
    return head(x.flatten(1));              // 320 -> 10
  }
};
