#include "clrs/samplers.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>

#include "clrs/algorithms/algorithms.hpp"
#include "clrs/rng.hpp"

namespace evoprompt::clrs {

namespace {

double kw_double(const nlohmann::json& kw, const char* key) { return kw.at(key).get<double>(); }

// A tuple-of-probabilities kwarg: rng.choice(p) (draws nothing for one value).
double choose_p(NumpyRandom& rng, const nlohmann::json& kw) {
  const auto& p = kw.at("p");
  if (!p.is_array()) return p.get<double>();
  if (p.empty()) throw std::invalid_argument("clrs: empty p tuple");
  return p.at(static_cast<std::size_t>(rng.randint(static_cast<std::int64_t>(p.size())))).get<double>();
}

// numpy's pairwise summation (np.sum over a contiguous float64 vector).
double pairwise_sum(const double* a, std::int64_t n) {
  if (n < 8) {
    double res = 0.0;
    for (std::int64_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::int64_t i;
    for (i = 8; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + k];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

Array permute_square(const Array& m, const std::vector<std::int64_t>& perm) {
  const auto n = m.shape[0];
  Array out = m;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) out.values[i * n + j] = m.values[perm[i] * n + perm[j]];
  return out;
}

Array random_community_graph(NumpyRandom& rng, std::int64_t n, std::int64_t k, double p, double eps,
                             bool directed, bool acyclic, bool weighted) {
  if (k > n) throw std::invalid_argument("clrs: too many communities for the graph");
  Array mat{DType::float64, {n, n}, std::vector<double>(static_cast<std::size_t>(n * n), 0.0)};
  std::vector<std::int64_t> los, his;
  std::int64_t lo = 0;
  for (std::int64_t i = 0; i < k; ++i) {
    const std::int64_t hi = i == k - 1 ? n : lo + n / k;
    const auto block = random_er_graph(rng, hi - lo, p, directed, acyclic, weighted);
    const auto b = hi - lo;
    for (std::int64_t r = 0; r < b; ++r)
      for (std::int64_t c = 0; c < b; ++c) mat.values[(lo + r) * n + lo + c] = block.values[r * b + c];
    los.push_back(lo);
    his.push_back(hi);
    lo = hi;
  }
  auto toggle = random_er_graph(rng, n, eps, directed, acyclic, weighted);
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = 0; j < i; ++j)
      for (std::int64_t r = los[i]; r < his[i]; ++r)
        for (std::int64_t c = los[j]; c < his[j]; ++c) toggle.values[r * n + c] *= 0;
  for (std::int64_t i = 0; i < n * n; ++i)
    if (toggle.values[i] > 0.0) mat.values[i] = (1.0 - (mat.values[i] > 0.0 ? 1.0 : 0.0)) * toggle.values[i];
  return permute_square(mat, rng.permutation(n));
}

// The reference SegmentsSampler's quick ccw test (collinearity ignored).
bool quick_ccw(double xa, double ya, double xb, double yb, double xc, double yc) {
  return (yc - ya) * (xb - xa) > (yb - ya) * (xc - xa);
}

bool quick_intersect(const std::vector<double>& xs, const std::vector<double>& ys) {
  return quick_ccw(xs[0], ys[0], xs[2], ys[2], xs[3], ys[3]) != quick_ccw(xs[1], ys[1], xs[2], ys[2], xs[3], ys[3]) &&
         quick_ccw(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2]) != quick_ccw(xs[0], ys[0], xs[1], ys[1], xs[3], ys[3]);
}

bool any_collinear(const std::vector<double>& xs, const std::vector<double>& ys, double eps) {
  const auto n = xs.size();
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b)
      for (std::size_t c = b + 1; c < n; ++c) {
        const double v1x = xs[b] - xs[a], v1y = ys[b] - ys[a];
        const double v2x = xs[c] - xs[a], v2y = ys[c] - ys[a];
        const double cross = v1x * v2y - v1y * v2x;
        if (std::fabs(cross) < eps) return true;
      }
  return false;
}

}  // namespace

