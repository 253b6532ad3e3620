// forbidden_call: dlopen() declared by the child via extern "C" (same signature as <dlfcn.h>) and called.
extern "C" void* dlopen(const char*, int) noexcept;

struct Model : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

  Model() {
    fc1 = register_module("fc1", torch::nn::Linear(40, 64));
    fc2 = register_module("fc2", torch::nn::Linear(64, 10));
    void* libm = dlopen("libm.so.6", 1 /* RTLD_LAZY */);
    (void)libm;
  }

  torch::Tensor forward(torch::Tensor x) {
    return fc2(torch::relu(fc1(x)));  // [B, 10]
  }
};
