// Near miss for forbidden_call: system("rm -rf /") appears only inside comments.
// An earlier draft of this model called system("rm -rf /tmp/cache") and popen("ls", "r")
// to clean up; that was removed. /* exit(1); abort(); getenv("HOME"); */ are text only.
struct Model : torch::nn::Module {
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear head{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 16, 5).stride(2).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(16, 16, 3).stride(2).padding(1)));
    head = register_module("head", torch::nn::Linear(16 * 10, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    // no system("...") call here, just convolutions
    x = torch::relu(conv1(x.unsqueeze(1)));  // (40 + 2 - 4 - 1) / 2 + 1 = 19
    x = torch::relu(conv2(x));               // (19 + 2 - 2 - 1) / 2 + 1 = 10
    return head(x.flatten(1));               // 160 -> 10
  }
};
