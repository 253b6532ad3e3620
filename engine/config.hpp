// The search's settings: the paper's Table 2 and the ablation modes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace evoprompt::engine {

enum class Mode {
  evoprompting,    // the full method
  naive,           // T=1: m prompts of T*n samples, only from seeds (the same budget)
  no_tune,         // skip TRAIN (soft prompt-tuning)
  random_parents,  // P drawn at random from G instead of by GETTOP
};
Mode parse_mode(const std::string& name);  // throws std::invalid_argument
const char* to_string(Mode mode);

struct EvolutionConfig {
  int rounds = 10;         // T
  int prompts = 10;        // m, per round
  int samples = 16;        // n, per prompt
  int parents = 2;         // k, in-context examples per prompt
  int survivors = 10;      // p
  double alpha = 0.5;      // children with val error >= alpha never enter G
  std::vector<double> temperatures{0.2, 0.6, 0.8, 1.0};
  Mode mode = Mode::evoprompting;
  std::uint64_t seed = 0;
  bool repair = false;     // beyond the paper: one fix attempt per compile_error
  int max_tokens = 2048;
  double top_p = 1.0;
  // Beyond the paper: rounds in flight at once. Round t's parents are GETTOP
  // after round t - N (seeds for t < N), so round t+1's children fill the
  // slots while round t drains. 1: the paper's Algorithm 1.
  int rounds_in_flight = 1;

  // The m·n·T samples the run may draw, whatever becomes of them.
  std::int64_t budget() const { return static_cast<std::int64_t>(rounds) * prompts * samples; }
  void validate() const;  // throws std::invalid_argument naming the setting
};

nlohmann::json to_json(const EvolutionConfig& config);
EvolutionConfig evolution_config_from_json(const nlohmann::json& j);

}  // namespace evoprompt::engine
