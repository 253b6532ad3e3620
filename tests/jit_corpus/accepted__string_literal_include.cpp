// Near miss for include: the text "#include <fstream>" only inside a string literal.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 96));
    fc2 = register_module("fc2", torch::nn::Linear(96, 10));
  }

  std::string describe() const { return "two-layer MLP; needs no #include <fstream> or #include \"x.h\""; }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 96] -> [B, 10]
  }
};
