#include "local_lm.hpp"
#include "local_lm_factory.hpp"

#if EVOPROMPT_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

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

std::uint64_t soft_mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

LocalLanguageModel::LocalLanguageModel(const std::filesystem::path& dir, const LocalLmOptions& options)
    : LocalLanguageModel(dir, default_device(),
                         default_device().is_cuda() ? torch::kBFloat16 : torch::kFloat32, options) {}

LocalLanguageModel::LocalLanguageModel(const std::filesystem::path& dir, torch::Device device, torch::Dtype dtype,
                                       const LocalLmOptions& options)
    : dir_(dir), options_(options), model_(load_llama_model(dir, device, dtype)), tokenizer_(load_tokenizer(dir)) {
  if (options_.soft_prompt_tokens < 0 || options_.tune_epochs < 0 || options_.tune_batch <= 0 ||
      options_.tune_micro_batch_tokens <= 0 || !(options_.tune_lr > 0)) {
    throw std::invalid_argument("LocalLmOptions: soft_prompt_tokens and tune_epochs must be >= 0, tune_batch, "
                                "tune_micro_batch_tokens and tune_lr > 0");
  }
  // The LM stays frozen: only the soft prompt ever takes gradients.
  for (auto& p : model_->parameters()) p.set_requires_grad(false);
  model_->set_gradient_checkpointing(options_.gradient_checkpointing);
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
  const std::int64_t n_prompt = options_.soft_prompt_tokens;
  if (n_prompt > 0) {
    // P tokens drawn uniformly from the ids both the tokenizer and the
    // embedding table know (padding rows past the tokenizer are never trained).
    const std::int64_t vocab = std::max<std::int64_t>(
        1, std::min<std::int64_t>(model_->config().vocab_size, tokenizer_.vocab_size()));
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 0; i < n_prompt; ++i) {
      const std::uint64_t r = soft_mix64(options_.seed ^ soft_mix64(0x50F7u + static_cast<std::uint64_t>(i)));
      ids.push_back(static_cast<std::int64_t>(r % static_cast<std::uint64_t>(vocab)));
    }
    torch::NoGradGuard ng;
    soft_prompt_ = model_->embed(torch::tensor(ids)).to(torch::kFloat32).clone().set_requires_grad(true);
  }
}

