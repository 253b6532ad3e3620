// Never finishes constructing: the model is built after compiling, so the train timeout stops it.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() {
    std::int64_t width = 10;
    while (width > 0) width = width % 7 + 1;
    fc = register_module("fc", torch::nn::Linear(40, width));
  }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};
