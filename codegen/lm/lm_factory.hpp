// `--lm SPEC`: mutate | replay:FILE | openai:URL | local:DIR.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "language_model.hpp"

namespace evoprompt::codegen {

// The one parser of --lm.
struct LmSpec {
  enum class Kind { mutate, replay, openai, local };
  Kind kind = Kind::mutate;
  std::string arg;  // FILE, URL or DIR

  // Only an embedded model (local:DIR) can be prompt-tuned between rounds;
  // with the others a run is the paper's no-tuning arm.
  bool can_prompt_tune() const { return kind == Kind::local; }
};
// Throws std::invalid_argument with a one-line reason.
LmSpec parse_lm_spec(const std::string& spec);

struct LmSettings {
  std::string spec = "mutate";
  // openai:URL only
  std::string model;
  std::string api = "completions";  // or "chat"
  std::string api_key_env = "OPENAI_API_KEY";
  double timeout_s = 300;
  int max_retries = 5;
  std::int64_t max_requests = 0;      // 0: no cap
  std::int64_t max_total_tokens = 0;  // 0: no cap
  // LM requests in flight at once while a round's children evaluate (a
  // back-end with state, local:DIR, takes one at a time)
  int concurrency = 16;
  // local:DIR on a GPU: the share of the driver's cuda:0 that the embedded
  // LM may take; the workers on that GPU split the rest of its 0.9
  double gpu_memory = 0.25;
  // local:DIR only: soft prompt-tuning (the paper's settings)
  std::int64_t soft_prompt_tokens = 16;
  int tune_epochs = 5;
  std::int64_t tune_batch = 16;
  double tune_lr = 0.1;
};

nlohmann::json to_json(const LmSettings& settings);
LmSettings lm_settings_from_json(const nlohmann::json& j);

// mutate, replay:FILE and openai:URL (local:DIR needs torch: codegen/lm's
// make_local_language_model). Throws std::invalid_argument with a one-line
// reason for a bad spec, and std::runtime_error when the back-end cannot
// start (e.g. unreadable file).
std::unique_ptr<LanguageModel> make_language_model(const LmSettings& settings);

}  // namespace evoprompt::codegen
