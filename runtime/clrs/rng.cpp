#include "clrs/rng.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace evoprompt::clrs {

double uniform(NumpyRandom& rng, double low, double high) {
  const double range = high - low;
  return low + range * rng.rand();
}

std::vector<double> uniform(NumpyRandom& rng, double low, double high, std::int64_t size) {
  std::vector<double> v(static_cast<std::size_t>(size));
  for (auto& x : v) x = uniform(rng, low, high);
  return v;
}

std::int64_t randint(NumpyRandom& rng, std::int64_t low, std::int64_t high) {
  if (high <= low) throw std::invalid_argument("clrs::randint: low >= high");
  return low + rng.randint(high - low);
}

std::vector<std::int64_t> randint(NumpyRandom& rng, std::int64_t low, std::int64_t high, std::int64_t size) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(size));
  for (auto& x : v) x = randint(rng, low, high);
  return v;
}

namespace {

// numpy's random_binomial_inversion.
std::int64_t inversion(NumpyRandom& rng, std::int64_t n, double p) {
  const double q = 1.0 - p;
  const double qn = std::exp(static_cast<double>(n) * std::log(q));
  const double np = static_cast<double>(n) * p;
  const auto bound = static_cast<std::int64_t>(std::min(static_cast<double>(n), np + 10.0 * std::sqrt(np * q + 1)));
  std::int64_t x = 0;
  double px = qn;
  double u = rng.rand();
  while (u > px) {
    ++x;
    if (x > bound) {
      x = 0;
      px = qn;
      u = rng.rand();
    } else {
      u -= px;
      px = (static_cast<double>(n - x + 1) * p * px) / (static_cast<double>(x) * q);
    }
  }
  return x;
}

}  // namespace

std::int64_t binomial(NumpyRandom& rng, std::int64_t n, double p) {
  if (n < 0 || !(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("clrs::binomial: bad n or p");
  if (n == 0 || p == 0.0) return 0;
  if (p <= 0.5) {
    if (p * static_cast<double>(n) > 30.0) throw std::invalid_argument("clrs::binomial: BTPE range not implemented");
    return inversion(rng, n, p);
  }
  const double q = 1.0 - p;
  if (q * static_cast<double>(n) > 30.0) throw std::invalid_argument("clrs::binomial: BTPE range not implemented");
  return n - inversion(rng, n, q);
}

std::vector<std::int64_t> binomial(NumpyRandom& rng, std::int64_t n, double p, std::int64_t size) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(size));
  for (auto& x : v) x = binomial(rng, n, p);
  return v;
}

}  // namespace evoprompt::clrs
