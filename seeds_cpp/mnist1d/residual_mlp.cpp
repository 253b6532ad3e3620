// Greydanus's MNIST-1D MLP (paper Listing 5): a 100-unit hidden layer, one
// residual block x + relu(W x), then a linear classifier.
// 15,210 trainable parameters.
struct Model : torch::nn::Module {
  torch::nn::Linear input{nullptr}, residual{nullptr}, output{nullptr};

  Model() {
    input = register_module("input", torch::nn::Linear(40, 100));
    residual = register_module("residual", torch::nn::Linear(100, 100));
    output = register_module("output", torch::nn::Linear(100, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(input(x));
    x = x + torch::relu(residual(x));
    return output(x);
  }
};
