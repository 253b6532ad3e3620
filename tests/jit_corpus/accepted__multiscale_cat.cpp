// Inception-style multi-scale convs (k3/k5/k7, same length) joined with torch::cat.
struct Model : torch::nn::Module {
  torch::nn::Conv1d branch3{nullptr}, branch5{nullptr}, branch7{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    branch3 = register_module("branch3", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 8, 3).padding(1)));
    branch5 = register_module("branch5", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 8, 5).padding(2)));
    branch7 = register_module("branch7", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 8, 7).padding(3)));
    head = register_module("head", torch::nn::Linear(24 * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = x.unsqueeze(1);  // [B, 1, 40]
    auto y = torch::cat({torch::relu(branch3(x)), torch::relu(branch5(x)), torch::relu(branch7(x))}, 1);  // [B, 24, 40]
    y = torch::avg_pool1d(y, 4, 4);  // [B, 24, 10]
    return head(y.flatten(1));       // 240 -> 10
  }
};
