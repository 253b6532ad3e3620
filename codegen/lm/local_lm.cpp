#include "local_lm.hpp"
#include "local_lm_factory.hpp"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

namespace evoprompt::codegen::lm {

namespace {

torch::Device default_device() {
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

Tokenizer load_tokenizer(const std::filesystem::path& dir) {
  try {
    return Tokenizer::load(dir.string());
  } catch (const std::exception& e) {
    throw ModelLoadError(std::string("tokenizer: ") + e.what());
  }
}

void add_eos(std::vector<std::int32_t>& eos, const nlohmann::json& j, const std::string& where) {
  if (!j.contains("eos_token_id") || j["eos_token_id"].is_null()) return;
  const nlohmann::json& e = j["eos_token_id"];
  std::vector<nlohmann::json> list = e.is_array() ? std::vector<nlohmann::json>(e.begin(), e.end())
                                                  : std::vector<nlohmann::json>{e};
  for (const auto& x : list) {
    if (!x.is_number_integer()) throw ModelLoadError(where + ": eos_token_id: not an integer or a list of integers");
    const auto id = x.get<std::int32_t>();
    if (std::find(eos.begin(), eos.end(), id) == eos.end()) eos.push_back(id);
  }
}

}  // namespace

LocalLanguageModel::LocalLanguageModel(const std::filesystem::path& dir)
    : LocalLanguageModel(dir, default_device(),
                         default_device().is_cuda() ? torch::kBFloat16 : torch::kFloat32) {}

LocalLanguageModel::LocalLanguageModel(const std::filesystem::path& dir, torch::Device device, torch::Dtype dtype)
    : dir_(dir), model_(load_llama_model(dir, device, dtype)), tokenizer_(load_tokenizer(dir)) {
  for (auto id : model_->config().eos_token_ids) eos_.push_back(static_cast<std::int32_t>(id));
  const auto gen = dir / "generation_config.json";
  if (std::filesystem::exists(gen)) {
    std::ifstream in(gen);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw ModelLoadError(gen.string() + ": not JSON: " + e.what());
    }
    if (j.is_object()) add_eos(eos_, j, gen.string());
  }
}

std::vector<Completion> LocalLanguageModel::sample(const SampleRequest& request) {
  const std::size_t n = request.temperatures.size();
  std::vector<Completion> out(n);
  if (n == 0) return out;
  const std::vector<std::int32_t> prompt = tokenizer_.encode(request.prompt, /*add_special_tokens=*/true);
  const auto plen = static_cast<std::int64_t>(prompt.size());
  const std::int64_t room = model_->config().max_position_embeddings - plen;
  for (auto& c : out) c.prompt_tokens = plen;
  if (prompt.empty() || room <= 0) {
    for (auto& c : out) {
      c.error = "prompt of " + std::to_string(plen) + " tokens leaves no room within max_position_embeddings " +
                std::to_string(model_->config().max_position_embeddings);
    }
    return out;
  }
  GenerateOptions o;
  o.temperatures = request.temperatures;
  o.top_p = request.top_p;
  o.max_new_tokens = std::min<std::int64_t>(request.max_tokens, room);
  o.stop = request.stop;
  o.stop_token_ids = eos_;
  o.seed = request.seed;
  o.first_stream = request.first_sample;
  const Tokenizer& tok = tokenizer_;
  std::vector<GeneratedSample> g;
  try {
    g = generate(*model_, prompt, o,
                 [&tok](const std::vector<std::int32_t>& ids) { return tok.decode(ids, /*skip_special_tokens=*/true); });
  } catch (const c10::Error& e) {
    throw LanguageModelError(std::string("local LM: ") + e.what_without_backtrace());
  }
  for (std::size_t i = 0; i < n; ++i) {
    out[i].text = std::move(g[i].text);
    out[i].finish_reason = g[i].finish_reason;
    out[i].completion_tokens = static_cast<std::int64_t>(g[i].tokens.size());
  }
  return out;
}

std::unique_ptr<LanguageModel> make_local_language_model(const std::string& dir) {
  return std::make_unique<LocalLanguageModel>(dir);
}

}  // namespace evoprompt::codegen::lm
