// Smallest valid child: one Linear(40, 10) layer.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};

  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }

  torch::Tensor forward(torch::Tensor x) { return fc(x); }  // [B, 40] -> [B, 10]
};
