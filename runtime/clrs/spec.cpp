#include "clrs/spec.hpp"

#include <fstream>
#include <map>
#include <stdexcept>

namespace evoprompt::clrs {

const char* to_string(Stage s) {
  switch (s) {
    case Stage::input: return "input";
    case Stage::output: return "output";
    case Stage::hint: return "hint";
  }
  return "?";
}

const char* to_string(Location l) {
  switch (l) {
    case Location::node: return "node";
    case Location::edge: return "edge";
    case Location::graph: return "graph";
  }
  return "?";
}

const char* to_string(Type t) {
  switch (t) {
    case Type::scalar: return "scalar";
    case Type::categorical: return "categorical";
    case Type::mask: return "mask";
    case Type::mask_one: return "mask_one";
    case Type::pointer: return "pointer";
    case Type::should_be_permutation: return "should_be_permutation";
    case Type::permutation_pointer: return "permutation_pointer";
    case Type::soft_pointer: return "soft_pointer";
  }
  return "?";
}

Stage parse_stage(const std::string& s) {
  for (Stage v : {Stage::input, Stage::output, Stage::hint})
    if (s == to_string(v)) return v;
  throw std::invalid_argument("clrs: unknown stage '" + s + "'");
}

Location parse_location(const std::string& s) {
  for (Location v : {Location::node, Location::edge, Location::graph})
    if (s == to_string(v)) return v;
  throw std::invalid_argument("clrs: unknown location '" + s + "'");
}

Type parse_type(const std::string& s) {
  for (Type v : {Type::scalar, Type::categorical, Type::mask, Type::mask_one, Type::pointer,
                 Type::should_be_permutation, Type::permutation_pointer, Type::soft_pointer})
    if (s == to_string(v)) return v;
  throw std::invalid_argument("clrs: unknown type '" + s + "'");
}

const ProbeSpec* AlgorithmSpec::find(const std::string& probe) const {
  for (const auto& p : probes)
    if (p.name == probe) return &p;
  return nullptr;
}

namespace {

struct Row {
  const char* name;
  const char* sampler;
  const char* kwargs;
  int multiplier;
  std::vector<ProbeSpec> probes;
};

// specs.py at google-deepmind/clrs bfd042f (CLRS-30 only), with each
// algorithm's sampler class, default sampler kwargs and split multiplier.
const std::vector<Row>& table() {
  constexpr Stage I = Stage::input, O = Stage::output, H = Stage::hint;
  constexpr Location N = Location::node, E = Location::edge, G = Location::graph;
  using T = Type;
  static const std::vector<Row> rows = {
    {"articulation_points", "ArticulationSampler", R"({"p":[0.2]})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"is_cut", O, N, T::mask}, {"is_cut_h", H, N, T::mask}, {"pi_h", H, N, T::pointer}, {"color", H, N, T::categorical}, {"d", H, N, T::scalar}, {"f", H, N, T::scalar}, {"low", H, N, T::scalar}, {"child_cnt", H, N, T::scalar}, {"s_prev", H, N, T::pointer}, {"s", H, N, T::mask_one}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"s_last", H, N, T::mask_one}, {"time", H, G, T::scalar}}},
    {"activity_selector", "ActivitySampler", R"({"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"s", I, N, T::scalar}, {"f", I, N, T::scalar}, {"selected", O, N, T::mask}, {"pred_h", H, N, T::pointer}, {"selected_h", H, N, T::mask}, {"m", H, N, T::mask_one}, {"k", H, N, T::mask_one}}},
    {"bellman_ford", "BellmanFordSampler", R"({"p":[0.5],"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"s", I, N, T::mask_one}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"pi", O, N, T::pointer}, {"pi_h", H, N, T::pointer}, {"d", H, N, T::scalar}, {"msk", H, N, T::mask}}},
    {"bfs", "BfsSampler", R"({"p":[0.5]})", 1,
     {{"pos", I, N, T::scalar}, {"s", I, N, T::mask_one}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"pi", O, N, T::pointer}, {"reach_h", H, N, T::mask}, {"pi_h", H, N, T::pointer}}},
    {"binary_search", "SearchSampler", R"({"low":0.0,"high":1.0})", 64,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"target", I, G, T::scalar}, {"return", O, N, T::mask_one}, {"pred_h", H, N, T::pointer}, {"low", H, N, T::mask_one}, {"high", H, N, T::mask_one}, {"mid", H, N, T::mask_one}}},
    {"bridges", "ArticulationSampler", R"({"p":[0.2]})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"is_bridge", O, E, T::mask}, {"is_bridge_h", H, E, T::mask}, {"pi_h", H, N, T::pointer}, {"color", H, N, T::categorical}, {"d", H, N, T::scalar}, {"f", H, N, T::scalar}, {"low", H, N, T::scalar}, {"s_prev", H, N, T::pointer}, {"s", H, N, T::mask_one}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"s_last", H, N, T::mask_one}, {"time", H, G, T::scalar}}},
    {"bubble_sort", "SortingSampler", R"({"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"pred", O, N, T::should_be_permutation}, {"pred_h", H, N, T::pointer}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}}},
    {"dag_shortest_paths", "DAGPathSampler", R"({"p":[0.5],"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"s", I, N, T::mask_one}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"pi", O, N, T::pointer}, {"pi_h", H, N, T::pointer}, {"d", H, N, T::scalar}, {"mark", H, N, T::mask}, {"topo_h", H, N, T::pointer}, {"topo_head_h", H, N, T::mask_one}, {"color", H, N, T::categorical}, {"s_prev", H, N, T::pointer}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"s_last", H, N, T::mask_one}, {"phase", H, G, T::mask}}},
    {"dfs", "DfsSampler", R"({"p":[0.5]})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"pi", O, N, T::pointer}, {"pi_h", H, N, T::pointer}, {"color", H, N, T::categorical}, {"d", H, N, T::scalar}, {"f", H, N, T::scalar}, {"s_prev", H, N, T::pointer}, {"s", H, N, T::mask_one}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"s_last", H, N, T::mask_one}, {"time", H, G, T::scalar}}},
    {"dijkstra", "BellmanFordSampler", R"({"p":[0.5],"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"s", I, N, T::mask_one}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"pi", O, N, T::pointer}, {"pi_h", H, N, T::pointer}, {"d", H, N, T::scalar}, {"mark", H, N, T::mask}, {"in_queue", H, N, T::mask}, {"u", H, N, T::mask_one}}},
    {"find_maximum_subarray_kadane", "MaxSubarraySampler", R"({"low":-1.0,"high":1.0})", 32,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"start", O, N, T::mask_one}, {"end", O, N, T::mask_one}, {"pred_h", H, N, T::pointer}, {"best_low", H, N, T::mask_one}, {"best_high", H, N, T::mask_one}, {"best_sum", H, G, T::scalar}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}, {"sum", H, G, T::scalar}}},
    {"floyd_warshall", "FloydWarshallSampler", R"({"p":[0.5],"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"Pi", O, E, T::pointer}, {"Pi_h", H, E, T::pointer}, {"D", H, E, T::scalar}, {"msk", H, E, T::mask}, {"k", H, N, T::mask_one}}},
    {"graham_scan", "ConvexHullSampler", R"({"origin_x":0.0,"origin_y":0.0,"radius":2.0,"collinearity_resampling_attempts":1000,"collineararity_eps":1e-12})", 1,
     {{"pos", I, N, T::scalar}, {"x", I, N, T::scalar}, {"y", I, N, T::scalar}, {"in_hull", O, N, T::mask}, {"best", H, N, T::mask_one}, {"atans", H, N, T::scalar}, {"in_hull_h", H, N, T::mask}, {"stack_prev", H, N, T::pointer}, {"last_stack", H, N, T::mask_one}, {"i", H, N, T::mask_one}, {"phase", H, G, T::categorical}}},
    {"heapsort", "SortingSampler", R"({"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"pred", O, N, T::should_be_permutation}, {"pred_h", H, N, T::pointer}, {"parent", H, N, T::pointer}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}, {"largest", H, N, T::mask_one}, {"heap_size", H, N, T::mask_one}, {"phase", H, G, T::categorical}}},
    {"insertion_sort", "SortingSampler", R"({"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"pred", O, N, T::should_be_permutation}, {"pred_h", H, N, T::pointer}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}}},
    {"jarvis_march", "ConvexHullSampler", R"({"origin_x":0.0,"origin_y":0.0,"radius":2.0,"collinearity_resampling_attempts":1000,"collineararity_eps":1e-12})", 1,
     {{"pos", I, N, T::scalar}, {"x", I, N, T::scalar}, {"y", I, N, T::scalar}, {"in_hull", O, N, T::mask}, {"pred_h", H, N, T::pointer}, {"in_hull_h", H, N, T::mask}, {"best", H, N, T::mask_one}, {"last_point", H, N, T::mask_one}, {"endpoint", H, N, T::mask_one}, {"i", H, N, T::mask_one}, {"phase", H, G, T::categorical}}},
    {"kmp_matcher", "MatcherSampler", R"({"length_needle":null,"chars":4})", 64,
     {{"string", I, N, T::mask}, {"pos", I, N, T::scalar}, {"key", I, N, T::categorical}, {"match", O, N, T::mask_one}, {"pred_h", H, N, T::pointer}, {"pi", H, N, T::pointer}, {"is_reset", H, N, T::mask}, {"k", H, N, T::mask_one}, {"k_reset", H, G, T::mask}, {"q", H, N, T::mask_one}, {"q_reset", H, G, T::mask}, {"s", H, N, T::mask_one}, {"i", H, N, T::mask_one}, {"phase", H, G, T::mask}}},
    {"lcs_length", "LCSSampler", R"({"length_2":null,"chars":4})", 1,
     {{"string", I, N, T::mask}, {"pos", I, N, T::scalar}, {"key", I, N, T::categorical}, {"b", O, E, T::categorical}, {"pred_h", H, N, T::pointer}, {"b_h", H, E, T::categorical}, {"c", H, E, T::scalar}}},
    {"matrix_chain_order", "SortingSampler", R"({"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"p", I, N, T::scalar}, {"s", O, E, T::pointer}, {"pred_h", H, N, T::pointer}, {"m", H, E, T::scalar}, {"s_h", H, E, T::pointer}, {"msk", H, E, T::mask}}},
    {"minimum", "SortingSampler", R"({"low":0.0,"high":1.0})", 64,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"min", O, N, T::mask_one}, {"pred_h", H, N, T::pointer}, {"min_h", H, N, T::mask_one}, {"i", H, N, T::mask_one}}},
    {"mst_kruskal", "MSTSampler", R"({"p":[0.2],"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"in_mst", O, E, T::mask}, {"in_mst_h", H, E, T::mask}, {"pi", H, N, T::pointer}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"root_u", H, N, T::mask_one}, {"root_v", H, N, T::mask_one}, {"mask_u", H, N, T::mask}, {"mask_v", H, N, T::mask}, {"phase", H, G, T::categorical}}},
    {"mst_prim", "BellmanFordSampler", R"({"p":[0.5],"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"s", I, N, T::mask_one}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"pi", O, N, T::pointer}, {"pi_h", H, N, T::pointer}, {"key", H, N, T::scalar}, {"mark", H, N, T::mask}, {"in_queue", H, N, T::mask}, {"u", H, N, T::mask_one}}},
    {"naive_string_matcher", "MatcherSampler", R"({"length_needle":null,"chars":4})", 64,
     {{"string", I, N, T::mask}, {"pos", I, N, T::scalar}, {"key", I, N, T::categorical}, {"match", O, N, T::mask_one}, {"pred_h", H, N, T::pointer}, {"s", H, N, T::mask_one}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}}},
    {"optimal_bst", "OptimalBSTSampler", R"({})", 1,
     {{"pos", I, N, T::scalar}, {"p", I, N, T::scalar}, {"q", I, N, T::scalar}, {"root", O, E, T::pointer}, {"pred_h", H, N, T::pointer}, {"root_h", H, E, T::pointer}, {"e", H, E, T::scalar}, {"w", H, E, T::scalar}, {"msk", H, E, T::mask}}},
    {"quickselect", "SortingSampler", R"({"low":0.0,"high":1.0})", 64,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"median", O, N, T::mask_one}, {"pred_h", H, N, T::pointer}, {"p", H, N, T::mask_one}, {"r", H, N, T::mask_one}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}, {"i_rank", H, G, T::scalar}, {"target", H, G, T::scalar}, {"pivot", H, N, T::mask_one}}},
    {"quicksort", "SortingSampler", R"({"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"key", I, N, T::scalar}, {"pred", O, N, T::should_be_permutation}, {"pred_h", H, N, T::pointer}, {"p", H, N, T::mask_one}, {"r", H, N, T::mask_one}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}}},
    {"segments_intersect", "SegmentsSampler", R"({"low":0.0,"high":1.0})", 64,
     {{"pos", I, N, T::scalar}, {"x", I, N, T::scalar}, {"y", I, N, T::scalar}, {"intersect", O, G, T::mask}, {"i", H, N, T::mask_one}, {"j", H, N, T::mask_one}, {"k", H, N, T::mask_one}, {"dir", H, N, T::scalar}, {"on_seg", H, N, T::mask}}},
    {"strongly_connected_components", "SccSampler", R"({"k":4,"p":[0.5],"eps":0.01})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"scc_id", O, N, T::pointer}, {"scc_id_h", H, N, T::pointer}, {"A_t", H, E, T::mask}, {"color", H, N, T::categorical}, {"d", H, N, T::scalar}, {"f", H, N, T::scalar}, {"s_prev", H, N, T::pointer}, {"s", H, N, T::mask_one}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"s_last", H, N, T::mask_one}, {"time", H, G, T::scalar}, {"phase", H, G, T::mask}}},
    {"task_scheduling", "TaskSampler", R"({"max_deadline":null,"low":0.0,"high":1.0})", 1,
     {{"pos", I, N, T::scalar}, {"d", I, N, T::scalar}, {"w", I, N, T::scalar}, {"selected", O, N, T::mask}, {"pred_h", H, N, T::pointer}, {"selected_h", H, N, T::mask}, {"i", H, N, T::mask_one}, {"t", H, G, T::scalar}}},
    {"topological_sort", "TopoSampler", R"({"p":[0.5]})", 1,
     {{"pos", I, N, T::scalar}, {"A", I, E, T::scalar}, {"adj", I, E, T::mask}, {"topo", O, N, T::pointer}, {"topo_head", O, N, T::mask_one}, {"topo_h", H, N, T::pointer}, {"topo_head_h", H, N, T::mask_one}, {"color", H, N, T::categorical}, {"s_prev", H, N, T::pointer}, {"s", H, N, T::mask_one}, {"u", H, N, T::mask_one}, {"v", H, N, T::mask_one}, {"s_last", H, N, T::mask_one}}},
  };
  return rows;
}

