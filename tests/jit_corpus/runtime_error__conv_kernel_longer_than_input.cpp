// runtime_error: Conv1d kernel 41 with no padding on a length-40 input (kernel larger than input).
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 8, 41)));
    head = register_module("head", torch::nn::Linear(8, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv(x.unsqueeze(1)));  // throws: kernel size 41 > input size 40
    return head(x.flatten(1));
  }
};
