// GRU over 10 patches of 4 samples; the final hidden state feeds a linear head.
struct Model : torch::nn::Module {
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(4, 32).batch_first(true)));
    head = register_module("head", torch::nn::Linear(32, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto seq = x.reshape({x.size(0), 10, 4});   // [B, 10, 4]
    auto h_n = std::get<1>(gru->forward(seq));  // [1, B, 32]
    return head(h_n.squeeze(0));                // 32 -> 10
  }
};
