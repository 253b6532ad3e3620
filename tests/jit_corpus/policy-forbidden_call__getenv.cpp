// forbidden_call: std::getenv reads the environment to pick the hidden width.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    const char* wide = std::getenv("MODEL_WIDE");
    const int64_t hidden = wide != nullptr ? 128 : 64;
    fc1 = register_module("fc1", torch::nn::Linear(40, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
