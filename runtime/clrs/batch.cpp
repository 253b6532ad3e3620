#include "clrs/batch.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace evoprompt::clrs {

std::int64_t Batch::max_steps() const {
  if (hints.empty()) return 0;
  return hints.front().data.shape.empty() ? 0 : hints.front().data.shape[0];
}

const DataPoint& Batch::get(const std::string& probe) const {
  for (const auto* group : {&inputs, &outputs, &hints})
    for (const auto& dp : *group)
      if (dp.name() == probe) return dp;
  throw std::out_of_range("clrs: batch of " + algorithm + " has no probe '" + probe + "'");
}

DataPoint* Batch::find(const std::string& probe) {
  for (auto* group : {&inputs, &outputs, &hints})
    for (auto& dp : *group)
      if (dp.name() == probe) return &dp;
  return nullptr;
}

namespace {

// [B, ...]: concatenation along a new leading axis, keeping the dtype.
DataPoint stack_io(const std::vector<const DataPoint*>& dps) {
  DataPoint out{dps.front()->spec, {}};
  out.data.dtype = dps.front()->data.dtype;
  out.data.shape.push_back(static_cast<std::int64_t>(dps.size()));
  for (auto d : dps.front()->data.shape) out.data.shape.push_back(d);
  for (const auto* dp : dps) {
    if (dp->data.shape != dps.front()->data.shape)
      throw std::invalid_argument("clrs: batch: probe '" + dp->name() + "' differs in shape between samples");
    if (dp->data.dtype != out.data.dtype) out.data.dtype = DType::float64;  // numpy's promotion
    out.data.values.insert(out.data.values.end(), dp->data.values.begin(), dp->data.values.end());
  }
  return out;
}

// [T_max, B, ...] float64, zero-padded.
DataPoint stack_hints(const std::vector<const DataPoint*>& dps, std::int64_t t_max) {
  const auto& first = dps.front()->data;
  const auto B = static_cast<std::int64_t>(dps.size());
  std::int64_t inner = 1;
  for (std::size_t d = 1; d < first.shape.size(); ++d) inner *= first.shape[d];
  DataPoint out{dps.front()->spec, {}};
  out.data.dtype = DType::float64;
  out.data.shape = {t_max, B};
  for (std::size_t d = 1; d < first.shape.size(); ++d) out.data.shape.push_back(first.shape[d]);
  out.data.values.assign(static_cast<std::size_t>(t_max * B * inner), 0.0);
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& a = dps[b]->data;
    if (!std::equal(a.shape.begin() + 1, a.shape.end(), first.shape.begin() + 1, first.shape.end()))
      throw std::invalid_argument("clrs: batch: hint '" + dps[b]->name() + "' differs in shape between samples");
    for (std::int64_t t = 0; t < a.shape[0]; ++t)
      std::copy(a.values.begin() + t * inner, a.values.begin() + (t + 1) * inner,
                out.data.values.begin() + (t * B + b) * inner);
  }
  return out;
}

}  // namespace