const std::map<std::string, AlgorithmSpec>& builtin_map() {
  static const std::map<std::string, AlgorithmSpec> specs = [] {
    std::map<std::string, AlgorithmSpec> m;
    for (const auto& r : table()) {
      AlgorithmSpec s;
      s.name = r.name;
      s.probes = r.probes;
      s.sampler_class = r.sampler;
      s.sampler_default_kwargs = nlohmann::json::parse(r.kwargs);
      s.num_samples_multiplier = r.multiplier;
      m.emplace(s.name, std::move(s));
    }
    return m;
  }();
  return specs;
}

}  // namespace

const AlgorithmSpec& builtin_spec(const std::string& algorithm) {
  const auto& m = builtin_map();
  const auto it = m.find(algorithm);
  if (it == m.end()) throw std::out_of_range("clrs: no spec for algorithm '" + algorithm + "'");
  return it->second;
}

std::vector<std::string> builtin_algorithms() {
  std::vector<std::string> names;
  for (const auto& [name, spec] : builtin_map()) names.push_back(name);
  return names;
}

const std::vector<std::string>& clrs30_algorithms() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& r : table()) v.push_back(r.name);
    return v;
  }();
  return names;
}

AlgorithmSpec spec_from_json(const std::string& algorithm, const nlohmann::json& entry) {
  AlgorithmSpec s;
  s.name = algorithm;
  for (const auto& p : entry.at("probes")) {
    s.probes.push_back({p.at("name").get<std::string>(), parse_stage(p.at("stage").get<std::string>()),
                        parse_location(p.at("location").get<std::string>()),
                        parse_type(p.at("type").get<std::string>())});
  }
  s.sampler_class = entry.value("sampler_class", "");
  s.sampler_default_kwargs = entry.value("sampler_default_kwargs", nlohmann::json::object());
  s.num_samples_multiplier = entry.value("num_samples_multiplier", 1);
  return s;
}

