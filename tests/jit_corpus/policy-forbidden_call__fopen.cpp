// forbidden_call: std::fopen / std::fclose (from <cstdio>, reachable through the prelude).
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
    std::FILE* log = std::fopen("/dev/null", "w");
    if (log != nullptr) std::fclose(log);
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
