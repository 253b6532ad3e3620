// The numpy legacy RandomState distributions the CLRS samplers use, on top
// of NumpyRandom (MT19937, rand, masked randint, permutation).
#pragma once

#include <cstdint>
#include <vector>

#include "numpy_random.hpp"

namespace evoprompt::clrs {

// uniform(low, high): low + (high - low) * rand(), one rand() per value.
double uniform(NumpyRandom& rng, double low, double high);
std::vector<double> uniform(NumpyRandom& rng, double low, double high, std::int64_t size);

// randint(low, high) (high exclusive), masked rejection; draws nothing if
// high - low == 1.
std::int64_t randint(NumpyRandom& rng, std::int64_t low, std::int64_t high);
std::vector<std::int64_t> randint(NumpyRandom& rng, std::int64_t low, std::int64_t high, std::int64_t size);

// binomial(n, p) as legacy numpy computes it for n * min(p, 1-p) <= 30:
// inversion (one rand() per value, and another in the rare restart), with
// n - inversion(n, 1-p) for p > 0.5. Throws for the BTPE range.
std::int64_t binomial(NumpyRandom& rng, std::int64_t n, double p);
// Row-major fill, as numpy does for a size tuple.
std::vector<std::int64_t> binomial(NumpyRandom& rng, std::int64_t n, double p, std::int64_t size);

}  // namespace evoprompt::clrs
