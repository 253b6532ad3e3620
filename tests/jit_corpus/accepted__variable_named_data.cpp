// Near miss for data_ptr: a variable named `data` and a helper data_norm(), no data_ptr()/data<T>() calls.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(16 * 20, 10));
  }

  static torch::Tensor data_norm(const torch::Tensor& t) {
    return t - t.mean(1, true);  // per-row centering
  }

  torch::Tensor forward(torch::Tensor x) {
    auto data = data_norm(x).unsqueeze(1);   // [B, 1, 40]
    data = torch::relu(conv(data));          // [B, 16, 20]
    return head(data.flatten(1));            // 320 -> 10
  }
};
