// Bidirectional LSTM over 8 patches of 5 samples, mean-pooled over time.
struct Model : torch::nn::Module {
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(5, 16).batch_first(true).bidirectional(true)));
    head = register_module("head", torch::nn::Linear(32, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    auto seq = x.reshape({x.size(0), 8, 5});       // [B, 8, 5]
    auto out = std::get<0>(lstm->forward(seq));    // [B, 8, 32]
    return head(out.mean(1));                      // [B, 32] -> [B, 10]
  }
};
