#include "lm_factory.hpp"

#include <stdexcept>

#include "mutate_lm.hpp"
#include "openai_lm.hpp"
#include "replay_lm.hpp"

namespace evoprompt::codegen {

std::unique_ptr<LanguageModel> make_language_model(const LmSettings& s) {
  const auto colon = s.spec.find(':');
  const std::string kind = s.spec.substr(0, colon);
  const std::string arg = colon == std::string::npos ? "" : s.spec.substr(colon + 1);
  if (kind == "mutate") {
    if (!arg.empty()) throw std::invalid_argument("--lm mutate takes no argument");
    return std::make_unique<MutateOperator>();
  }
  if (kind == "replay") {
    if (arg.empty()) throw std::invalid_argument("--lm replay:FILE needs a JSONL file");
    return std::make_unique<ReplayLanguageModel>(arg);
  }
  if (kind == "openai") {
    if (arg.empty()) throw std::invalid_argument("--lm openai:URL needs a base URL, e.g. openai:http://127.0.0.1:8080/v1");
    OpenAiOptions o;
    o.base_url = arg;
    o.model = s.model;
    o.api = s.api;
    o.api_key_env = s.api_key_env;
    o.timeout_s = s.timeout_s;
    o.max_retries = s.max_retries;
    o.max_requests = s.max_requests;
    o.max_total_tokens = s.max_total_tokens;
    return std::make_unique<OpenAiLanguageModel>(o);
  }
  if (kind == "local")  // needs torch: built by codegen/lm (make_local_language_model)
    throw std::invalid_argument("--lm local:DIR is made by codegen/lm's make_local_language_model, not here");
  throw std::invalid_argument("unknown --lm '" + s.spec + "' (mutate, replay:FILE, openai:URL, local:DIR)");
}

}  // namespace evoprompt::codegen
