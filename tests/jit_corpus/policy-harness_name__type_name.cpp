// harness_name: a struct type named evoprompt_config.
struct evoprompt_config {
  int64_t hidden = 64;
};

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    const evoprompt_config cfg{};
    fc1 = register_module("fc1", torch::nn::Linear(40, cfg.hidden));
    fc2 = register_module("fc2", torch::nn::Linear(cfg.hidden, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
