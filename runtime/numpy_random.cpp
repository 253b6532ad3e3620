#include "numpy_random.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

namespace evoprompt {

void NumpyRandom::reseed(std::uint32_t seed) {
  mt_.seed(seed);  // std::mt19937 seeding is init_genrand, as in numpy
  has_gauss_ = false;
  gauss_ = 0.0;
}

double NumpyRandom::rand() {
  const std::uint32_t a = next_uint32() >> 5;
  const std::uint32_t b = next_uint32() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

double NumpyRandom::randn() {
  if (has_gauss_) {
    has_gauss_ = false;
    return gauss_;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * rand() - 1.0;
    x2 = 2.0 * rand() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * std::log(r2) / r2);
  gauss_ = f * x1;
  has_gauss_ = true;
  return f * x2;
}

std::uint32_t NumpyRandom::bounded(std::uint32_t max) {
  if (max == 0) return 0;
  std::uint32_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  std::uint32_t v;
  do {
    v = next_uint32() & mask;
  } while (v > max);
  return v;
}

std::int64_t NumpyRandom::randint(std::int64_t n) {
  if (n <= 0 || n > (std::int64_t{1} << 32))
    throw std::invalid_argument("randint: n must be in [1, 2^32]");
  return bounded(static_cast<std::uint32_t>(n - 1));
}

std::vector<std::int64_t> NumpyRandom::permutation(std::int64_t n) {
  if (n < 0) throw std::invalid_argument("permutation: n must be >= 0");
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[i] = i;
  for (std::int64_t i = n - 1; i >= 1; --i) {
    const auto j = bounded(static_cast<std::uint32_t>(i));
    std::swap(p[i], p[j]);
  }
  return p;
}

}  // namespace evoprompt