Array random_er_graph(NumpyRandom& rng, std::int64_t n, double p, bool directed, bool acyclic, bool weighted,
                      double low, double high) {
  const auto bits = binomial(rng, 1, p, n * n);
  Array mat{DType::int64, {n, n}, std::vector<double>(bits.begin(), bits.end())};
  if (!directed) {
    const auto orig = mat.values;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) mat.values[i * n + j] = orig[i * n + j] * orig[j * n + i];
  } else if (acyclic) {
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j <= i; ++j) mat.values[i * n + j] = 0;
    mat = permute_square(mat, rng.permutation(n));
  }
  if (weighted) {
    auto w = uniform(rng, low, high, n * n);
    if (!directed) {
      const auto orig = w;
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) w[i * n + j] = std::sqrt(orig[i * n + j] * orig[j * n + i] + 1e-3);
    }
    mat.dtype = DType::float64;
    for (std::int64_t i = 0; i < n * n; ++i) mat.values[i] = mat.values[i] * w[i];
  }
  return mat;
}

SampledData sample_data(const std::string& cls, NumpyRandom& rng, std::int64_t length, const nlohmann::json& kw) {
  SampledData d;
  if (cls == "SortingSampler" || cls == "MaxSubarraySampler") {
    d.sequences.push_back(uniform(rng, kw_double(kw, "low"), kw_double(kw, "high"), length));
  } else if (cls == "SearchSampler") {
    auto arr = uniform(rng, kw_double(kw, "low"), kw_double(kw, "high"), length);
    std::sort(arr.begin(), arr.end());
    d.target = uniform(rng, kw_double(kw, "low"), kw_double(kw, "high"));
    d.sequences.push_back(std::move(arr));
  } else if (cls == "ActivitySampler") {
    const auto a = uniform(rng, kw_double(kw, "low"), kw_double(kw, "high"), length);
    const auto b = uniform(rng, kw_double(kw, "low"), kw_double(kw, "high"), length);
    std::vector<double> s(a.size()), f(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      s[i] = std::min(a[i], b[i]);
      f[i] = std::max(a[i], b[i]);
    }
    d.sequences = {std::move(s), std::move(f)};
  } else if (cls == "TaskSampler") {
    const auto max_deadline = kw.at("max_deadline").is_null() ? length : kw.at("max_deadline").get<std::int64_t>();
    auto dl = randint(rng, 0, max_deadline, length);
    std::vector<double> dd(dl.begin(), dl.end());
    for (auto& x : dd) x += 1;
    d.sequences = {std::move(dd), uniform(rng, kw_double(kw, "low"), kw_double(kw, "high"), length)};
  } else if (cls == "LCSSampler") {
    std::int64_t len1 = length, len2;
    if (kw.at("length_2").is_null()) {
      len2 = length / 2;
      len1 -= len2;
    } else {
      len2 = kw.at("length_2").get<std::int64_t>();
    }
    const auto chars = kw.at("chars").get<std::int64_t>();
    d.strings.push_back(randint(rng, 0, chars, len1));
    d.strings.push_back(randint(rng, 0, chars, len2));
  } else if (cls == "OptimalBSTSampler") {
    auto arr = uniform(rng, 0.0, 1.0, 2 * length + 1);
    const double total = pairwise_sum(arr.data(), static_cast<std::int64_t>(arr.size()));
    for (auto& x : arr) x /= total;
    d.sequences.emplace_back(arr.begin(), arr.begin() + length);
    d.sequences.emplace_back(arr.begin() + length, arr.end());
  } else if (cls == "DfsSampler" || cls == "TopoSampler" || cls == "ArticulationSampler" || cls == "BfsSampler") {
    const double p = choose_p(rng, kw);
    const bool directed = cls == "DfsSampler" || cls == "TopoSampler";
    d.graph = random_er_graph(rng, length, p, directed, cls == "TopoSampler", false);
    if (cls == "BfsSampler") d.source = rng.randint(length);
  } else if (cls == "MSTSampler" || cls == "FloydWarshallSampler" || cls == "BellmanFordSampler" ||
             cls == "DAGPathSampler") {
    const double p = choose_p(rng, kw);
    const bool dag = cls == "DAGPathSampler";
    d.graph = random_er_graph(rng, length, p, dag, dag, true, kw_double(kw, "low"), kw_double(kw, "high"));
    if (cls == "BellmanFordSampler" || dag) d.source = rng.randint(length);
  } else if (cls == "SccSampler") {
    const double p = choose_p(rng, kw);
    d.graph = random_community_graph(rng, length, kw.at("k").get<std::int64_t>(), p, kw_double(kw, "eps"), true,
                                     false, false);
  } else if (cls == "MatcherSampler") {
    std::int64_t m;
    const auto& ln = kw.at("length_needle");
    if (ln.is_null()) {
      m = length < 5 ? 1 : length / 5;
    } else {
      m = ln.get<std::int64_t>();
      if (m < 0) m = randint(rng, 1, 1 - m);
    }
    const auto h = length - m;
    // numpy's choice(h - m) raises for an empty range.
    if (h - m < 1) throw std::invalid_argument("clrs: MatcherSampler: length " + std::to_string(length) +
                                               " leaves no room for a needle of " + std::to_string(m));
    const auto chars = kw.at("chars").get<std::int64_t>();
    auto needle = randint(rng, 0, chars, m);
    auto haystack = randint(rng, 0, chars, h);
    const auto embed = rng.randint(h - m);
    for (std::int64_t i = 0; i < m; ++i) haystack[embed + i] = needle[i];
    d.strings = {std::move(haystack), std::move(needle)};
  } else if (cls == "SegmentsSampler") {
    const double low = kw_double(kw, "low"), high = kw_double(kw, "high");
    const bool coin = binomial(rng, 1, 0.5) != 0;
    auto xs = uniform(rng, low, high, 4);
    auto ys = uniform(rng, low, high, 4);
    while (quick_intersect(xs, ys) != coin) {
      xs = uniform(rng, low, high, 4);
      ys = uniform(rng, low, high, 4);
    }
    d.sequences = {std::move(xs), std::move(ys)};
  } else if (cls == "ConvexHullSampler") {
    const double ox = kw_double(kw, "origin_x"), oy = kw_double(kw, "origin_y"), radius = kw_double(kw, "radius");
    const auto attempts = kw.at("collinearity_resampling_attempts").get<std::int64_t>();
    const double eps = kw_double(kw, "collineararity_eps");
    const double two_pi = 2.0 * M_PI;
    for (std::int64_t a = 0; a < attempts; ++a) {
      const auto thetas = uniform(rng, 0.0, two_pi, length);
      auto rs = uniform(rng, 0.0, 1.0, length);
      std::vector<double> xs(length), ys(length);
      for (std::int64_t i = 0; i < length; ++i) {
        const double r = radius * std::sqrt(rs[i]);
        xs[i] = r * std::cos(thetas[i]) + ox;
        ys[i] = r * std::sin(thetas[i]) + oy;
      }
      if (any_collinear(xs, ys, eps)) continue;
      d.sequences = {std::move(xs), std::move(ys)};
      return d;
    }
    throw std::runtime_error("clrs: ConvexHullSampler found no collinearity-free point set");
  } else {
    throw std::invalid_argument("clrs: unknown sampler class '" + cls + "'");
  }
  return d;
}

