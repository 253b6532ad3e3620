// Bit-exact model of numpy's legacy global RandomState (MT19937).
// Generators that must reproduce Python reference data (MNIST-1D, CLRS-30)
// draw from this class, in the same order as the reference code.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace evoprompt {

class NumpyRandom {
 public:
  explicit NumpyRandom(std::uint32_t seed) { reseed(seed); }

  // np.random.seed(seed): init_genrand(seed), and clears the gauss cache.
  void reseed(std::uint32_t seed);

  std::uint32_t next_uint32() { return static_cast<std::uint32_t>(mt_()); }

  // np.random.rand(): a 53-bit double in [0, 1).
  double rand();

  // np.random.randn(): legacy polar Box-Muller with a one-value cache.
  double randn();

  // np.random.randint(0, n) and np.random.choice(n): masked rejection.
  std::int64_t randint(std::int64_t n);

  // np.random.permutation(n): Fisher-Yates from the identity.
  std::vector<std::int64_t> permutation(std::int64_t n);

 private:
  // Uniform in [0, max] by masked rejection on 32-bit words (max < 2^32).
  std::uint32_t bounded(std::uint32_t max);

  std::mt19937 mt_;
  bool has_gauss_ = false;
  double gauss_ = 0.0;
};

}  // namespace evoprompt