Batch make_batch(const std::vector<Sample>& samples, const BatchOptions& options) {
  if (samples.empty()) throw std::invalid_argument("clrs: make_batch of no samples");
  Batch batch;
  batch.algorithm = samples.front().algorithm;
  std::int64_t t_max = options.min_steps;
  for (const auto& s : samples) {
    if (s.algorithm != batch.algorithm) throw std::invalid_argument("clrs: make_batch mixes algorithms");
    if (s.inputs.size() != samples.front().inputs.size() || s.outputs.size() != samples.front().outputs.size() ||
        s.hints.size() != samples.front().hints.size())
      throw std::invalid_argument("clrs: make_batch: samples with other probes");
    batch.lengths.push_back(s.length);
    t_max = std::max(t_max, s.length);
  }
  auto collect = [&](std::vector<DataPoint> Sample::*group, std::size_t k) {
    std::vector<const DataPoint*> v;
    for (const auto& s : samples) {
      const auto& dp = (s.*group)[k];
      if (dp.name() != (samples.front().*group)[k].name())
        throw std::invalid_argument("clrs: make_batch: probes in another order");
      v.push_back(&dp);
    }
    return v;
  };
  for (std::size_t k = 0; k < samples.front().inputs.size(); ++k)
    batch.inputs.push_back(stack_io(collect(&Sample::inputs, k)));
  for (std::size_t k = 0; k < samples.front().outputs.size(); ++k)
    batch.outputs.push_back(stack_io(collect(&Sample::outputs, k)));
  for (std::size_t k = 0; k < samples.front().hints.size(); ++k)
    batch.hints.push_back(stack_hints(collect(&Sample::hints, k), t_max));
  if (options.pred_as_input && pred_as_input_algorithm(batch.algorithm)) process_pred_as_input(batch);
  if (options.process_permutations) process_permutations(batch, options.enforce_permutations);
  return batch;
}

bool pred_as_input_algorithm(const std::string& algorithm) {
  static const std::vector<std::string> algos = {
      "binary_search", "minimum",      "find_maximum_subarray_kadane", "matrix_chain_order",
      "lcs_length",    "optimal_bst",  "activity_selector",            "task_scheduling",
      "naive_string_matcher", "kmp_matcher", "jarvis_march"};
  return std::find(algos.begin(), algos.end(), algorithm) != algos.end();
}

void process_pred_as_input(Batch& batch) {
  const auto it = std::find_if(batch.hints.begin(), batch.hints.end(),
                               [](const DataPoint& dp) { return dp.name() == "pred_h"; });
  if (it == batch.hints.end()) return;
  const auto& h = it->data;  // [T, B, N]
  const auto B = h.shape.at(1), N = h.shape.at(2);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 1; t < batch.lengths[b]; ++t)
      for (std::int64_t i = 0; i < N; ++i)
        if (h.values[(t * B + b) * N + i] != h.values[b * N + i])
          throw std::runtime_error("clrs: " + batch.algorithm + ": pred_h changes over time, it cannot be an input");
  DataPoint pred{ProbeSpec{"pred", Stage::input, it->spec.location, it->spec.type}, {}};
  pred.data.dtype = h.dtype;
  pred.data.shape = {B, N};
  pred.data.values.assign(h.values.begin(), h.values.begin() + B * N);
  batch.hints.erase(it);
  batch.inputs.push_back(std::move(pred));
}

std::vector<double> cyclic_permutation(const std::vector<double>& pred, std::vector<double>& first_mask) {
  const auto n = static_cast<std::int64_t>(pred.size());
  std::vector<double> P(static_cast<std::size_t>(n * n), 0.0);
  std::vector<std::int64_t> incoming(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto j = static_cast<std::int64_t>(pred[i]);
    if (j < 0 || j >= n) throw std::invalid_argument("clrs: permutation: pointer out of range");
    P[i * n + j] = 1.0;
    ++incoming[j];
  }
  // last: the first node nobody points to (argmin of the incoming counts);
  // first: the first node pointing to itself (argmax of the diagonal).
  const auto last = std::min_element(incoming.begin(), incoming.end()) - incoming.begin();
  std::int64_t first = 0;
  for (std::int64_t i = 0; i < n; ++i)
    if (P[i * n + i] > P[first * n + first]) first = i;
  P[first * n + last] += 1.0;
  P[first * n + first] -= 1.0;
  first_mask.assign(static_cast<std::size_t>(n), 0.0);
  first_mask[first] = 1.0;
  return P;
}

