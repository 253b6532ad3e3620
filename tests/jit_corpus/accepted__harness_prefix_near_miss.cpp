// Near miss for harness_name: names contain "evoprompt" but none starts with "evoprompt_".
constexpr int evoprompt2_hidden = 48;

torch::Tensor evopromptish_activation(const torch::Tensor& t) { return torch::gelu(t); }

struct MyEvopromptHead : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  MyEvopromptHead() { fc = register_module("fc", torch::nn::Linear(evoprompt2_hidden, 10)); }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};

struct Model : torch::nn::Module {
  torch::nn::Linear body{nullptr};
  std::shared_ptr<MyEvopromptHead> head;

  Model() {
    body = register_module("body", torch::nn::Linear(40, evoprompt2_hidden));
    head = register_module("head", std::make_shared<MyEvopromptHead>());
  }

  torch::Tensor forward(torch::Tensor x) {
    return head->forward(evopromptish_activation(body(x)));  // [B, 48] -> [B, 10]
  }
};
