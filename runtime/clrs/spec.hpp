// CLRS-30 specs: every algorithm's probes as (name, stage, location, type),
// in the order of the reference spec dict (the order samples list them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace evoprompt::clrs {

enum class Stage { input, output, hint };
enum class Location { node, edge, graph };
enum class Type {
  scalar,
  categorical,
  mask,
  mask_one,
  pointer,
  should_be_permutation,
  permutation_pointer,
  soft_pointer,
};

const char* to_string(Stage s);
const char* to_string(Location l);
const char* to_string(Type t);
// Throw std::invalid_argument on an unknown name.
Stage parse_stage(const std::string& s);
Location parse_location(const std::string& s);
Type parse_type(const std::string& s);

struct ProbeSpec {
  std::string name;
  Stage stage = Stage::input;
  Location location = Location::node;
  Type type = Type::scalar;
  bool operator==(const ProbeSpec& o) const {
    return name == o.name && stage == o.stage && location == o.location && type == o.type;
  }
};

struct AlgorithmSpec {
  std::string name;
  std::vector<ProbeSpec> probes;  // spec order
  std::string sampler_class;      // e.g. "SortingSampler"
  nlohmann::json sampler_default_kwargs = nlohmann::json::object();
  int num_samples_multiplier = 1;  // val/test size = 32 * multiplier

  const ProbeSpec* find(const std::string& probe) const;  // nullptr if absent
};

// The specs compiled into the library (the reference specs.py at the
// benchmark's commit). Throws std::out_of_range for an algorithm without one.
const AlgorithmSpec& builtin_spec(const std::string& algorithm);
std::vector<std::string> builtin_algorithms();

// The 30 CLRS-30 algorithm names, in upstream order.
const std::vector<std::string>& clrs30_algorithms();

// One algorithm from a specs.json file (the golden data's format).
AlgorithmSpec spec_from_json(const std::string& algorithm, const nlohmann::json& entry);
AlgorithmSpec load_spec(const std::string& specs_json_path, const std::string& algorithm);

// The CLRS-30 splits: train (seed 1, n 16, 1000 samples), val (seed 2, n 16,
// 32 x multiplier), test (seed 3, n 64, 32 x multiplier).
struct SplitConfig {
  std::uint32_t seed;
  std::int64_t length;
  std::int64_t num_samples;  // before the multiplier
};
SplitConfig clrs30_split(const std::string& split);
// Triplet-GMPNN's single-task OOD (n = 64) score in percent, the mean of 10
// seeds (Ibarz et al. 2022, Table 2; datasets.md B.10). Throws
// std::out_of_range for a name outside CLRS-30.
double ibarz_baseline_ood(const std::string& algorithm);
std::int64_t clrs30_num_samples(const std::string& split, const std::string& algorithm);

}  // namespace evoprompt::clrs
