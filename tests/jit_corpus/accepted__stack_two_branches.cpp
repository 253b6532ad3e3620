// Two linear branches (signal and its reversal) combined with torch::stack.
struct Model : torch::nn::Module {
  torch::nn::Linear left{nullptr}, right{nullptr}, head{nullptr};

  Model() {
    left = register_module("left", torch::nn::Linear(40, 32));
    right = register_module("right", torch::nn::Linear(40, 32));
    head = register_module("head", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto pair = torch::stack({torch::tanh(left(x)), torch::tanh(right(x.flip({1})))}, 1);  // [B, 2, 32]
    return head(pair.flatten(1));                                                           // 64 -> 10
  }
};
