// CLRS-30 samplers: the reference samplers' random inputs, drawn from one
// numpy-legacy RandomState in the reference order, then the algorithm's
// reference execution. Sample i of a split is the i-th next() of a Sampler
// seeded with the split's seed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clrs/probes.hpp"
#include "clrs/spec.hpp"
#include "numpy_random.hpp"

namespace evoprompt::clrs {

// What one _sample_data call returns, by kind.
struct SampledData {
  std::vector<std::vector<double>> sequences;     // keys; (s, f); (xs, ys)
  std::vector<std::vector<std::int64_t>> strings;  // (haystack, needle)
  Array graph;                                    // n x n: int64 unweighted, float64 weighted
  std::int64_t source = -1;                       // graph samplers with a source
  double target = 0.0;                            // SearchSampler's x
};

// One draw of a sampler class ("SortingSampler", "BfsSampler", ...), with the
// class's default kwargs overridden by `kwargs` (as JSON: p is a list).
SampledData sample_data(const std::string& sampler_class, NumpyRandom& rng, std::int64_t length,
                        const nlohmann::json& kwargs);

// The Erdos-Renyi core of the graph samplers (the reference _random_er_graph).
Array random_er_graph(NumpyRandom& rng, std::int64_t nb_nodes, double p, bool directed, bool acyclic,
                      bool weighted, double low = 0.0, double high = 1.0);

// Runs the reference execution of `algorithm` on sampled data.
Sample run_algorithm(const std::string& algorithm, const SampledData& data);

// Algorithms with a reference execution here.
std::vector<std::string> implemented_algorithms();
bool is_implemented(const std::string& algorithm);

class Sampler {
 public:
  // `kwargs` overrides the spec's default sampler kwargs (unknown keys throw).
  Sampler(const std::string& algorithm, std::uint32_t seed, std::int64_t length,
          const nlohmann::json& kwargs = nlohmann::json::object());

  Sample next();
  const AlgorithmSpec& spec() const { return *spec_; }
  NumpyRandom& rng() { return rng_; }

 private:
  std::string algorithm_;
  const AlgorithmSpec* spec_;
  NumpyRandom rng_;
  std::int64_t length_;
  nlohmann::json kwargs_;
};

// Sample `index` of a CLRS-30 split ("train", "val", "test") with default
// kwargs: draws samples 0..index from the split's seed.
Sample clrs30_sample(const std::string& algorithm, const std::string& split, std::int64_t index);

}  // namespace evoprompt::clrs
