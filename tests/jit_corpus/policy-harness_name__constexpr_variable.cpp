// harness_name: a constexpr variable (otherwise allowed) named evoprompt_hidden.
constexpr int evoprompt_hidden = 48;

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, evoprompt_hidden));
    fc2 = register_module("fc2", torch::nn::Linear(evoprompt_hidden, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
