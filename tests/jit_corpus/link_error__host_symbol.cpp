// link_error: policy-clean child that calls evoprompt::NumpyRandom::rand(), defined in the host binary, which JIT code must not reach.
// The class is redeclared here without a constructor (an aggregate), so the only external symbol
// is _ZN9evoprompt11NumpyRandom4randEv, which runtime/numpy_random.cpp defines out of line.
// `storage` is larger than the real class (std::mt19937 + cache) so that, were the link to
// succeed by mistake, the call would not write past the object.
namespace evoprompt {
struct NumpyRandom {
  double rand();
  unsigned char storage[8192];
};
}  // namespace evoprompt

struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};

  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }

  torch::Tensor forward(torch::Tensor x) {
    evoprompt::NumpyRandom rng{};
    const double jitter = rng.rand();         // unresolved at JIT link time
    return fc(x) * (1.0 + 1e-9 * jitter);     // [B, 10]
  }
};
