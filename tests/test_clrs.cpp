// CLRS-30: specs, RNG distributions, probe helpers, and golden parity of the
// samplers + reference executions against samples of the reference code
// (tests/data/clrs_golden.tar.xz, unpacked into the build tree: train samples
// 0-2 of seed 1 at n=16, test sample 0 of seed 3 at n=64).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "clrs/probes.hpp"
#include "clrs/rng.hpp"
#include "clrs/samplers.hpp"
#include "clrs/spec.hpp"
#include "npy.hpp"

using namespace evoprompt;
using namespace evoprompt::clrs;

namespace {

const std::string kDir = EVOPROMPT_CLRS_DIR;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

std::string index_string(const std::vector<std::int64_t>& shape, std::int64_t flat) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::ostringstream s;
  s << "[";
  for (std::size_t d = 0; d < idx.size(); ++d) s << (d ? ", " : "") << idx[d];
  s << "]";
  return s.str();
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::ostringstream s;
  s << "(";
  for (std::size_t d = 0; d < shape.size(); ++d) s << (d ? ", " : "") << shape[d];
  s << ")";
  return s.str();
}

struct Comparison {
  std::vector<std::string> errors;  // empty: parity
  double max_scalar_diff = 0.0;      // over float64 scalar probes
};

// Compares every probe of `got` with the golden sample in `dir`.
Comparison compare_with_golden(const Sample& got, const std::string& dir, double scalar_tol) {
  Comparison c;
  const auto meta = read_json(dir + "/meta.json");
  const auto& spec = builtin_spec(got.algorithm);
  const auto T = meta.at("trajectory_length").get<std::int64_t>();
  if (got.length != T)
    c.errors.push_back("trajectory length " + std::to_string(got.length) + ", golden " + std::to_string(T));
  if (got.num_nodes() != meta.at("num_nodes").get<std::int64_t>())
    c.errors.push_back("num_nodes " + std::to_string(got.num_nodes()));
  if (meta.at("probes").size() != spec.probes.size()) c.errors.push_back("golden has another probe count");
  for (const auto& ps : spec.probes) {
    const auto& dp = got.get(ps.name);
    const auto& pm = meta.at("probes").at(ps.name);
    const std::string where = "probe '" + ps.name + "' (" + to_string(ps.stage) + ")";
    if (pm.at("stage") != to_string(ps.stage) || pm.at("location") != to_string(ps.location) ||
        pm.at("type") != to_string(ps.type))
      c.errors.push_back(where + ": spec differs from the golden meta");
    if (pm.at("orig_dtype") != to_string(dp.data.dtype))
      c.errors.push_back(where + ": dtype " + to_string(dp.data.dtype) + ", golden " +
                         pm.at("orig_dtype").get<std::string>());
    if (!pm.at("stored").get<bool>()) {  // hints left out of the golden set: shape only
      if (pm.at("shape").get<std::vector<std::int64_t>>() != dp.data.shape)
        c.errors.push_back(where + ": shape " + shape_string(dp.data.shape) + " (not stored in the golden set)");
      continue;
    }
    const auto want = read_npy(dir + "/" + pm.at("file").get<std::string>());
    if (want.shape != dp.data.shape) {
      c.errors.push_back(where + ": shape " + shape_string(dp.data.shape) + ", golden " + shape_string(want.shape));
      continue;
    }
    const bool float_scalar = ps.type == Type::scalar && dp.data.dtype == DType::float64;
    for (std::int64_t i = 0; i < want.size(); ++i) {
      const double w = want.is_floating() ? want.f64[i] : static_cast<double>(want.i64[i]);
      const double g = dp.data.values[i];
      const double diff = std::fabs(g - w);
      if (float_scalar) c.max_scalar_diff = std::max(c.max_scalar_diff, diff);
      const bool ok = float_scalar ? diff <= scalar_tol : g == w;
      if (!ok) {
        std::ostringstream s;
        s.precision(17);
        s << where << ": first difference at " << index_string(want.shape, i) << " (flat " << i << "): got " << g
          << ", golden " << w;
        c.errors.push_back(s.str());
        break;
      }
    }
  }
  return c;
}

