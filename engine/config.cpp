#include "config.hpp"

#include <stdexcept>

namespace evoprompt::engine {

Mode parse_mode(const std::string& name) {
  if (name == "evoprompting") return Mode::evoprompting;
  if (name == "naive") return Mode::naive;
  if (name == "no-tune") return Mode::no_tune;
  if (name == "random-parents") return Mode::random_parents;
  throw std::invalid_argument("unknown mode '" + name + "' (evoprompting, naive, no-tune, random-parents)");
}

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::evoprompting: return "evoprompting";
    case Mode::naive: return "naive";
    case Mode::no_tune: return "no-tune";
    case Mode::random_parents: return "random-parents";
  }
  return "?";
}

void EvolutionConfig::validate() const {
  auto positive = [](int v, const char* name) {
    if (v < 1) throw std::invalid_argument(std::string(name) + " must be >= 1");
  };
  positive(rounds, "rounds");
  positive(prompts, "prompts");
  positive(samples, "samples");
  positive(parents, "parents");
  positive(survivors, "survivors");
  positive(max_tokens, "max_tokens");
  positive(rounds_in_flight, "rounds_in_flight");
  if (!(alpha > 0.0 && alpha <= 1.0)) throw std::invalid_argument("alpha must be in (0, 1]");
  if (temperatures.empty()) throw std::invalid_argument("temperatures must not be empty");
  for (double t : temperatures)
    if (!(t >= 0.0 && t <= 2.0)) throw std::invalid_argument("temperatures must be in [0, 2]");
  if (!(top_p > 0.0 && top_p <= 1.0)) throw std::invalid_argument("top_p must be in (0, 1]");
}

nlohmann::json to_json(const EvolutionConfig& c) {
  return {{"rounds", c.rounds},   {"prompts", c.prompts},       {"samples", c.samples},
          {"parents", c.parents}, {"survivors", c.survivors},   {"alpha", c.alpha},
          {"temperatures", c.temperatures}, {"mode", to_string(c.mode)}, {"seed", c.seed},
          {"repair", c.repair},   {"max_tokens", c.max_tokens}, {"top_p", c.top_p},
          {"rounds_in_flight", c.rounds_in_flight}};
}

EvolutionConfig evolution_config_from_json(const nlohmann::json& j) {
  EvolutionConfig c;
  c.rounds = j.at("rounds");
  c.prompts = j.at("prompts");
  c.samples = j.at("samples");
  c.parents = j.at("parents");
  c.survivors = j.at("survivors");
  c.alpha = j.at("alpha");
  c.temperatures = j.at("temperatures").get<std::vector<double>>();
  c.mode = parse_mode(j.at("mode"));
  c.seed = j.at("seed");
  c.repair = j.at("repair");
  c.max_tokens = j.at("max_tokens");
  c.top_p = j.at("top_p");
  c.rounds_in_flight = j.value("rounds_in_flight", 1);  // journals before it: the paper's one
  return c;
}

}  // namespace evoprompt::engine
