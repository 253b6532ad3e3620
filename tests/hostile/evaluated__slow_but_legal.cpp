// Legal but slow: 200 extra 256x256 matmuls per forward. It must not be killed.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  torch::Tensor mix;
  Model() {
    fc = register_module("fc", torch::nn::Linear(40, 10));
    mix = register_buffer("mix", torch::eye(256) * 0.5);
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor m = mix;
    for (int i = 0; i < 200; ++i) m = torch::tanh(torch::matmul(m, mix));
    return fc(x) + m.mean();
  }
};