// Streams the split samples with the C++ sampler and compares all four golden
// samples of `algorithm`.
void check_golden(const std::string& algorithm, double scalar_tol = 0.0) {
  struct Case {
    std::string split;
    std::uint32_t seed;
    std::int64_t length;
    int count;
  };
  for (const Case& cs : {Case{"train_n16_", 1, 16, 3}, Case{"test_n64_", 3, 64, 1}}) {
    Sampler sampler(algorithm, cs.seed, cs.length);
    for (int i = 0; i < cs.count; ++i) {
      const std::string name = algorithm + "/" + cs.split + std::to_string(i);
      const auto dir = kDir + "/" + name;
      const auto meta = read_json(dir + "/meta.json");
      REQUIRE(meta.at("seed").get<std::uint32_t>() == cs.seed);
      REQUIRE(meta.at("n").get<std::int64_t>() == cs.length);
      REQUIRE(meta.at("sample_index_in_stream").get<int>() == i);
      const auto sample = sampler.next();
      const auto c = compare_with_golden(sample, dir, scalar_tol);
      std::string report;
      for (const auto& e : c.errors) report += "\n  " + name + ": " + e;
      INFO(name << " (T = " << sample.length << ", max |scalar diff| = " << c.max_scalar_diff << ")" << report);
      CHECK(c.errors.empty());
    }
  }
}

}  // namespace

TEST_CASE("clrs: the built-in specs equal specs.json for all 30 algorithms", "[clrs]") {
  const auto doc = read_json(kDir + "/specs.json");
  REQUIRE(doc.at("clrs30_algorithms").get<std::vector<std::string>>() == clrs30_algorithms());
  for (const auto& name : clrs30_algorithms()) {
    INFO(name);
    const auto want = spec_from_json(name, doc.at("algorithms").at(name));
    const auto& got = builtin_spec(name);
    CHECK(got.probes == want.probes);
    CHECK(got.sampler_class == want.sampler_class);
    CHECK(got.sampler_default_kwargs == want.sampler_default_kwargs);
    CHECK(got.num_samples_multiplier == want.num_samples_multiplier);
  }
  const auto& cfg = doc.at("clrs30_split_config");
  for (const std::string split : {"train", "val", "test"}) {
    const auto s = clrs30_split(split);
    CHECK(s.seed == cfg.at(split).at("seed").get<std::uint32_t>());
    CHECK(s.length == cfg.at(split).at("length").get<std::int64_t>());
    CHECK(s.num_samples == cfg.at(split).at("num_samples").get<std::int64_t>());
  }
  CHECK(clrs30_num_samples("test", "find_maximum_subarray_kadane") == 1024);
  CHECK(clrs30_num_samples("val", "naive_string_matcher") == 2048);
  CHECK(clrs30_num_samples("train", "naive_string_matcher") == 1000);
  CHECK(load_spec(kDir + "/specs.json", "bfs").probes == builtin_spec("bfs").probes);
  CHECK_THROWS_AS(builtin_spec("bipartite_matching"), std::out_of_range);
}

TEST_CASE("clrs: uniform, randint and binomial draw like numpy's legacy RandomState", "[clrs]") {
  NumpyRandom a(7), b(7);
  CHECK(uniform(a, -1.0, 1.0) == -1.0 + 2.0 * b.rand());
  CHECK(randint(a, 5, 9) == 5 + b.randint(4));
  // randint over one value and choice of a 1-tuple draw nothing.
  CHECK(randint(a, 3, 4) == 3);
  // binomial(1, p): one rand() per value; 1 iff U > 1 - p (p <= 0.5).
  for (double p : {0.2, 0.5}) {
    for (int i = 0; i < 200; ++i) {
      const double u = b.rand();
      const auto x = binomial(a, 1, p);
      CHECK(x == (u > std::exp(std::log(1.0 - p)) ? 1 : 0));
    }
  }
  // p > 0.5 is 1 - inversion(1, 1 - p): 1 iff U <= p (as 1 - (1 - p)).
  for (int i = 0; i < 200; ++i) {
    const double u = b.rand();
    CHECK(binomial(a, 1, 0.7) == (u > std::exp(std::log(1.0 - (1.0 - 0.7))) ? 0 : 1));
  }
  CHECK(a.next_uint32() == b.next_uint32());
  CHECK(binomial(a, 0, 0.3) == 0);
  CHECK(binomial(a, 5, 0.0) == 0);
}

