// Batching: B samples as the reference training pipeline sees them
// (samplers._batch_io / _batch_hints), and the pipeline's post-processing
// (process_random_pos, process_pred_as_input, process_permutations).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clrs/probes.hpp"
#include "clrs/spec.hpp"
#include "numpy_random.hpp"

namespace evoprompt::clrs {

// A batch. Inputs and outputs are [B, ...] and keep their sampler dtype
// (numpy concatenation); hints are [T_max, B, ...] float64, zero after each
// sample's own T (numpy's float64 zero padding). Each DataPoint's spec is the
// probe's spec after any post-processing (types may change, probes move).
struct Batch {
  std::string algorithm;
  std::vector<DataPoint> inputs, outputs, hints;
  std::vector<std::int64_t> lengths;  // [B]: each sample's T

  std::int64_t size() const { return static_cast<std::int64_t>(lengths.size()); }
  std::int64_t max_steps() const;  // T_max, the hints' time axis
  // Throws std::out_of_range naming the probe.
  const DataPoint& get(const std::string& probe) const;
  DataPoint* find(const std::string& probe);
};

struct BatchOptions {
  // Pad hints to at least this many steps (the on-the-fly sampler's
  // track_max_steps); the batch's own max T if larger.
  std::int64_t min_steps = 0;
  // run.py's enforce_pred_as_input: only for pred_as_input_algorithm()s.
  bool pred_as_input = false;
  // process_permutations: true = enforce_permutations (permutation_pointer
  // + `<name>_mask`), false = plain pointer. Off = leave should_be_permutation.
  bool process_permutations = false;
  bool enforce_permutations = true;
};

// Stacks samples of one algorithm (throws if they differ in algorithm or
// node count), then applies the options' post-processing.
Batch make_batch(const std::vector<Sample>& samples, const BatchOptions& options = {});

// run.py's PRED_AS_INPUT_ALGOS restricted to CLRS-30: the 11 algorithms whose
// pred_h never changes.
bool pred_as_input_algorithm(const std::string& algorithm);

// process_pred_as_input: the pred_h hint becomes a `pred` node-pointer input
// (its step 0, appended after the other inputs). Throws if pred_h changes
// within a sample's length. No-op for a batch without pred_h.
void process_pred_as_input(Batch& batch);

// process_permutations: every node should_be_permutation probe becomes, with
// `enforce`, a [B, n, n] permutation_pointer (one-hot predecessors, the first
// node, the one pointing to itself, rewired to the last, the one nobody
// points to) followed by `<name>_mask`, a [B, n] mask_one of the first node;
// without `enforce`, a pointer of the same data.
void process_permutations(Batch& batch, bool enforce);
// The same rewrite for one [n] predecessor array: returns the n x n matrix
// (row-major) and sets `first_mask` to the n-long mask.
std::vector<double> cyclic_permutation(const std::vector<double>& pred, std::vector<double>& first_mask);

// process_random_pos: `pos` [B, N] is replaced by rng.uniform(size=(B, N))
// (B*N draws, row-major), sorted within each segment that starts at a zero of
// the old pos (one segment, or text and pattern for the string algorithms).
void randomize_pos(Batch& batch, NumpyRandom& rng);

// The spec after the post-processing (upstream dict order: `pred` takes
// pred_h's place, `<name>_mask` follows `<name>`).
AlgorithmSpec processed_spec(const AlgorithmSpec& spec, bool pred_as_input, bool process_permutations,
                             bool enforce_permutations = true);

}  // namespace evoprompt::clrs
