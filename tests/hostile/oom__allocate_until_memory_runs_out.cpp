// Keeps 256 MiB blocks alive until memory runs out: the RSS watchdog kills it first.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  std::vector<torch::Tensor> hoard;
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) {
    for (;;) hoard.push_back(torch::ones({std::int64_t{1} << 26}));
    return fc(x);
  }
};
