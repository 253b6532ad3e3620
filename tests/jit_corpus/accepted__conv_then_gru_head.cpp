// Patchifying conv (k4/s4: 40 -> 10) feeding a two-layer GRU; last time step -> linear.
struct Model : torch::nn::Module {
  torch::nn::Conv1d patch{nullptr};
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    patch = register_module("patch", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 8, 4).stride(4)));
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(8, 32).num_layers(2).batch_first(true)));
    head = register_module("head", torch::nn::Linear(32, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto f = torch::relu(patch(x.unsqueeze(1)));                        // [B, 8, 10]
    auto out = std::get<0>(gru->forward(f.transpose(1, 2).contiguous()));  // [B, 10, 32]
    return head(out.select(1, -1));                                     // [B, 32] -> [B, 10]
  }
};
