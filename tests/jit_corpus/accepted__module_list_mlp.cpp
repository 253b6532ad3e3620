// MLP whose layers live in a torch::nn::ModuleList, iterated in forward.
struct Model : torch::nn::Module {
  torch::nn::ModuleList layers{nullptr};

  Model() {
    layers = register_module("layers", torch::nn::ModuleList(
        torch::nn::Linear(40, 48), torch::nn::Linear(48, 48), torch::nn::Linear(48, 10)));
  }

  torch::Tensor forward(torch::Tensor x) {
    std::size_t i = 0;
    for (const auto& layer : *layers) {
      x = layer->as<torch::nn::Linear>()->forward(x);
      if (++i < layers->size()) x = torch::relu(x);  // no activation after the last layer
    }
    return x;  // [B, 10]
  }
};
