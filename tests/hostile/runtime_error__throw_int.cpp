// Throws something that is not a std::exception.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) {
    if (x.size(1) == 40) throw 42;
    return fc(x);
  }
};
