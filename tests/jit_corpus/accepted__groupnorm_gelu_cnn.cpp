// Conv blocks with GroupNorm(4 groups) and the GELU module.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::GroupNorm gn1{nullptr}, gn2{nullptr};
  torch::nn::GELU act{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 3).padding(1)));
    gn1 = register_module("gn1", torch::nn::GroupNorm(torch::nn::GroupNormOptions(4, 16)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 16, 3).padding(1)));
    gn2 = register_module("gn2", torch::nn::GroupNorm(torch::nn::GroupNormOptions(4, 16)));
    act = register_module("act", torch::nn::GELU());
    head = register_module("head", torch::nn::Linear(160, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = act(gn1(conv1(x.unsqueeze(1))));  // [B, 16, 40]
    x = act(gn2(conv2(x)));               // [B, 16, 40]
    x = torch::avg_pool1d(x, 4, 4);       // [B, 16, 10]
    return head(x.flatten(1));            // 160 -> 10
  }
};
