// Custom submodule: ConvBlockImpl + TORCH_MODULE(ConvBlock), two stride-2 blocks (40 -> 20 -> 10).
struct ConvBlockImpl : torch::nn::Module {
  torch::nn::Conv1d conv{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};

  ConvBlockImpl(int64_t in, int64_t out) {
    conv = register_module("conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 3).stride(2).padding(1)));
    bn = register_module("bn", torch::nn::BatchNorm1d(out));
  }

  torch::Tensor forward(torch::Tensor x) { return torch::relu(bn(conv(x))); }
};
TORCH_MODULE(ConvBlock);

struct Model : torch::nn::Module {
  ConvBlock block1{nullptr}, block2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    block1 = register_module("block1", ConvBlock(1, 16));   // [B, 16, 20]
    block2 = register_module("block2", ConvBlock(16, 32));  // [B, 32, 10]
    head = register_module("head", torch::nn::Linear(320, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = block1(x.unsqueeze(1));
    x = block2(x);
    return head(x.flatten(1));  // 320 -> 10
  }
};
