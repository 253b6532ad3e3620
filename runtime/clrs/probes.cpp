#include "clrs/probes.hpp"

#include <cmath>
#include <stdexcept>

namespace evoprompt::clrs {

const char* to_string(DType d) { return d == DType::float64 ? "float64" : "int64"; }

std::int64_t Array::size() const {
  std::int64_t s = 1;
  for (auto d : shape) s *= d;
  return s;
}

Array scalar_f(double v) { return Array{DType::float64, {}, {v}}; }
Array scalar_i(std::int64_t v) { return Array{DType::int64, {}, {static_cast<double>(v)}}; }

Array floats(std::vector<double> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return Array{DType::float64, {n}, std::move(v)};
}

Array ints(const std::vector<std::int64_t>& v) {
  Array a{DType::int64, {static_cast<std::int64_t>(v.size())}, {}};
  a.values.assign(v.begin(), v.end());
  return a;
}

Array matrix(std::int64_t rows, std::int64_t cols, std::vector<double> v, DType dtype) {
  if (static_cast<std::int64_t>(v.size()) != rows * cols)
    throw std::invalid_argument("clrs::matrix: size does not match the shape");
  return Array{dtype, {rows, cols}, std::move(v)};
}

Array mask_one(std::int64_t i, std::int64_t n) {
  if (i < 0 || i >= n) throw std::out_of_range("clrs::mask_one: index out of range");
  Array a{DType::float64, {n}, std::vector<double>(static_cast<std::size_t>(n), 0.0)};
  a.values[static_cast<std::size_t>(i)] = 1.0;
  return a;
}

Array array_probe(const std::vector<std::int64_t>& A_pos) {
  const auto n = A_pos.size();
  Array a{DType::int64, {static_cast<std::int64_t>(n)}, std::vector<double>(n)};
  for (std::size_t i = 0; i < n; ++i) a.values[i] = static_cast<double>(i);
  for (std::size_t i = 1; i < n; ++i) a.values[A_pos[i]] = static_cast<double>(A_pos[i - 1]);
  return a;
}

Array heap_probe(const std::vector<std::int64_t>& A_pos, std::int64_t heap_size) {
  const auto n = A_pos.size();
  Array a{DType::int64, {static_cast<std::int64_t>(n)}, std::vector<double>(n)};
  for (std::size_t i = 0; i < n; ++i) a.values[i] = static_cast<double>(i);
  for (std::int64_t i = 1; i < heap_size; ++i)
    a.values[A_pos[i]] = static_cast<double>(A_pos[(i - 1) / 2]);
  return a;
}

Array array_cat(const std::vector<std::int64_t>& A, std::int64_t n) {
  const auto len = static_cast<std::int64_t>(A.size());
  Array a{DType::float64, {len, n}, std::vector<double>(static_cast<std::size_t>(len * n), 0.0)};
  for (std::int64_t i = 0; i < len; ++i) a.values[i * n + A[i]] = 1.0;
  return a;
}

Array graph_probe(const Array& A) {
  if (A.shape.size() != 2 || A.shape[0] != A.shape[1])
    throw std::invalid_argument("clrs::graph_probe: A must be square");
  const auto n = A.shape[0];
  Array a{DType::float64, {n, n}, std::vector<double>(static_cast<std::size_t>(n * n))};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const double v = A.values[i * n + j] + (i == j ? 1.0 : 0.0);
      a.values[i * n + j] = v != 0.0 ? 1.0 : 0.0;
    }
  return a;
}

Array positions(std::int64_t n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = static_cast<double>(i) * 1.0 / static_cast<double>(n);
  return floats(std::move(v));
}

Array strings_id(std::int64_t t, std::int64_t p) {
  std::vector<double> v(static_cast<std::size_t>(t + p), 0.0);
  for (std::int64_t j = 0; j < p; ++j) v[t + j] = 1.0;
  return floats(std::move(v));
}

Array strings_pos(std::int64_t t, std::int64_t p) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < t; ++i) v.push_back(static_cast<double>(i) * 1.0 / static_cast<double>(t));
  for (std::int64_t j = 0; j < p; ++j) v.push_back(static_cast<double>(j) * 1.0 / static_cast<double>(p));
  return floats(std::move(v));
}

Array strings_pred(std::int64_t t, std::int64_t p) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(t + p));
  for (std::int64_t i = 0; i < t + p; ++i) v[i] = i;
  for (std::int64_t i = 1; i < t; ++i) v[i] = i - 1;
  for (std::int64_t j = 1; j < p; ++j) v[t + j] = t + j - 1;
  return ints(v);
}

Array strings_pi(std::int64_t t, std::int64_t p, const std::vector<std::int64_t>& pi) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(t + p));
  for (std::int64_t i = 0; i < t + p; ++i) v[i] = i;
  for (std::int64_t j = 0; j < p; ++j) v[t + j] = t + pi[j];
  return ints(v);
}

Array strings_pair(const std::vector<double>& table, std::int64_t t, std::int64_t p) {
  const auto n = t + p;
  Array a{DType::float64, {n, n}, std::vector<double>(static_cast<std::size_t>(n * n), 0.0)};
  for (std::int64_t i = 0; i < t; ++i)
    for (std::int64_t j = 0; j < p; ++j) a.values[i * n + t + j] = table[i * p + j];
  return a;
}