void process_permutations(Batch& batch, bool enforce) {
  for (auto* group : {&batch.inputs, &batch.hints, &batch.outputs}) {
    std::vector<DataPoint> out;
    for (auto& dp : *group) {
      if (dp.spec.type != Type::should_be_permutation) {
        out.push_back(std::move(dp));
        continue;
      }
      if (dp.spec.location != Location::node)
        throw std::invalid_argument("clrs: should_be_permutation probe '" + dp.name() + "' is not a node probe");
      if (!enforce) {
        dp.spec.type = Type::pointer;
        out.push_back(std::move(dp));
        continue;
      }
      // Leading axes: [B] or [T, B]; the last is the n nodes.
      const auto n = dp.data.shape.back();
      const auto rows = dp.data.size() / n;
      DataPoint perm{ProbeSpec{dp.name(), dp.spec.stage, dp.spec.location, Type::permutation_pointer}, {}};
      DataPoint mask{ProbeSpec{dp.name() + "_mask", dp.spec.stage, dp.spec.location, Type::mask_one}, {}};
      perm.data.shape = dp.data.shape;
      perm.data.shape.push_back(n);
      mask.data.shape = dp.data.shape;
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::vector<double> pred(dp.data.values.begin() + r * n, dp.data.values.begin() + (r + 1) * n);
        std::vector<double> m;
        const auto P = cyclic_permutation(pred, m);
        perm.data.values.insert(perm.data.values.end(), P.begin(), P.end());
        mask.data.values.insert(mask.data.values.end(), m.begin(), m.end());
      }
      out.push_back(std::move(perm));
      out.push_back(std::move(mask));
    }
    *group = std::move(out);
  }
}

void randomize_pos(Batch& batch, NumpyRandom& rng) {
  DataPoint* pos = nullptr;
  for (auto& dp : batch.inputs)
    if (dp.name() == "pos") pos = &dp;
  if (pos == nullptr) throw std::out_of_range("clrs: batch of " + batch.algorithm + " has no pos input");
  const auto B = pos->data.shape.at(0), N = pos->data.shape.at(1);
  std::vector<double> unsorted(static_cast<std::size_t>(B * N));
  for (auto& u : unsorted) u = rng.rand();  // uniform(0, 1): 0 + 1 * rand()
  for (std::int64_t b = 0; b < B; ++b) {
    double* row = pos->data.values.data() + b * N;
    std::vector<std::int64_t> split;
    for (std::int64_t i = 0; i < N; ++i)
      if (row[i] == 0) split.push_back(i);
    split.push_back(N);
    // Segments start at each zero; anything before the first zero is dropped
    // by the reference's concatenation, which never happens for pos = i/n.
    std::vector<double> fresh;
    for (std::size_t j = 0; j + 1 < split.size(); ++j) {
      std::vector<double> seg(unsorted.begin() + b * N + split[j], unsorted.begin() + b * N + split[j + 1]);
      std::sort(seg.begin(), seg.end());
      fresh.insert(fresh.end(), seg.begin(), seg.end());
    }
    if (static_cast<std::int64_t>(fresh.size()) != N)
      throw std::runtime_error("clrs: randomize_pos: pos does not start with 0");
    std::copy(fresh.begin(), fresh.end(), row);
  }
}

AlgorithmSpec processed_spec(const AlgorithmSpec& spec, bool pred_as_input, bool process_perms,
                             bool enforce_permutations) {
  AlgorithmSpec out = spec;
  out.probes.clear();
  const bool pred = pred_as_input && pred_as_input_algorithm(spec.name);
  for (const auto& p : spec.probes) {
    if (pred && p.name == "pred_h") {
      out.probes.push_back({"pred", Stage::input, p.location, p.type});
    } else if (process_perms && p.location == Location::node && p.type == Type::should_be_permutation) {
      if (enforce_permutations) {
        out.probes.push_back({p.name, p.stage, p.location, Type::permutation_pointer});
        out.probes.push_back({p.name + "_mask", p.stage, p.location, Type::mask_one});
      } else {
        out.probes.push_back({p.name, p.stage, p.location, Type::pointer});
      }
    } else {
      out.probes.push_back(p);
    }
  }
  return out;
}

}  // namespace evoprompt::clrs