TEST_CASE("clrs: probe helpers", "[clrs]") {
  // `array`: each node points to its predecessor in the order, the first to itself.
  // Order 2, 0, 1: node 2 is first (points to itself), 0 follows 2, 1 follows 0.
  CHECK(array_probe({2, 0, 1}).values == std::vector<double>{2, 0, 2});
  CHECK(array_probe({2, 0, 1}).dtype == DType::int64);
  CHECK(mask_one(1, 3).values == std::vector<double>{0, 1, 0});
  CHECK(array_cat({1, 0}, 3).shape == std::vector<std::int64_t>{2, 3});
  CHECK(array_cat({1, 0}, 3).values == std::vector<double>{0, 1, 0, 1, 0, 0});
  const auto adj = graph_probe(matrix(2, 2, {0, 0.5, 0, 0}, DType::float64));
  CHECK(adj.values == std::vector<double>{1, 1, 0, 1});
  CHECK(positions(4).values == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(strings_pos(2, 2).values == std::vector<double>{0, 0.5, 0, 0.5});
  CHECK(strings_pred(3, 2).values == std::vector<double>{0, 0, 1, 3, 3});
  CHECK(strings_id(2, 1).values == std::vector<double>{0, 0, 1});
}

TEST_CASE("clrs: ProbeRecorder checks names, stages and one-hot values", "[clrs]") {
  const auto& spec = builtin_spec("insertion_sort");
  {
    ProbeRecorder r(spec);
    CHECK_THROWS(r.input({{"pos", positions(2)}}));
    CHECK_THROWS(r.input({{"pos", positions(2)}, {"pred", positions(2)}}));
  }
  ProbeRecorder r(spec);
  r.input({{"pos", positions(2)}, {"key", floats({0.5, 0.1})}});
  r.hint({{"pred_h", array_probe({0, 1})}, {"i", mask_one(0, 2)}, {"j", mask_one(0, 2)}});
  r.hint({{"pred_h", array_probe({1, 0})}, {"i", mask_one(0, 2)}, {"j", floats({1, 1})}});
  r.output({{"pred", array_probe({1, 0})}});
  CHECK_THROWS_WITH(r.finish(), Catch::Contains("one-hot") && Catch::Contains("'j'"));
}

TEST_CASE("clrs: a sampler streams its samples from one RandomState", "[clrs]") {
  Sampler a("insertion_sort", 1, 16), b("insertion_sort", 1, 16);
  a.next();
  const auto second = a.next();
  const auto again = clrs30_sample("insertion_sort", "train", 1);
  CHECK(second.get("key").data.values == again.get("key").data.values);
  CHECK(b.next().get("key").data.values != second.get("key").data.values);
  CHECK_THROWS_AS(Sampler("insertion_sort", 1, 16, {{"nope", 1}}), std::invalid_argument);
  // Overriding a kwarg: keys in [-1, 1) instead of [0, 1) change the first draw.
  Sampler c("insertion_sort", 1, 16, {{"low", -1.0}});
  NumpyRandom fresh(1);
  CHECK(c.next().get("key").data.values[0] == -1.0 + 2.0 * fresh.rand());
}

#define CLRS_GOLDEN(algo, ...) \
  TEST_CASE("clrs golden: " #algo, "[clrs][golden]") { check_golden(#algo, ##__VA_ARGS__); }

CLRS_GOLDEN(insertion_sort)
CLRS_GOLDEN(find_maximum_subarray_kadane)
CLRS_GOLDEN(activity_selector)
CLRS_GOLDEN(naive_string_matcher)
CLRS_GOLDEN(bfs)
CLRS_GOLDEN(dfs)
CLRS_GOLDEN(floyd_warshall)
CLRS_GOLDEN(dijkstra)
CLRS_GOLDEN(segments_intersect)
CLRS_GOLDEN(mst_kruskal)
CLRS_GOLDEN(articulation_points)
// The golden x, y = r cos(theta), r sin(theta) come from numpy's vectorised
// (SVML, AVX-512) float64 cos/sin, which differ from libm by 1-2 ulp; x, y and
// the atan2 angles then agree to 4.5e-16 and every discrete probe exactly.
CLRS_GOLDEN(graham_scan, 1e-12)

// Beyond the first slice.
CLRS_GOLDEN(bubble_sort)
CLRS_GOLDEN(heapsort)
CLRS_GOLDEN(quicksort)
CLRS_GOLDEN(bridges)
CLRS_GOLDEN(topological_sort)
CLRS_GOLDEN(bellman_ford)
CLRS_GOLDEN(mst_prim)

// The remaining eleven.
CLRS_GOLDEN(binary_search)
CLRS_GOLDEN(minimum)
CLRS_GOLDEN(task_scheduling)
CLRS_GOLDEN(matrix_chain_order)
CLRS_GOLDEN(lcs_length)
CLRS_GOLDEN(optimal_bst)
CLRS_GOLDEN(quickselect)
CLRS_GOLDEN(kmp_matcher)
CLRS_GOLDEN(dag_shortest_paths)
CLRS_GOLDEN(strongly_connected_components)
CLRS_GOLDEN(jarvis_march, 1e-12)  // numpy's SVML cos/sin, as for graham_scan

namespace {

// The input probes the reference algorithm would record from sampled data,
// for eleven of the algorithms: checks the sampler
// classes' RNG streams on their own.
std::vector<std::pair<std::string, Array>> expected_inputs(const std::string& algo, const SampledData& d) {
  auto cat = [](std::vector<std::int64_t> a, const std::vector<std::int64_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return array_cat(a, 4);
  };
  const auto n = d.graph.shape.empty() ? 0 : d.graph.shape[0];
  if (algo == "bubble_sort" || algo == "heapsort" || algo == "quicksort" || algo == "quickselect" ||
      algo == "minimum")
    return {{"key", floats(d.sequences.at(0))}};
  if (algo == "matrix_chain_order") return {{"p", floats(d.sequences.at(0))}};
  if (algo == "binary_search") return {{"key", floats(d.sequences.at(0))}, {"target", scalar_f(d.target)}};
  if (algo == "optimal_bst") {  // the algorithm pads p with a trailing 0 to n + 1 nodes
    auto p = d.sequences.at(0);
    p.push_back(0.0);
    return {{"p", floats(p)}, {"q", floats(d.sequences.at(1))}};
  }
  if (algo == "task_scheduling") return {{"d", floats(d.sequences.at(0))}, {"w", floats(d.sequences.at(1))}};
  if (algo == "lcs_length" || algo == "kmp_matcher") return {{"key", cat(d.strings.at(0), d.strings.at(1))}};
  if (algo == "jarvis_march") return {{"x", floats(d.sequences.at(0))}, {"y", floats(d.sequences.at(1))}};
  if (algo == "bellman_ford" || algo == "mst_prim" || algo == "dag_shortest_paths")
    return {{"A", d.graph}, {"s", mask_one(d.source, n)}};
  return {{"A", d.graph}};  // topological_sort, bridges, strongly_connected_components
}

}  // namespace

TEST_CASE("clrs: the sampler classes draw the golden inputs, checked apart from the executions", "[clrs]") {
  const std::vector<std::string> algos = {
      "binary_search",      "dag_shortest_paths", "jarvis_march",
      "kmp_matcher",        "lcs_length",         "matrix_chain_order",
      "minimum",            "optimal_bst",        "quickselect",
      "strongly_connected_components", "task_scheduling"};
  for (const auto& algo : algos) {
    const auto& spec = builtin_spec(algo);
    const double tol = algo == "jarvis_march" ? 1e-12 : 0.0;  // numpy's SVML cos/sin, as for graham_scan
    for (const auto& [split, seed, length, count] :
         {std::tuple<std::string, std::uint32_t, std::int64_t, int>{"train_n16_", 1, 16, 3},
          std::tuple<std::string, std::uint32_t, std::int64_t, int>{"test_n64_", 3, 64, 1}}) {
      NumpyRandom rng(seed);
      for (int i = 0; i < count; ++i) {
        const auto dir = kDir + "/" + algo + "/" + split + std::to_string(i);
        const auto data = sample_data(spec.sampler_class, rng, length, spec.sampler_default_kwargs);
        for (const auto& [name, got] : expected_inputs(algo, data)) {
          INFO(dir << " probe " << name);
          const auto want = read_npy(dir + "/" + name + ".npy");
          REQUIRE(want.shape == got.shape);
          double worst = 0;
          for (std::int64_t k = 0; k < want.size(); ++k) {
            const double w = want.is_floating() ? want.f64[k] : static_cast<double>(want.i64[k]);
            worst = std::max(worst, std::fabs(w - got.values[k]));
          }
          CHECK(worst <= tol);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// A hand-checked execution.

TEST_CASE("clrs: bfs on a hand-made 5-node graph, every hint step derived by hand", "[clrs]") {
  // Undirected edges 0-1, 0-2, 1-3, 2-3, 3-4; source 0.
  //
  //   1 --- 3 --- 4
  //   |     |
  //   0 --- 2
  //
  // The reference BFS relaxes all edges (i, j) with i reached at the start of
  // the step, in row-major order, and sets pi[j] = i only while pi[j] == j
  // (and j != s): a node's parent is the lowest-index reached neighbour.
  //   step 0: reach {0}            pi [0 1 2 3 4]  (the initial state)
  //   step 1: reach {0 1 2}        pi [0 0 0 3 4]  (0 reaches 1 and 2)
  //   step 2: reach {0 1 2 3}      pi [0 0 0 1 4]  (1 reaches 3 before 2 does)
  //   step 3: reach {0 1 2 3 4}    pi [0 0 0 1 3]  (3 reaches 4)
  //   then nothing changes: the loop stops without pushing; T = 4.
  // Output pi = [0 0 0 1 3].
  const std::int64_t n = 5;
  std::vector<double> a(n * n, 0.0);
  for (const auto& [u, v] : std::vector<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}}) {
    a[u * n + v] = 1;
    a[v * n + u] = 1;
  }
  SampledData d;
  d.graph = matrix(n, n, a, DType::int64);
  d.source = 0;
  const auto s = run_algorithm("bfs", d);
  REQUIRE(s.length == 4);
  CHECK(s.get("pos").data.values == std::vector<double>{0, 1.0 / 5, 2.0 / 5, 3.0 / 5, 4.0 / 5});
  CHECK(s.get("s").data.values == std::vector<double>{1, 0, 0, 0, 0});
  CHECK(s.get("A").data.dtype == DType::int64);
  auto adj = a;
  for (int i = 0; i < n; ++i) adj[i * n + i] = 1;
  CHECK(s.get("adj").data.values == adj);
  CHECK(s.get("reach_h").data.values == std::vector<double>{1, 0, 0, 0, 0,  //
                                                            1, 1, 1, 0, 0,  //
                                                            1, 1, 1, 1, 0,  //
                                                            1, 1, 1, 1, 1});
  CHECK(s.get("pi_h").data.values == std::vector<double>{0, 1, 2, 3, 4,  //
                                                         0, 0, 0, 3, 4,  //
                                                         0, 0, 0, 1, 4,  //
                                                         0, 0, 0, 1, 3});
  CHECK(s.get("pi").data.values == std::vector<double>{0, 0, 0, 1, 3});
  CHECK(s.get("pi").data.dtype == DType::int64);
}

// ---------------------------------------------------------------------------
// Batching and the training pipeline's post-processing.

#include "clrs/batch.hpp"
#include "clrs/training.hpp"

namespace {

std::vector<Sample> first_samples(const std::string& algo, int count, std::uint32_t seed = 1, std::int64_t n = 16) {
  Sampler s(algo, seed, n);
  std::vector<Sample> v;
  for (int i = 0; i < count; ++i) v.push_back(s.next());
  return v;
}

}  // namespace

TEST_CASE("clrs batch: bfs samples stack to [B, ...] and hints pad to [T_max, B, ...] with zeros", "[clrs][batch]") {
  const auto samples = first_samples("bfs", 3);  // T = 4, 5, 4
  const auto b = make_batch(samples);
  REQUIRE(b.size() == 3);
  CHECK(b.lengths == std::vector<std::int64_t>{4, 5, 4});
  CHECK(b.max_steps() == 5);
  const auto& A = b.get("A").data;
  CHECK(A.shape == std::vector<std::int64_t>{3, 16, 16});
  CHECK(A.dtype == DType::int64);  // numpy concatenation keeps the dtype
  CHECK(b.get("pi").data.shape == std::vector<std::int64_t>{3, 16});
  CHECK(b.get("pi").data.dtype == DType::int64);
  const auto& pi_h = b.get("pi_h").data;
  CHECK(pi_h.shape == std::vector<std::int64_t>{5, 3, 16});
  CHECK(pi_h.dtype == DType::float64);  // the zero padding is float64
  for (int k = 0; k < 3; ++k) {
    const auto& own = samples[k].get("pi_h").data;
    for (std::int64_t t = 0; t < 5; ++t)
      for (int i = 0; i < 16; ++i) {
        const double want = t < samples[k].length ? own.values[t * 16 + i] : 0.0;
        CHECK(pi_h.values[(t * 3 + k) * 16 + i] == want);
      }
    for (int i = 0; i < 256; ++i) CHECK(A.values[k * 256 + i] == samples[k].get("A").data.values[i]);
  }
  // The padding rows of samples 0 and 2 (t = 4) are all zero, reach_h too.
  const auto& reach = b.get("reach_h").data;
  for (int i = 0; i < 16; ++i) {
    CHECK(reach.values[(4 * 3 + 0) * 16 + i] == 0.0);
    CHECK(reach.values[(4 * 3 + 2) * 16 + i] == 0.0);
  }
  // min_steps pads further (the on-the-fly sampler's max steps).
  BatchOptions o;
  o.min_steps = 9;
  CHECK(make_batch(samples, o).get("pi_h").data.shape == std::vector<std::int64_t>{9, 3, 16});
  // Graph hints and edge hints: jarvis_march (T 120, 137, 154), lcs_length b_h.
  CHECK(make_batch(first_samples("jarvis_march", 3)).get("phase").data.shape ==
        std::vector<std::int64_t>{154, 3, 2});
  const auto lcs = make_batch(first_samples("lcs_length", 3));  // T 9, 8, 9
  CHECK(lcs.get("b_h").data.shape == std::vector<std::int64_t>{9, 3, 16, 16, 4});
  CHECK(lcs.get("key").data.shape == std::vector<std::int64_t>{3, 16, 4});
  CHECK_THROWS(make_batch({samples[0], first_samples("dfs", 1)[0]}));
  CHECK_THROWS(make_batch({samples[0], first_samples("bfs", 1, 3, 64)[0]}));
}

TEST_CASE("clrs batch: pred_h becomes a pred input for the 11 static-pred algorithms", "[clrs][batch]") {
  BatchOptions o;
  o.pred_as_input = true;
  const auto b = make_batch(first_samples("binary_search", 2), o);
  CHECK_THROWS_AS(b.get("pred_h"), std::out_of_range);
  const auto& pred = b.get("pred");
  CHECK(pred.spec.stage == Stage::input);
  CHECK(pred.spec.type == Type::pointer);
  CHECK(b.inputs.back().name() == "pred");
  CHECK(pred.data.shape == std::vector<std::int64_t>{2, 16});
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 16; ++i) CHECK(pred.data.values[k * 16 + i] == (i == 0 ? 0 : i - 1));
  // Sorts keep their changing pred_h.
  CHECK_NOTHROW(make_batch(first_samples("insertion_sort", 2), o).get("pred_h"));
  auto sorts = make_batch(first_samples("insertion_sort", 2));
  CHECK_THROWS(process_pred_as_input(sorts));
  const auto spec = processed_spec(builtin_spec("binary_search"), true, true);
  std::vector<std::string> names;
  for (const auto& p : spec.probes) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"pos", "key", "target", "return", "pred", "low", "high", "mid"});
  CHECK(spec.find("pred")->stage == Stage::input);
  CHECK(pred_as_input_algorithm("jarvis_march"));
  CHECK(!pred_as_input_algorithm("graham_scan"));
}

TEST_CASE("clrs batch: the permutation rewrite of a sort's pred on known tiny cases", "[clrs][batch]") {
  // Predecessors [2, 1, 1]: node 1 is first (points to itself), then 2, then
  // 0; nobody points to 0, the last. Rewired: 1 points to 0.
  std::vector<double> mask;
  CHECK(cyclic_permutation({2, 1, 1}, mask) == std::vector<double>{0, 0, 1,  //
                                                                   1, 0, 0,  //
                                                                   0, 1, 0});
  CHECK(mask == std::vector<double>{0, 1, 0});
  // insertion_sort of keys 0.3 0.1 0.4 0.2: order 1, 3, 0, 2, so pred =
  // [3, 1, 0, 1] (1 first), 2 last; the cyclic pointers are [3, 2, 0, 1].
  SampledData keys;
  keys.sequences = {{0.3, 0.1, 0.4, 0.2}};
  const auto s = run_algorithm("insertion_sort", keys);
  CHECK(s.get("pred").data.values == std::vector<double>{3, 1, 0, 1});
  BatchOptions o;
  o.process_permutations = true;
  const auto b = make_batch({s}, o);
  const auto& pred = b.get("pred");
  CHECK(pred.spec.type == Type::permutation_pointer);
  CHECK(pred.data.shape == std::vector<std::int64_t>{1, 4, 4});
  CHECK(pred.data.values == std::vector<double>{0, 0, 0, 1,  //
                                                0, 0, 1, 0,  //
                                                1, 0, 0, 0,  //
                                                0, 1, 0, 0});
  const auto& pm = b.get("pred_mask");
  CHECK(pm.spec.type == Type::mask_one);
  CHECK(pm.spec.stage == Stage::output);
  CHECK(pm.data.values == std::vector<double>{0, 1, 0, 0});
  CHECK(b.outputs.size() == 2);
  // Without enforcement the output is a plain pointer.
  o.enforce_permutations = false;
  const auto plain = make_batch({s}, o);
  CHECK(plain.get("pred").spec.type == Type::pointer);
  CHECK(plain.get("pred").data.values == std::vector<double>{3, 1, 0, 1});
  // Every row of a real batch is a permutation matrix.
  o.enforce_permutations = true;
  const auto hb = make_batch(first_samples("heapsort", 3), o);
  const auto& P = hb.get("pred").data;
  for (int k = 0; k < 3; ++k)
    for (int c = 0; c < 16; ++c) {
      double row = 0, col = 0;
      for (int r = 0; r < 16; ++r) {
        row += P.values[(k * 16 + c) * 16 + r];
        col += P.values[(k * 16 + r) * 16 + c];
      }
      CHECK(row == 1.0);
      CHECK(col == 1.0);
    }
}

TEST_CASE("clrs batch: random pos sorts uniform draws within each segment", "[clrs][batch]") {
  auto b = make_batch(first_samples("lcs_length", 2));  // pos: i/8 on x, j/8 on y
  NumpyRandom rng(5), ref(5);
  randomize_pos(b, rng);
  std::vector<double> u(32);
  for (auto& x : u) x = ref.rand();
  for (int k = 0; k < 2; ++k)
    for (int seg = 0; seg < 2; ++seg) {
      std::vector<double> want(u.begin() + k * 16 + seg * 8, u.begin() + k * 16 + seg * 8 + 8);
      std::sort(want.begin(), want.end());
      for (int i = 0; i < 8; ++i) CHECK(b.get("pos").data.values[k * 16 + seg * 8 + i] == want[i]);
    }
  CHECK(rng.next_uint32() == ref.next_uint32());
}

// ---------------------------------------------------------------------------
// Splits and the on-the-fly training data.

TEST_CASE("clrs splits: the official split streams, with their sizes", "[clrs][splits]") {
  CHECK(SplitSampler("bfs", "train").size() == 1000);
  CHECK(SplitSampler("bfs", "val").size() == 32);
  CHECK(SplitSampler("minimum", "test").size() == 2048);
  CHECK(SplitSampler("find_maximum_subarray_kadane", "val").size() == 1024);
  const auto first = clrs30_dataset("bfs", "train", 3);
  REQUIRE(first.size() == 3);
  CHECK(first[2].get("A").data.values == clrs30_sample("bfs", "train", 2).get("A").data.values);
  CHECK(first[1].length == 5);  // the golden train_n16_1
  const auto test = clrs30_dataset("segments_intersect", "test");
  CHECK(test.size() == 2048);
  CHECK(test.front().num_nodes() == 4);
  SplitSampler one("bfs", "val");
  for (int i = 0; i < 32; ++i) one.next();
  CHECK(one.done());
  CHECK_THROWS_AS(one.next(), std::out_of_range);
  CHECK_THROWS_AS(SplitSampler("bfs", "dev"), std::invalid_argument);
}

TEST_CASE("clrs training: run.py's sampler seeds, lengths and kwargs (Ibarz et al.)", "[clrs][splits]") {
  // np.random.RandomState(42).randint(2**32), six times (numpy 1.24).
  const std::vector<std::uint32_t> seeds = {1608637542u, 3421126067u, 4083286876u,
                                            787846414u,  3143890026u, 3348747335u};
  const auto bfs = ibarz_setup("bfs");
  REQUIRE(bfs.train.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(bfs.train[i].seed == seeds[i]);
    CHECK(bfs.train[i].num_samples == -1);
  }
  CHECK(bfs.train[0].length == 4);
  CHECK(bfs.train[4].length == 16);
  CHECK(bfs.val.seed == seeds[5]);
  CHECK(bfs.val.length == 16);
  CHECK(bfs.val.num_samples == 64);
  const auto& p = bfs.train[0].kwargs.at("p");
  REQUIRE(p.size() == 9);
  CHECK(p[2].get<double>() == 0.30000000000000004);
  CHECK(p[8].get<double>() == 0.9);
  CHECK(!bfs.train[0].kwargs.contains("length_needle"));
  CHECK(ibarz_setup("bridges").train[0].kwargs.at("p")[8].get<double>() == 0.45);
  CHECK(ibarz_setup("insertion_sort").train[0].kwargs.empty());
  CHECK(ibarz_setup("minimum").val.num_samples == 4096);
  const auto kmp = ibarz_setup("kmp_matcher");
  REQUIRE(kmp.train.size() == 1);
  CHECK(kmp.train[0].length == 20);
  CHECK(kmp.train[0].seed == seeds[0]);
  CHECK(kmp.train[0].kwargs == nlohmann::json{{"length_needle", -8}});
  CHECK(kmp.val.seed == seeds[1]);
  CHECK(kmp.val.length == 20);
}

TEST_CASE("clrs training: the on-the-fly stream is deterministic and has run.py's shapes", "[clrs][splits]") {
  TrainingSettings st;
  st.warmup_samples = 30;  // 1000 upstream; fewer keeps the test fast
  st.batch_size = 4;
  TrainingData a("insertion_sort", st), b("insertion_sort", st);
  const std::vector<std::int64_t> lengths{4, 7, 11, 13, 16, 4};
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    const auto x = a.next_train(), y = b.next_train();
    INFO("batch " << i);
    CHECK(x.get("pos").data.shape == std::vector<std::int64_t>{4, lengths[i]});
    CHECK(x.get("pos").data.values == y.get("pos").data.values);
    CHECK(x.get("key").data.values == y.get("key").data.values);
    CHECK(x.get("pred_h").data.values == y.get("pred_h").data.values);
    CHECK(x.max_steps() >= lengths[i]);  // insertion sort: T = n
    CHECK(x.get("pred").spec.type == Type::permutation_pointer);
    CHECK(x.get("pred_mask").data.shape == std::vector<std::int64_t>{4, lengths[i]});
    const auto& pos = x.get("pos").data.values;
    for (std::int64_t k = 0; k < 4; ++k)
      for (std::int64_t j = 1; j < lengths[i]; ++j) CHECK(pos[k * lengths[i] + j - 1] <= pos[k * lengths[i] + j]);
  }
  // Another master seed changes everything.
  TrainingData fresh("insertion_sort", st);
  st.seed = 7;
  TrainingData c("insertion_sort", st);
  CHECK(c.setup().train[0].seed != fresh.setup().train[0].seed);
  CHECK(c.next_train().get("key").data.values != fresh.next_train().get("key").data.values);

  // Val: a fixed set of 64 samples at n = 16, batches drawn with replacement.
  TrainingSettings sv;
  sv.track_max_steps = false;
  sv.val_batch_size = 8;
  TrainingData v("binary_search", sv);
  CHECK(v.val_set().size() == 64 * 64);
  const auto vb = v.next_val();
  CHECK(vb.size() == 8);
  CHECK(vb.get("pred").spec.stage == Stage::input);  // pred as input
  CHECK(vb.get("key").data.shape == std::vector<std::int64_t>{8, 16});

  // The matchers: one train sampler at 20 nodes, needles of 1..8.
  TrainingSettings sm;
  sm.warmup_samples = 10;
  sm.batch_size = 16;
  TrainingData m("kmp_matcher", sm);
  for (int i = 0; i < 3; ++i) {
    const auto mb = m.next_train();
    CHECK(mb.get("key").data.shape == std::vector<std::int64_t>{16, 20, 4});
    const auto& str = mb.get("string").data.values;
    for (int k = 0; k < 16; ++k) {
      int needle = 0;
      for (int j = 0; j < 20; ++j) needle += static_cast<int>(str[k * 20 + j]);
      CHECK(needle >= 1);
      CHECK(needle <= 8);
    }
  }
}

TEST_CASE("clrs: every algorithm runs or refuses cleanly at tiny sizes", "[clrs]") {
  // Where the reference raises too: SCC's 4 communities need n >= 4, the
  // matchers' choice(h - m) an n >= 3, lcs_length two non-empty strings, and
  // quicksort of one key pushes no hint (np.stack of nothing).
  std::vector<std::string> refused;
  for (const auto& algo : clrs30_algorithms())
    for (std::int64_t n = 1; n <= 6; ++n) {
      try {
        Sampler s(algo, 9, n);
        for (int i = 0; i < 5; ++i) {
          const auto length = s.next().length;
          CHECK(length >= 1);
        }
      } catch (const std::exception& e) {
        refused.push_back(algo + "/" + std::to_string(n));
      }
    }
  CHECK(refused == std::vector<std::string>{"kmp_matcher/1", "kmp_matcher/2", "lcs_length/1", "naive_string_matcher/1",
                                            "naive_string_matcher/2", "quicksort/1",
                                            "strongly_connected_components/1", "strongly_connected_components/2",
                                            "strongly_connected_components/3"});
}
