// Never returns from forward: the train timeout must stop it.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) {
    std::int64_t spins = 0;
    while (x.size(0) > 0) ++spins;
    return fc(x) + static_cast<double>(spins);
  }
};
