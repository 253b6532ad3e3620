// mutable_global: a non-const std::vector in an anonymous namespace.
namespace {
std::vector<int64_t> widths = {40, 64, 10};
}  // namespace

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(widths[0], widths[1]));
    fc2 = register_module("fc2", torch::nn::Linear(widths[1], widths[2]));
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
