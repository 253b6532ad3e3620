#include "lm_factory.hpp"

#include <stdexcept>

#include "mutate_lm.hpp"
#include "openai_lm.hpp"
#include "replay_lm.hpp"

namespace evoprompt::codegen {

LmSpec parse_lm_spec(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  LmSpec s;
  s.arg = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "mutate") {
    if (colon != std::string::npos) throw std::invalid_argument("--lm mutate takes no argument");
    s.kind = LmSpec::Kind::mutate;
  } else if (kind == "replay") {
    if (s.arg.empty()) throw std::invalid_argument("--lm replay:FILE needs a JSONL file");
    s.kind = LmSpec::Kind::replay;
  } else if (kind == "openai") {
    if (s.arg.empty())
      throw std::invalid_argument("--lm openai:URL needs a base URL, e.g. openai:http://127.0.0.1:8080/v1");
    s.kind = LmSpec::Kind::openai;
  } else if (kind == "local") {
    if (s.arg.empty()) throw std::invalid_argument("--lm local:DIR needs a model folder");
    s.kind = LmSpec::Kind::local;
  } else {
    throw std::invalid_argument("unknown --lm '" + spec + "' (mutate, replay:FILE, openai:URL, local:DIR)");
  }
  return s;
}

nlohmann::json to_json(const LmSettings& l) {
  return {{"spec", l.spec},           {"model", l.model},           {"api", l.api},
          {"api_key_env", l.api_key_env}, {"timeout_s", l.timeout_s}, {"max_retries", l.max_retries},
          {"max_requests", l.max_requests}, {"max_total_tokens", l.max_total_tokens},
          {"concurrency", l.concurrency}, {"gpu_memory", l.gpu_memory},
          {"soft_prompt_tokens", l.soft_prompt_tokens}, {"tune_epochs", l.tune_epochs},
          {"tune_batch", l.tune_batch}, {"tune_lr", l.tune_lr}};
}

LmSettings lm_settings_from_json(const nlohmann::json& j) {
  LmSettings l;
  l.spec = j.at("spec");
  l.model = j.at("model");
  l.api = j.at("api");
  l.api_key_env = j.at("api_key_env");
  l.timeout_s = j.at("timeout_s");
  l.max_retries = j.at("max_retries");
  l.max_requests = j.at("max_requests");
  l.max_total_tokens = j.at("max_total_tokens");
  l.concurrency = j.value("concurrency", LmSettings{}.concurrency);  // journals before it had none
  if (l.concurrency < 1) throw std::invalid_argument("--lm-concurrency (lm.concurrency) must be at least 1");
  l.gpu_memory = j.value("gpu_memory", LmSettings{}.gpu_memory);  // journals before it had none
  if (!(l.gpu_memory > 0.0 && l.gpu_memory <= 0.85))
    throw std::invalid_argument("--lm-gpu-memory (lm.gpu_memory) must be in (0, 0.85]");
  l.soft_prompt_tokens = j.at("soft_prompt_tokens");
  l.tune_epochs = j.at("tune_epochs");
  l.tune_batch = j.at("tune_batch");
  l.tune_lr = j.at("tune_lr");
  return l;
}

std::unique_ptr<LanguageModel> make_language_model(const LmSettings& s) {
  const LmSpec spec = parse_lm_spec(s.spec);
  const std::string& arg = spec.arg;
  if (spec.kind == LmSpec::Kind::mutate) return std::make_unique<MutateOperator>();
  if (spec.kind == LmSpec::Kind::replay) return std::make_unique<ReplayLanguageModel>(arg);
  if (spec.kind == LmSpec::Kind::openai) {
    OpenAiOptions o;
    o.base_url = arg;
    o.model = s.model;
    o.api = s.api;
    o.api_key_env = s.api_key_env;
    o.timeout_s = s.timeout_s;
    o.max_retries = s.max_retries;
    o.max_requests = s.max_requests;
    o.max_total_tokens = s.max_total_tokens;
    o.concurrency = s.concurrency;
    return std::make_unique<OpenAiLanguageModel>(o);
  }
  // needs torch: built by codegen/lm (make_local_language_model)
  throw std::invalid_argument("--lm local:DIR is made by codegen/lm's make_local_language_model, not here");
}

}  // namespace evoprompt::codegen
