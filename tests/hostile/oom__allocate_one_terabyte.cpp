// Asks libtorch for a 1 TiB tensor: the allocation fails inside the child.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor huge = torch::ones({std::int64_t{1} << 38});
    return fc(x) + huge[0];
  }
};
