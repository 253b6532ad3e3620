#include "bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace evoprompt::engine {

double quantile(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of no values");
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(pos));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  const double frac = pos - static_cast<double>(below);
  return values[below] + frac * (values[above] - values[below]);
}

BootstrapBand bootstrap_mean_band(const std::vector<std::vector<double>>& curves, int resamples, std::uint64_t seed,
                                  double level) {
  BootstrapBand band;
  if (curves.empty()) return band;
  if (resamples < 1) throw std::invalid_argument("bootstrap: resamples must be at least 1");
  std::size_t length = curves.front().size();
  for (const auto& c : curves) length = std::min(length, c.size());
  const std::size_t runs = curves.size();

  // One set of resampled run indices, shared by every x, so that a band is
  // the band of whole curves.
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, runs - 1);
  std::vector<std::vector<std::size_t>> draws(static_cast<std::size_t>(resamples), std::vector<std::size_t>(runs));
  for (auto& draw : draws)
    for (auto& r : draw) r = pick(rng);

  const double tail = (1.0 - level) / 2.0;
  std::vector<double> means(draws.size());
  for (std::size_t x = 0; x < length; ++x) {
    double sum = 0.0;
    for (const auto& c : curves) sum += c[x];
    band.mean.push_back(sum / static_cast<double>(runs));
    for (std::size_t b = 0; b < draws.size(); ++b) {
      double s = 0.0;
      for (const std::size_t r : draws[b]) s += curves[r][x];
      means[b] = s / static_cast<double>(runs);
    }
    band.lo.push_back(quantile(means, tail));
    band.hi.push_back(quantile(means, 1.0 - tail));
  }
  return band;
}

}  // namespace evoprompt::engine
