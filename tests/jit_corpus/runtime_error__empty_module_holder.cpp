// runtime_error: fc2 is never constructed; fc2->forward throws "Accessing empty ModuleHolder".
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    // fc2 forgotten here
  }

  torch::Tensor forward(torch::Tensor x) {
    // `fc2->` checks for an empty holder and throws; `fc2(...)` would dereference null instead.
    return fc2->forward(torch::relu(fc1(x)));
  }
};
