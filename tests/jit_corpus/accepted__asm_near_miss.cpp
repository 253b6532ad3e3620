// Near miss for inline_asm: "asm" only in comments (asm("nop")), a string and identifiers like asm_gain.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  double asm_gain = 1.0;  // not inline assembly; __asm__ volatile("") is not used either

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  std::string name() const { return "asm(\"nop\")-free mlp"; }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x * asm_gain)));  // [B, 10]
  }
};
