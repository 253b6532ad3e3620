// MLP built as a std::vector<torch::nn::Linear> from a list of widths.
struct Model : torch::nn::Module {
  std::vector<torch::nn::Linear> layers;

  Model() {
    const std::vector<int64_t> dims = {40, 64, 32, 10};
    for (std::size_t i = 0; i + 1 < dims.size(); ++i) {
      layers.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(dims[i], dims[i + 1])));
    }
  }

  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      x = layers[i](x);
      if (i + 1 < layers.size()) x = torch::relu(x);
    }
    return x;  // 40 -> 64 -> 32 -> 10
  }
};
