// Probes: the arrays an algorithm's reference execution records, and the
// per-sample result (inputs, outputs, hints with their time axis first).
// Mirrors the reference probing module: push() per stage, finalize() stacks
// the hints, split_stages() validates and orders by the spec.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "clrs/spec.hpp"

namespace evoprompt::clrs {

// The dtype the reference sampler produced (numpy's int64 or float64).
enum class DType { float64, int64 };
const char* to_string(DType d);

// A dense C-order array; integer arrays hold exact integers as doubles.
struct Array {
  DType dtype = DType::float64;
  std::vector<std::int64_t> shape;
  std::vector<double> values;

  std::int64_t size() const;
  double operator[](std::size_t i) const { return values[i]; }
};

// Constructors.
Array scalar_f(double v);                                  // shape (), float64
Array scalar_i(std::int64_t v);                            // shape (), int64
Array floats(std::vector<double> v);                       // (n,), float64
Array ints(const std::vector<std::int64_t>& v);            // (n,), int64
Array matrix(std::int64_t rows, std::int64_t cols, std::vector<double> v, DType dtype);

// The reference probing helpers.
Array mask_one(std::int64_t i, std::int64_t n);                       // one-hot, float64
Array array_probe(const std::vector<std::int64_t>& A_pos);            // `array`: predecessor pointers, int64
Array heap_probe(const std::vector<std::int64_t>& A_pos, std::int64_t heap_size);
Array array_cat(const std::vector<std::int64_t>& A, std::int64_t n);  // (len, n) one-hot, float64
Array graph_probe(const Array& A);  // `graph`: ((A + I) != 0), float64 (self-loops always set)
Array positions(std::int64_t n);    // i / n, float64
Array strings_id(std::int64_t t, std::int64_t p);    // 0 on the text, 1 on the pattern
Array strings_pos(std::int64_t t, std::int64_t p);   // i/t then j/p
Array strings_pred(std::int64_t t, std::int64_t p);  // predecessor chains of each segment, int64
Array strings_pi(std::int64_t t, std::int64_t p, const std::vector<std::int64_t>& pi);
// A t x p table (row-major) placed in the text-rows / pattern-columns block of
// a (t+p) x (t+p) edge probe, zero elsewhere; float64.
Array strings_pair(const std::vector<double>& table, std::int64_t t, std::int64_t p);
// The same block as (t+p) x (t+p) x (classes+1) one-hot categories; every
// cell outside the block gets -1 (masked) in the extra last class.
Array strings_pair_cat(const std::vector<std::int64_t>& table, std::int64_t t, std::int64_t p,
                       std::int64_t classes);

struct DataPoint {
  ProbeSpec spec;
  Array data;  // hints: time axis first
  const std::string& name() const { return spec.name; }
};

// One sample as the reference sampler yields it (before batching).
struct Sample {
  std::string algorithm;
  std::vector<DataPoint> inputs, outputs, hints;  // each in spec order
  std::int64_t length = 0;                        // T: number of hint steps

  // Throws std::out_of_range naming the probe.
  const DataPoint& get(const std::string& probe) const;
  std::int64_t num_nodes() const;  // from `pos`
};

using ProbeValues = std::vector<std::pair<std::string, Array>>;

// Records an execution: push() one snapshot per stage (inputs and outputs
// once, hints once per step); finish() validates and returns the Sample.
class ProbeRecorder {
 public:
  explicit ProbeRecorder(const AlgorithmSpec& spec);

  // Every probe of the stage must be given exactly once (names checked).
  void push(Stage stage, const ProbeValues& values);
  void input(const ProbeValues& values) { push(Stage::input, values); }
  void hint(const ProbeValues& values) { push(Stage::hint, values); }
  void output(const ProbeValues& values) { push(Stage::output, values); }

  // Stacks hints ([T, ...], float64 if any step is), checks inputs and
  // outputs were pushed once, and checks mask / mask_one / categorical values
  // as split_stages does. Throws std::runtime_error naming the probe.
  Sample finish() const;

 private:
  const AlgorithmSpec* spec_;
  std::vector<std::vector<Array>> steps_;  // per spec probe
};

}  // namespace evoprompt::clrs
