// runtime_error: Linear(39, 10) applied to 40 input features (matmul shape mismatch in libtorch).
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};

  Model() { fc = register_module("fc", torch::nn::Linear(39, 10)); }

  torch::Tensor forward(torch::Tensor x) { return fc(x); }  // throws: mat1 [B, 40] x mat2 [39, 10]
};
