// not_a_module: Model derives from an unrelated base struct instead of torch::nn::Module.
struct Layered {
  virtual ~Layered() = default;
};

struct Model : Layered {
  torch::nn::Linear fc{nullptr};

  Model() { fc = torch::nn::Linear(40, 10); }

  torch::Tensor forward(torch::Tensor x) { return fc(x); }  // [B, 10]
};
