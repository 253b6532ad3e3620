// Near miss for mutable_global: `const int` / `const double` globals are allowed.
const int kChannels = 12;
const double kDropRate = 0.05;

struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, kChannels, 5).stride(2).padding(2)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(kChannels, kChannels, 3).stride(2).padding(1)));
    drop = register_module("drop", torch::nn::Dropout(kDropRate));
    head = register_module("head", torch::nn::Linear(kChannels * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 12, 20]
    x = torch::relu(conv2(x));               // [B, 12, 10]
    return head(drop(x.flatten(1)));         // 120 -> 10
  }
};
