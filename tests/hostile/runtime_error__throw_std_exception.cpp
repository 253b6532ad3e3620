// Throws a std::exception from forward.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) {
    if (x.size(1) == 40) throw std::runtime_error("hostile child says no");
    return fc(x);
  }
};
