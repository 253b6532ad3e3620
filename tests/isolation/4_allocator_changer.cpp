// Replaces the CPU allocator, which cannot be put back. (The evaluator builds
// a child twice, to count its parameters and to train it, and the second
// replacement throws: the child ends in runtime_error.) Its worker must retire.
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() {
    at::globalContext().setDefaultMobileCPUAllocator();
    fc = register_module("fc", torch::nn::Linear(40, 10));
  }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};
