// main: the child defines `int main()` as a self-test stub.
struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};

int main() {
  auto model = std::make_shared<Model>();
  auto y = model->forward(torch::randn({2, 40}));
  return y.size(1) == 10 ? 0 : 1;
}