AlgorithmSpec load_spec(const std::string& specs_json_path, const std::string& algorithm) {
  std::ifstream in(specs_json_path);
  if (!in) throw std::runtime_error("clrs: cannot open " + specs_json_path);
  const auto doc = nlohmann::json::parse(in);
  const auto& algos = doc.at("algorithms");
  if (!algos.contains(algorithm))
    throw std::out_of_range("clrs: " + specs_json_path + " has no algorithm '" + algorithm + "'");
  return spec_from_json(algorithm, algos.at(algorithm));
}

SplitConfig clrs30_split(const std::string& split) {
  if (split == "train") return {1, 16, 1000};
  if (split == "val") return {2, 16, 32};
  if (split == "test") return {3, 64, 32};
  throw std::invalid_argument("clrs: unknown split '" + split + "' (train, val, test)");
}

std::int64_t clrs30_num_samples(const std::string& split, const std::string& algorithm) {
  const auto cfg = clrs30_split(split);
  if (split == "train") return cfg.num_samples;
  return cfg.num_samples * builtin_spec(algorithm).num_samples_multiplier;
}

double ibarz_baseline_ood(const std::string& algorithm) {
  static const std::map<std::string, double> table = {
      {"activity_selector", 95.18},
      {"articulation_points", 88.32},
      {"bellman_ford", 97.39},
      {"bfs", 99.73},
      {"binary_search", 77.58},
      {"bridges", 93.99},
      {"bubble_sort", 67.68},
      {"dag_shortest_paths", 98.19},
      {"dfs", 47.79},
      {"dijkstra", 96.05},
      {"find_maximum_subarray_kadane", 76.36},
      {"floyd_warshall", 48.52},
      {"graham_scan", 93.62},
      {"heapsort", 31.04},
      {"insertion_sort", 78.14},
      {"jarvis_march", 91.01},
      {"kmp_matcher", 19.51},
      {"lcs_length", 80.51},
      {"matrix_chain_order", 91.68},
      {"minimum", 97.78},
      {"mst_kruskal", 89.80},
      {"mst_prim", 86.39},
      {"naive_string_matcher", 78.67},
      {"optimal_bst", 73.77},
      {"quickselect", 0.47},
      {"quicksort", 64.64},
      {"segments_intersect", 97.64},
      {"strongly_connected_components", 43.43},
      {"task_scheduling", 87.25},
      {"topological_sort", 87.27}};
  const auto it = table.find(algorithm);
  if (it == table.end()) throw std::out_of_range("clrs: no baseline score for '" + algorithm + "'");
  return it->second;
}

}  // namespace evoprompt::clrs
