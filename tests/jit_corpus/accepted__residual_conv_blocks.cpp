// Conv stem plus two residual conv+BatchNorm blocks through a helper member function.
struct Model : torch::nn::Module {
  torch::nn::Conv1d stem{nullptr}, conv_a{nullptr}, conv_b{nullptr};
  torch::nn::BatchNorm1d bn_a{nullptr}, bn_b{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    stem = register_module("stem", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 24, 3).padding(1)));
    conv_a = register_module("conv_a", torch::nn::Conv1d(torch::nn::Conv1dOptions(24, 24, 3).padding(1)));
    conv_b = register_module("conv_b", torch::nn::Conv1d(torch::nn::Conv1dOptions(24, 24, 3).padding(1)));
    bn_a = register_module("bn_a", torch::nn::BatchNorm1d(24));
    bn_b = register_module("bn_b", torch::nn::BatchNorm1d(24));
    head = register_module("head", torch::nn::Linear(240, 10));
  }

  torch::Tensor residual(torch::nn::Conv1d& conv, torch::nn::BatchNorm1d& bn, const torch::Tensor& x) {
    return torch::relu(x + bn(conv(x)));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(stem(x.unsqueeze(1)));  // [B, 24, 40]
    x = residual(conv_a, bn_a, x);          // [B, 24, 40]
    x = torch::avg_pool1d(x, 2, 2);         // [B, 24, 20]
    x = residual(conv_b, bn_b, x);          // [B, 24, 20]
    x = torch::avg_pool1d(x, 2, 2);         // [B, 24, 10]
    return head(x.flatten(1));              // 240 -> 10
  }
};