std::vector<Completion> LocalLanguageModel::sample(const SampleRequest& request) {
  const std::size_t n = request.temperatures.size();
  std::vector<Completion> out(n);
  if (n == 0) return out;
  const std::vector<std::int32_t> prompt = tokenizer_.encode(request.prompt, /*add_special_tokens=*/true);
  const auto plen = static_cast<std::int64_t>(prompt.size());
  const bool prefix = soft_prompt_active();
  const std::int64_t pre = prefix ? soft_prompt_.size(0) : 0;
  const std::int64_t room = model_->config().max_position_embeddings - pre - plen;
  for (auto& c : out) c.prompt_tokens = plen;
  if (prompt.empty() || room <= 0) {
    for (auto& c : out) {
      c.error = "prompt of " + std::to_string(plen) + " tokens (and " + std::to_string(pre) +
                " soft prompt positions) leaves no room within max_position_embeddings " +
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
  if (prefix) o.prefix_embeds = soft_prompt_.detach();
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

std::vector<LocalLanguageModel::Sequence> LocalLanguageModel::prepare(const std::vector<TuneExample>& examples,
                                                                      std::size_t* empty_code, std::size_t* truncated,
                                                                      std::size_t* too_long) const {
  const std::int64_t pre = soft_prompt_.defined() ? soft_prompt_.size(0) : 0;
  const std::int64_t max_len = model_->config().max_position_embeddings - pre;
  std::vector<Sequence> out;
  for (const TuneExample& e : examples) {
    const std::vector<std::int32_t> m = tokenizer_.encode(e.metrics_block, /*add_special_tokens=*/true);
    std::vector<std::int32_t> c = tokenizer_.encode(e.code, /*add_special_tokens=*/false);
    if (c.empty()) {
      ++*empty_code;
      continue;
    }
    // The first code token needs a position before it to be predicted from.
    const std::int64_t ctx = static_cast<std::int64_t>(m.size());
    if (ctx >= max_len || (pre == 0 && ctx == 0)) {
      ++*too_long;
      continue;
    }
    if (ctx + static_cast<std::int64_t>(c.size()) > max_len) {
      c.resize(static_cast<std::size_t>(max_len - ctx));
      ++*truncated;
    }
    Sequence s;
    s.ids.assign(m.begin(), m.end());
    s.ids.insert(s.ids.end(), c.begin(), c.end());
    s.context = ctx;
    out.push_back(std::move(s));
  }
  return out;
}

torch::Tensor LocalLanguageModel::loss_sum(const std::vector<const Sequence*>& batch) {
  const std::int64_t b = static_cast<std::int64_t>(batch.size());
  std::int64_t t = 0;
  for (const Sequence* s : batch) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(s->ids.size()));
  // Right padding with id 0: pads follow every real token (causal attention
  // keeps them out of the real positions) and carry no label.
  const std::int64_t pre = soft_prompt_.defined() ? soft_prompt_.size(0) : 0;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(b * t), 0);
  // Token j of row i is predicted by the logits at position pre + j - 1: the
  // flat rows of those positions in [b, pre + t], and the tokens' ids.
  std::vector<std::int64_t> rows, targets;
  for (std::int64_t i = 0; i < b; ++i) {
    const Sequence& s = *batch[static_cast<std::size_t>(i)];
    std::copy(s.ids.begin(), s.ids.end(), ids.begin() + i * t);
    for (std::int64_t j = std::max<std::int64_t>(s.context, 1 - pre); j < static_cast<std::int64_t>(s.ids.size());
         ++j) {
      rows.push_back(i * (pre + t) + pre + j - 1);
      targets.push_back(s.ids[static_cast<std::size_t>(j)]);
    }
  }
  const torch::Device dev = model_->device();
  torch::Tensor x = model_->embed(torch::tensor(ids).view({b, t}));
  if (pre > 0) {
    x = torch::cat({soft_prompt_.to(model_->dtype()).unsqueeze(0).expand({b, pre, soft_prompt_.size(1)}), x}, 1);
  }
  torch::Tensor logits = model_->forward_embeds(x);   // [b, pre + t, vocab]
  torch::Tensor pred = logits.reshape({b * (pre + t), logits.size(2)})
                           .index_select(0, torch::tensor(rows).to(dev))
                           .to(torch::kFloat32);
  return torch::nn::functional::cross_entropy(
      pred, torch::tensor(targets).to(dev),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
}

std::vector<std::vector<const LocalLanguageModel::Sequence*>> LocalLanguageModel::micro_batches(
    std::vector<const Sequence*> batch) const {
  // Longest first, so each micro-batch pads little; at most
  // tune_micro_batch_tokens padded positions (a longer single example goes alone).
  std::stable_sort(batch.begin(), batch.end(),
                   [](const Sequence* a, const Sequence* b) { return a->ids.size() > b->ids.size(); });
  const std::int64_t pre = soft_prompt_.defined() ? soft_prompt_.size(0) : 0;
  std::vector<std::vector<const Sequence*>> out;
  for (const Sequence* s : batch) {
    if (!out.empty()) {
      auto& cur = out.back();
      const std::int64_t width = pre + static_cast<std::int64_t>(cur.front()->ids.size());
      if (static_cast<std::int64_t>(cur.size() + 1) * width <= options_.tune_micro_batch_tokens) {
        cur.push_back(s);
        continue;
      }
    }
    out.push_back({s});
  }
  return out;
}

double LocalLanguageModel::mean_loss(const std::vector<Sequence>& seqs) {
  torch::NoGradGuard ng;
  std::vector<const Sequence*> all;
  std::int64_t count = 0;
  for (const Sequence& s : seqs) {
    all.push_back(&s);
    count += static_cast<std::int64_t>(s.ids.size()) - s.context;
  }
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  double total = 0.0;
  for (const auto& mb : micro_batches(all)) total += loss_sum(mb).item<double>();
  return total / static_cast<double>(count);
}

double LocalLanguageModel::code_loss(const std::vector<TuneExample>& examples) {
  std::size_t empty = 0, truncated = 0, too_long = 0;
  try {
    return mean_loss(prepare(examples, &empty, &truncated, &too_long));
  } catch (const c10::Error& e) {
    throw LanguageModelError(std::string("local LM: ") + e.what_without_backtrace());
  }
}

TuneReport LocalLanguageModel::tune(const std::vector<TuneExample>& examples) {
  TuneReport report;
  if (!can_tune()) {
    report.detail = "no soft prompt (soft_prompt_tokens = 0)";
    return report;
  }
  std::size_t empty = 0, truncated = 0, too_long = 0;
  const std::vector<Sequence> seqs = prepare(examples, &empty, &truncated, &too_long);
  std::ostringstream d;
  d << seqs.size() << " of " << examples.size() << " examples";
  if (empty > 0) d << " (" << empty << " without code tokens skipped)";
  if (too_long > 0) d << " (" << too_long << " with no room for code skipped)";
  if (truncated > 0) d << " (" << truncated << " cut to max_position_embeddings)";
  if (seqs.empty()) {
    report.detail = d.str() + ": nothing to tune on";
    return report;
  }
  const std::uint64_t call = tune_calls_++;
  try {
    torch::AutoGradMode grad(true);
    report.loss_before = mean_loss(seqs);
    torch::optim::Adam opt({soft_prompt_}, torch::optim::AdamOptions(options_.tune_lr));
    std::mt19937_64 rng(soft_mix64(options_.seed ^ soft_mix64(0x7E4Eu + call)));
    std::vector<std::size_t> order(seqs.size());
    std::iota(order.begin(), order.end(), 0);
    std::int64_t steps = 0;
    for (int epoch = 0; epoch < options_.tune_epochs; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(options_.tune_batch)) {
        const std::size_t end = std::min(order.size(), start + static_cast<std::size_t>(options_.tune_batch));
        std::vector<const Sequence*> batch;
        std::int64_t count = 0;
        for (std::size_t k = start; k < end; ++k) {
          batch.push_back(&seqs[order[k]]);
          count += static_cast<std::int64_t>(seqs[order[k]].ids.size()) - seqs[order[k]].context;
        }
        opt.zero_grad();
        // Gradient accumulation: the micro-batches' sums over the batch's
        // code-token count give the gradient of the batch's mean loss.
        for (const auto& mb : micro_batches(batch)) (loss_sum(mb) / static_cast<double>(count)).backward();
        opt.step();
        ++steps;
      }
    }
    soft_prompt_.mutable_grad() = torch::Tensor();
    report.loss_after = mean_loss(seqs);
    active_ = true;
    report.tuned = true;
    d << ", " << options_.tune_epochs << " epochs, " << steps << " Adam steps (batch " << options_.tune_batch
      << ", lr " << options_.tune_lr << ", " << soft_prompt_.size(0) << " soft tokens)";
  } catch (const c10::Error& e) {
    throw LanguageModelError(std::string("local LM: tuning: ") + e.what_without_backtrace());
  }
  report.detail = d.str();
  return report;
}

void LocalLanguageModel::save_state(const std::string& path) const {
  if (!soft_prompt_.defined()) return;
  const std::string tmp = path + ".tmp";
  try {
    save_safetensors(tmp, {{"soft_prompt", soft_prompt_.detach().to(torch::kCPU, torch::kFloat32).contiguous()}},
                     {{"format", "pt"},
                      {"evoprompt", "soft_prompt"},
                      {"tune_calls", std::to_string(tune_calls_)},
                      {"active", active_ ? "1" : "0"}});
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    throw LanguageModelError("local LM: saving the soft prompt to " + path + ": " + e.what());
  }
}

void LocalLanguageModel::load_state(const std::string& path) {
  if (!soft_prompt_.defined()) return;
  torch::Tensor t;
  std::uint64_t calls = 0;
  bool active = true;
  try {
    SafeTensors st = SafeTensors::open_file(path);
    const TensorInfo& info = st.info("soft_prompt");
    const std::vector<std::int64_t> want = {soft_prompt_.size(0), soft_prompt_.size(1)};
    if (info.shape != want) {
      throw ModelLoadError("tensor 'soft_prompt': shape [" +
                           (info.shape.size() == 2 ? std::to_string(info.shape[0]) + ", " + std::to_string(info.shape[1])
                                                   : std::to_string(info.shape.size()) + " dims") +
                           "], this model wants [" + std::to_string(want[0]) + ", " + std::to_string(want[1]) + "]");
    }
    t = st.get("soft_prompt", torch::kFloat32, soft_prompt_.device());
    const auto it = st.metadata().find("tune_calls");
    if (it != st.metadata().end()) calls = std::stoull(it->second);
    const auto a = st.metadata().find("active");
    active = a == st.metadata().end() || a->second != "0";
  } catch (const std::exception& e) {
    throw LanguageModelError("local LM: soft prompt " + path + ": " + e.what());
  }
  torch::NoGradGuard ng;
  soft_prompt_.copy_(t);
  tune_calls_ = calls;
  active_ = active;
}

std::unique_ptr<LanguageModel> make_local_language_model(const std::string& dir) {
  return std::make_unique<LocalLanguageModel>(dir);
}

void check_local_model_dir(const std::string& dir) {
  const std::filesystem::path d(dir);
  if (!std::filesystem::is_directory(d)) throw ModelLoadError(dir + ": no such model folder");
  (void)load_llama_config(d);
  if (!std::filesystem::exists(d / "model.safetensors") && !std::filesystem::exists(d / "model.safetensors.index.json"))
    throw ModelLoadError(dir + ": neither model.safetensors nor model.safetensors.index.json");
  if (!std::filesystem::exists(d / "tokenizer.json")) throw ModelLoadError(dir + ": no tokenizer.json");
}

std::unique_ptr<LanguageModel> make_local_language_model(const std::string& dir, const LocalLmOptions& options) {
  // Capped before the weights load: the workers on cuda:0 were given the rest.
  if (options.gpu_memory_fraction > 0.0 && default_device().is_cuda()) {
#if EVOPROMPT_TORCH_CUDA
    c10::cuda::CUDACachingAllocator::setMemoryFraction(options.gpu_memory_fraction, 0);
#else
    throw std::runtime_error("cannot cap the LM's GPU memory: built without c10_cuda (EVOPROMPT_TORCH_CUDA)");
#endif
  }
  return std::make_unique<LocalLanguageModel>(dir, options);
}

}  // namespace evoprompt::codegen::lm
