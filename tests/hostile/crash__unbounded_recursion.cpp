// Recurses until the stack overflows: the worker dies of SIGSEGV.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  std::int64_t depth(std::int64_t n) { return n < 0 ? 0 : depth(n + 1) + 1; }
  torch::Tensor forward(torch::Tensor x) { return fc(x) * static_cast<double>(depth(0)); }
};
