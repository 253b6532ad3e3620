// Bootstrap confidence bands over search seeds (the paper's Fig. 2b): runs
// are resampled with replacement, the mean taken per x, and the band is the
// percentile interval of those means.
#pragma once

#include <cstdint>
#include <vector>

namespace evoprompt::engine {

struct BootstrapBand {
  std::vector<double> mean, lo, hi;  // one entry per x
};

// `curves[r][x]`: run r's value at x. Curves are cut to the shortest one (the
// budget every run reached). Percentiles by linear interpolation between
// order statistics; `resamples` draws from a generator seeded by `seed`.
BootstrapBand bootstrap_mean_band(const std::vector<std::vector<double>>& curves, int resamples = 2000,
                                  std::uint64_t seed = 0, double level = 0.95);

// The q-quantile (0..1) of `values`, interpolating linearly between order
// statistics (numpy's default). `values` must not be empty.
double quantile(std::vector<double> values, double q);

}  // namespace evoprompt::engine