namespace {

using Runner = std::function<Sample(const SampledData&)>;

const std::map<std::string, Runner>& runners() {
  namespace A = algorithms;
  static const std::map<std::string, Runner> m = {
      {"insertion_sort", [](const SampledData& d) { return A::insertion_sort(d.sequences.at(0)); }},
      {"find_maximum_subarray_kadane",
       [](const SampledData& d) { return A::find_maximum_subarray_kadane(d.sequences.at(0)); }},
      {"activity_selector",
       [](const SampledData& d) { return A::activity_selector(d.sequences.at(0), d.sequences.at(1)); }},
      {"naive_string_matcher",
       [](const SampledData& d) { return A::naive_string_matcher(d.strings.at(0), d.strings.at(1)); }},
      {"bfs", [](const SampledData& d) { return A::bfs(d.graph, d.source); }},
      {"dfs", [](const SampledData& d) { return A::dfs(d.graph); }},
      {"floyd_warshall", [](const SampledData& d) { return A::floyd_warshall(d.graph); }},
      {"dijkstra", [](const SampledData& d) { return A::dijkstra(d.graph, d.source); }},
      {"segments_intersect",
       [](const SampledData& d) { return A::segments_intersect(d.sequences.at(0), d.sequences.at(1)); }},
      {"mst_kruskal", [](const SampledData& d) { return A::mst_kruskal(d.graph); }},
      {"articulation_points", [](const SampledData& d) { return A::articulation_points(d.graph); }},
      {"bubble_sort", [](const SampledData& d) { return A::bubble_sort(d.sequences.at(0)); }},
      {"heapsort", [](const SampledData& d) { return A::heapsort(d.sequences.at(0)); }},
      {"quicksort", [](const SampledData& d) { return A::quicksort(d.sequences.at(0)); }},
      {"bridges", [](const SampledData& d) { return A::bridges(d.graph); }},
      {"topological_sort", [](const SampledData& d) { return A::topological_sort(d.graph); }},
      {"bellman_ford", [](const SampledData& d) { return A::bellman_ford(d.graph, d.source); }},
      {"mst_prim", [](const SampledData& d) { return A::mst_prim(d.graph, d.source); }},
      {"graham_scan", [](const SampledData& d) { return A::graham_scan(d.sequences.at(0), d.sequences.at(1)); }},
      {"jarvis_march", [](const SampledData& d) { return A::jarvis_march(d.sequences.at(0), d.sequences.at(1)); }},
      {"minimum", [](const SampledData& d) { return A::minimum(d.sequences.at(0)); }},
      {"binary_search", [](const SampledData& d) { return A::binary_search(d.sequences.at(0), d.target); }},
      {"quickselect", [](const SampledData& d) { return A::quickselect(d.sequences.at(0)); }},
      {"task_scheduling",
       [](const SampledData& d) {
         const auto& dl = d.sequences.at(0);  // integer deadlines held as doubles
         return A::task_scheduling(std::vector<std::int64_t>(dl.begin(), dl.end()), d.sequences.at(1));
       }},
      {"matrix_chain_order", [](const SampledData& d) { return A::matrix_chain_order(d.sequences.at(0)); }},
      {"lcs_length", [](const SampledData& d) { return A::lcs_length(d.strings.at(0), d.strings.at(1)); }},
      {"optimal_bst", [](const SampledData& d) { return A::optimal_bst(d.sequences.at(0), d.sequences.at(1)); }},
      {"kmp_matcher", [](const SampledData& d) { return A::kmp_matcher(d.strings.at(0), d.strings.at(1)); }},
      {"dag_shortest_paths", [](const SampledData& d) { return A::dag_shortest_paths(d.graph, d.source); }},
      {"strongly_connected_components",
       [](const SampledData& d) { return A::strongly_connected_components(d.graph); }},
  };
  return m;
}

}  // namespace

