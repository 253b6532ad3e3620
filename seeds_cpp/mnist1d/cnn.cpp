// Greydanus's MNIST-1D CNN (paper Listing 3): three strided convolutions with
// explicit padding 1 (lengths 40 -> 19 -> 10 -> 5), then one linear layer.
// 5,210 trainable parameters.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::Linear linear{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 25, 5).stride(2).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(25, 25, 3).stride(2).padding(1)));
    conv3 = register_module("conv3", torch::nn::Conv1d(torch::nn::Conv1dOptions(25, 25, 3).stride(2).padding(1)));
    linear = register_module("linear", torch::nn::Linear(125, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x.unsqueeze(1)));  // [B, 25, 19]
    x = torch::relu(conv2(x));               // [B, 25, 10]
    x = torch::relu(conv3(x));               // [B, 25, 5]
    return linear(x.flatten(1));             // 125 -> 10
  }
};
