// Fails a libtorch check inside forward (matmul of [B, 40] by [20, 10]).
struct Model : torch::nn::Module {
  torch::Tensor w;
  Model() { w = register_parameter("w", torch::zeros({20, 10})); }
  torch::Tensor forward(torch::Tensor x) { return torch::matmul(x, w); }
};