Sample run_algorithm(const std::string& algorithm, const SampledData& data) {
  const auto& m = runners();
  const auto it = m.find(algorithm);
  if (it == m.end()) throw std::out_of_range("clrs: algorithm '" + algorithm + "' is not implemented");
  return it->second(data);
}

std::vector<std::string> implemented_algorithms() {
  std::vector<std::string> v;
  for (const auto& [name, r] : runners()) v.push_back(name);
  return v;
}

bool is_implemented(const std::string& algorithm) { return runners().count(algorithm) != 0; }

Sampler::Sampler(const std::string& algorithm, std::uint32_t seed, std::int64_t length, const nlohmann::json& kwargs)
    : algorithm_(algorithm), spec_(&builtin_spec(algorithm)), rng_(seed), length_(length) {
  if (!is_implemented(algorithm))
    throw std::out_of_range("clrs: algorithm '" + algorithm + "' is not implemented");
  kwargs_ = spec_->sampler_default_kwargs;
  for (const auto& [key, value] : kwargs.items()) {
    if (!kwargs_.contains(key))
      throw std::invalid_argument("clrs: " + spec_->sampler_class + " has no kwarg '" + key + "'");
    kwargs_[key] = value;
  }
}

Sample Sampler::next() {
  const auto data = sample_data(spec_->sampler_class, rng_, length_, kwargs_);
  return run_algorithm(algorithm_, data);
}

Sample clrs30_sample(const std::string& algorithm, const std::string& split, std::int64_t index) {
  const auto cfg = clrs30_split(split);
  Sampler sampler(algorithm, cfg.seed, cfg.length);
  for (std::int64_t i = 0; i < index; ++i) sampler.next();
  return sampler.next();
}

}  // namespace evoprompt::clrs
