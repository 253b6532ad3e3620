// Greydanus's MNIST-1D GRU (paper Listing 4): a bidirectional GRU with hidden
// size 6 over the 40 samples, all outputs flattened (40 x 12) into one linear
// layer. As in the paper's Flax seed, the GRU weights are fixed random
// features: they are frozen, so only the head's 4,810 parameters train.
struct Model : torch::nn::Module {
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(1, 6).batch_first(true).bidirectional(true)));
    for (auto& p : gru->parameters()) p.requires_grad_(false);
    head = register_module("head", torch::nn::Linear(480, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto h = std::get<0>(gru->forward(x.unsqueeze(-1)));  // [B, 40, 12]
    return head(h.flatten(1));                            // 480 -> 10
  }
};
