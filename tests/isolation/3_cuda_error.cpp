// Fails the way a child that broke the CUDA context does (the message of a
// device-side assert), on the CPU: its worker must be replaced.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) {
    if (x.size(1) == 40) throw std::runtime_error("CUDA error: an illegal memory access was encountered");
    return fc(x);
  }
};