Array strings_pair_cat(const std::vector<std::int64_t>& table, std::int64_t t, std::int64_t p,
                       std::int64_t classes) {
  const auto n = t + p, c = classes + 1;
  Array a{DType::float64, {n, n, c}, std::vector<double>(static_cast<std::size_t>(n * n * c), 0.0)};
  auto at = [&](std::int64_t i, std::int64_t j, std::int64_t k) -> double& { return a.values[(i * n + j) * c + k]; };
  for (std::int64_t i = 0; i < t; ++i)
    for (std::int64_t j = 0; j < p; ++j) at(i, t + j, table[i * p + j]) = 1.0;
  for (std::int64_t i = 0; i < t; ++i)
    for (std::int64_t j = 0; j < t; ++j) at(i, j, classes) = -1.0;
  for (std::int64_t j = 0; j < p; ++j)
    for (std::int64_t x = 0; x < n; ++x) at(t + j, x, classes) = -1.0;
  return a;
}

const DataPoint& Sample::get(const std::string& probe) const {
  for (const auto* group : {&inputs, &outputs, &hints})
    for (const auto& dp : *group)
      if (dp.name() == probe) return dp;
  throw std::out_of_range("clrs: sample of " + algorithm + " has no probe '" + probe + "'");
}

std::int64_t Sample::num_nodes() const {
  const auto& pos = get("pos").data;
  return pos.shape.empty() ? 1 : pos.shape[0];
}

ProbeRecorder::ProbeRecorder(const AlgorithmSpec& spec) : spec_(&spec), steps_(spec.probes.size()) {}

void ProbeRecorder::push(Stage stage, const ProbeValues& values) {
  std::size_t expected = 0;
  for (const auto& p : spec_->probes) expected += p.stage == stage;
  if (values.size() != expected)
    throw std::runtime_error("clrs: " + spec_->name + ": push of " + to_string(stage) + " has " +
                             std::to_string(values.size()) + " probes, the spec " + std::to_string(expected));
  for (const auto& [name, array] : values) {
    std::size_t k = 0;
    while (k < spec_->probes.size() && spec_->probes[k].name != name) ++k;
    if (k == spec_->probes.size() || spec_->probes[k].stage != stage)
      throw std::runtime_error("clrs: " + spec_->name + ": probe '" + name + "' is not a " + to_string(stage));
    steps_[k].push_back(array);
  }
}

namespace {

void validate(const std::string& algo, const ProbeSpec& p, const Array& a) {
  const bool discrete = p.type == Type::mask || p.type == Type::mask_one || p.type == Type::categorical;
  if (!discrete) return;
  for (double v : a.values)
    if (!(v == 0.0 || v == 1.0 || v == -1.0))
      throw std::runtime_error("clrs: " + algo + ": 0|1|-1 data for probe '" + p.name + "'");
  if (p.type == Type::mask) return;
  const std::size_t last = a.shape.empty() ? 1 : static_cast<std::size_t>(a.shape.back());
  for (std::size_t i = 0; i < a.values.size(); i += last) {
    double s = 0;
    for (std::size_t j = 0; j < last; ++j) s += std::fabs(a.values[i + j]);
    if (s != 1.0) throw std::runtime_error("clrs: " + algo + ": expected one-hot data for probe '" + p.name + "'");
  }
}

}  // namespace

Sample ProbeRecorder::finish() const {
  Sample s;
  s.algorithm = spec_->name;
  bool have_length = false;
  for (std::size_t k = 0; k < spec_->probes.size(); ++k) {
    const auto& p = spec_->probes[k];
    const auto& steps = steps_[k];
    DataPoint dp{p, {}};
    if (p.stage == Stage::hint) {
      if (steps.empty()) throw std::runtime_error("clrs: " + spec_->name + ": no hint steps for '" + p.name + "'");
      dp.data.dtype = DType::int64;
      dp.data.shape.push_back(static_cast<std::int64_t>(steps.size()));
      for (auto d : steps[0].shape) dp.data.shape.push_back(d);
      for (const auto& st : steps) {
        if (st.shape != steps[0].shape)
          throw std::runtime_error("clrs: " + spec_->name + ": hint '" + p.name + "' changes shape");
        if (st.dtype == DType::float64) dp.data.dtype = DType::float64;
        dp.data.values.insert(dp.data.values.end(), st.values.begin(), st.values.end());
      }
      const auto t = static_cast<std::int64_t>(steps.size());
      if (have_length && t != s.length)
        throw std::runtime_error("clrs: " + spec_->name + ": hint '" + p.name + "' has another length");
      s.length = t;
      have_length = true;
    } else {
      if (steps.size() != 1)
        throw std::runtime_error("clrs: " + spec_->name + ": " + to_string(p.stage) + " '" + p.name +
                                 "' pushed " + std::to_string(steps.size()) + " times");
      dp.data = steps[0];
    }
    validate(spec_->name, p, dp.data);
    (p.stage == Stage::input ? s.inputs : p.stage == Stage::output ? s.outputs : s.hints).push_back(std::move(dp));
  }
  return s;
}

}  // namespace evoprompt::clrs
