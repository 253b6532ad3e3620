// Soft prompt-tuning of the embedded LM on a tiny random Qwen2 folder: the
// loss covers the code tokens only, it falls, the LM weights stay
// bit-identical, generation prepends the tuned prompt (one prefill, KV cache
// included; batched = per-sample), and save_state / load_state round-trip.
#include "torch_catch.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "local_lm.hpp"
#include "local_lm_options.hpp"
#include "safetensors.hpp"
#include "tiny_llm.hpp"

using namespace evoprompt;
using namespace evoprompt::codegen::lm;
using namespace evoprompt_test;
using evoprompt::codegen::LanguageModelError;
using evoprompt::codegen::SampleRequest;
using evoprompt::codegen::TuneExample;

namespace {

void write_tiny_folder(const fs::path& dir) {
  TinySpec s;
  s.vocab = 259;
  s.arch = "Qwen2ForCausalLM";
  write_tiny_model(dir, s);
  std::ofstream(dir / "tokenizer.json") << tiny_tokenizer_json().dump();
  std::ofstream(dir / "generation_config.json") << json{{"eos_token_id", {2, 258}}}.dump();
}

std::vector<TuneExample> examples() {
  std::vector<TuneExample> ex;
  for (int i = 0; i < 8; ++i) {
    TuneExample e;
    e.metrics_block = "/* acc " + std::to_string(50 + 5 * i) + " */\n";
    e.code = "struct M" + std::to_string(i) + " { x = relu(fc(x)); }\n";
    ex.push_back(e);
  }
  return ex;
}

// The mean code-token cross-entropy computed one example at a time without
// padding, from the full forward of [soft prompt, metrics, code].
double manual_code_loss(LocalLanguageModel& lm, const std::vector<TuneExample>& ex) {
  torch::NoGradGuard ng;
  double total = 0.0;
  std::int64_t count = 0;
  for (const auto& e : ex) {
    auto m = lm.tokenizer().encode(e.metrics_block, true);
    auto c = lm.tokenizer().encode(e.code, false);
    std::vector<std::int64_t> ids(m.begin(), m.end());
    ids.insert(ids.end(), c.begin(), c.end());
    const std::int64_t p = lm.soft_prompt().size(0);
    torch::Tensor x = torch::cat({lm.soft_prompt().unsqueeze(0), lm.model().embed(torch::tensor(ids).unsqueeze(0))}, 1);
    torch::Tensor logp = torch::log_softmax(lm.model().forward_embeds(x)[0], -1);
    for (std::size_t j = m.size(); j < ids.size(); ++j) {
      total -= logp[p + static_cast<std::int64_t>(j) - 1][ids[j]].item<double>();
      ++count;
    }
  }
  return total / static_cast<double>(count);
}

std::vector<std::string> texts(LocalLanguageModel& lm, const SampleRequest& req) {
  std::vector<std::string> out;
  for (const auto& c : lm.sample(req)) {
    REQUIRE(c.error.empty());
    out.push_back(c.text);
  }
  return out;
}

SampleRequest request() {
  SampleRequest req;
  req.prompt = "/* acc 90 */\nstruct";
  req.temperatures = {0.0, 0.8, 1.0, 0.0, 0.8};
  req.max_tokens = 12;
  req.seed = 7;
  return req;
}

}  // namespace

TEST_CASE("soft prompt: the loss covers the code tokens only, padded batches equal single examples", "[llm][tune]") {
  TempDir tmp;
  write_tiny_folder(tmp.path);
  LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kFloat32);
  REQUIRE(lm.can_tune());
  REQUIRE(lm.soft_prompt().sizes() == torch::IntArrayRef({16, 32}));
  CHECK_FALSE(lm.soft_prompt_active());
  // The initial prompt is 16 rows of the embedding table.
  {
    torch::NoGradGuard ng;
    torch::Tensor table = lm.model().embed(torch::arange(259));
    for (std::int64_t i = 0; i < 16; ++i) {
      CHECK((table - lm.soft_prompt()[i]).abs().sum(-1).min().item<double>() == 0.0);
    }
  }
  const auto ex = examples();
  const double manual = manual_code_loss(lm, ex);
  CHECK(std::abs(lm.code_loss(ex) - manual) < 1e-4);
  // An example without code adds nothing; the metrics block alone is no target.
  auto with_empty = ex;
  with_empty.push_back({"/* acc 99 */\n", ""});
  CHECK(std::abs(lm.code_loss(with_empty) - manual) < 1e-4);
  const torch::Tensor before = lm.soft_prompt().clone();
  auto r = lm.tune({{"/* acc 99 */\n", ""}});
  CHECK_FALSE(r.tuned);
  CHECK(r.detail.find("without code tokens") != std::string::npos);
  CHECK(torch::equal(before, lm.soft_prompt()));
  CHECK_FALSE(lm.soft_prompt_active());
  CHECK(std::isnan(lm.code_loss({{"x", ""}})));
}

TEST_CASE("soft prompt: tuning lowers the code loss, changes only the prompt, and generation uses it",
          "[llm][tune]") {
  TempDir tmp, state;
  write_tiny_folder(tmp.path);
  LocalLmOptions o;
  o.seed = 5;
  o.tune_micro_batch_tokens = 200;   // several micro-batches per optimizer step
  LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kFloat32, o);
  const auto ex = examples();
  const SampleRequest req = request();
  const auto untuned = texts(lm, req);

  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& p : lm.model().named_parameters()) weights.emplace_back(p.key(), p.value().clone());
  const torch::Tensor prompt0 = lm.soft_prompt().clone();

  auto r = lm.tune(ex);
  REQUIRE(r.tuned);
  INFO(r.detail);
  WARN("soft prompt tuning on 8 examples: loss " << r.loss_before << " -> " << r.loss_after << " (" << r.detail << ")");
  CHECK(r.loss_after < r.loss_before - 0.1);
  CHECK(std::abs(r.loss_after - lm.code_loss(ex)) < 1e-6);
  CHECK(r.detail.find("8 of 8 examples") != std::string::npos);
  // Frozen LM: every weight bit-identical, none trainable; the prompt moved.
  for (const auto& [name, w] : weights) {
    INFO(name);
    const torch::Tensor now = lm.model().named_parameters()[name];
    CHECK(torch::equal(now, w));
    CHECK_FALSE(now.requires_grad());
    CHECK_FALSE(now.grad().defined());
  }
  CHECK_FALSE(torch::equal(prompt0, lm.soft_prompt()));
  CHECK(lm.soft_prompt_active());

  // Generation prepends the tuned prompt.
  const auto tuned = texts(lm, req);
  CHECK(tuned != untuned);
  // Greedy by hand with full forwards of [soft prompt, prompt, generated]:
  // the one-prefill KV-cache path gives the same tokens.
  {
    torch::NoGradGuard ng;
    auto ids32 = lm.tokenizer().encode(req.prompt, true);
    std::vector<std::int64_t> seq(ids32.begin(), ids32.end());
    std::vector<std::int32_t> greedy;
    for (int i = 0; i < req.max_tokens; ++i) {
      torch::Tensor x =
          torch::cat({lm.soft_prompt().unsqueeze(0), lm.model().embed(torch::tensor(seq).unsqueeze(0))}, 1);
      const auto tok = static_cast<std::int32_t>(lm.model().forward_embeds(x)[0][-1].argmax().item<std::int64_t>());
      if (tok == 2 || tok == 258) break;
      greedy.push_back(tok);
      seq.push_back(tok);
    }
    CHECK(tuned[0] == lm.tokenizer().decode(greedy, true));
    CHECK(tuned[3] == tuned[0]);
  }
  // Batched decode equals each sample alone (its stream picked by first_sample).
  for (std::size_t i = 0; i < req.temperatures.size(); ++i) {
    SampleRequest one = req;
    one.temperatures = {req.temperatures[i]};
    one.first_sample = i;
    CHECK(texts(lm, one)[0] == tuned[i]);
  }

  // save_state → load_state into a fresh model (another initial prompt).
  const std::string path = (state.path / "soft_prompt_round_1.safetensors").string();
  lm.save_state(path);
  CHECK_FALSE(fs::exists(path + ".tmp"));
  {
    SafeTensors st = SafeTensors::open_file(path);
    CHECK(st.names() == std::vector<std::string>{"soft_prompt"});
    CHECK(st.info("soft_prompt").dtype == StDType::F32);
    CHECK(st.info("soft_prompt").shape == std::vector<std::int64_t>{16, 32});
    CHECK(st.metadata().at("evoprompt") == "soft_prompt");
    CHECK(st.metadata().at("tune_calls") == "1");
    CHECK(st.metadata().at("active") == "1");
  }
  // An untuned prompt saved and loaded stays out of generation.
  {
    LocalLanguageModel untuned_lm(tmp.path, torch::kCPU, torch::kFloat32, o);
    const std::string p0 = (state.path / "untuned.safetensors").string();
    untuned_lm.save_state(p0);
    LocalLanguageModel again(tmp.path, torch::kCPU, torch::kFloat32);
    again.load_state(p0);
    CHECK_FALSE(again.soft_prompt_active());
    CHECK(torch::equal(again.soft_prompt(), untuned_lm.soft_prompt()));
    CHECK(texts(again, req) == untuned);
  }
  LocalLmOptions other;
  other.seed = 99;
  LocalLanguageModel fresh(tmp.path, torch::kCPU, torch::kFloat32, other);
  CHECK_FALSE(torch::equal(fresh.soft_prompt(), lm.soft_prompt()));
  fresh.load_state(path);
  CHECK(fresh.soft_prompt_active());
  CHECK(torch::equal(fresh.soft_prompt(), lm.soft_prompt()));
  CHECK(texts(fresh, req) == tuned);

  // The prompt carries over: a second round starts from the first's.
  auto r2 = lm.tune(ex);
  REQUIRE(r2.tuned);
  CHECK(std::abs(r2.loss_before - r.loss_after) < 1e-5);
  CHECK(r2.loss_after < r2.loss_before);

  // A file of another shape is refused, naming it; the prompt is untouched.
  const std::string bad = (state.path / "bad.safetensors").string();
  save_safetensors(bad, {{"soft_prompt", torch::zeros({8, 32})}});
  const torch::Tensor kept = fresh.soft_prompt().clone();
  try {
    fresh.load_state(bad);
    FAIL("load_state accepted a [8, 32] soft prompt");
  } catch (const LanguageModelError& e) {
    CHECK(std::string(e.what()).find("bad.safetensors") != std::string::npos);
    CHECK(std::string(e.what()).find("[8, 32]") != std::string::npos);
  }
  CHECK(torch::equal(fresh.soft_prompt(), kept));
}

TEST_CASE("soft prompt: 0 soft tokens cannot tune and samples the plain LM", "[llm][tune]") {
  TempDir tmp;
  write_tiny_folder(tmp.path);
  LocalLmOptions o;
  o.soft_prompt_tokens = 0;
  LocalLanguageModel none(tmp.path, torch::kCPU, torch::kFloat32, o);
  LocalLanguageModel plain(tmp.path, torch::kCPU, torch::kFloat32);
  CHECK_FALSE(none.can_tune());
  CHECK_FALSE(none.tune(examples()).tuned);
  CHECK(texts(none, request()) == texts(plain, request()));
  // The torch-free factory takes the same settings.
  CHECK_FALSE(make_local_language_model(tmp.path.string(), o)->can_tune());
  CHECK(make_local_language_model(tmp.path.string(), LocalLmOptions{})->can_tune());
  LocalLmOptions bad;
  bad.tune_lr = 0.0;
  CHECK_THROWS_AS(make_local_language_model(tmp.path.string(), bad), std::invalid_argument);
}

TEST_CASE("soft prompt: micro-batches and gradient checkpointing give the whole batch's step", "[llm][tune]") {
  TempDir tmp;
  write_tiny_folder(tmp.path);
  const auto ex = examples();
  auto tuned = [&](std::int64_t budget, bool checkpointing) {
    LocalLmOptions o;
    o.seed = 3;
    o.tune_epochs = 2;
    o.tune_batch = 4;
    o.tune_micro_batch_tokens = budget;
    o.gradient_checkpointing = checkpointing;
    LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kFloat32, o);
    REQUIRE(lm.tune(ex).tuned);
    return lm.soft_prompt().clone();
  };
  // The checkpointed graph goes through one LayerCheckpoint node per layer.
  {
    LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kFloat32);
    REQUIRE(lm.model().gradient_checkpointing());
    torch::Tensor x = lm.model().embed(torch::tensor(std::vector<std::int64_t>{5, 6, 7}).unsqueeze(0)).clone();
    x.set_requires_grad(true);
    auto count_nodes = [](const torch::Tensor& y) {
      int n = 0;
      std::vector<torch::autograd::Node*> todo{y.grad_fn().get()};
      std::set<torch::autograd::Node*> seen;
      while (!todo.empty()) {
        torch::autograd::Node* node = todo.back();
        todo.pop_back();
        if (node == nullptr || !seen.insert(node).second) continue;
        if (node->name().find("LayerCheckpoint") != std::string::npos) ++n;
        for (const auto& e : node->next_edges()) todo.push_back(e.function.get());
      }
      return n;
    };
    CHECK(count_nodes(lm.model().forward_embeds(x)) == 2);
    lm.model().set_gradient_checkpointing(false);
    CHECK(count_nodes(lm.model().forward_embeds(x)) == 0);
  }
  // Equal up to float summation order (differences ~2e-5 after 4 Adam steps).
  const torch::Tensor whole = tuned(1 << 20, false);
  CHECK(torch::allclose(tuned(1, false), whole, 1e-4, 1e-4));      // one example per micro-batch
  CHECK(torch::allclose(tuned(1 << 20, true), whole, 1e-4, 1e-4));
  CHECK(torch::allclose(tuned(150, true), whole, 1e-4, 1e-4));
}

TEST_CASE("soft prompt: a bf16 model tunes its float32 prompt, weights untouched", "[llm][tune]") {
  TempDir tmp;
  write_tiny_folder(tmp.path);
  LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kBFloat16);
  CHECK(lm.soft_prompt().scalar_type() == torch::kFloat32);
  std::vector<torch::Tensor> weights;
  for (const auto& p : lm.model().parameters()) weights.push_back(p.clone());
  auto r = lm.tune(examples());
  REQUIRE(r.tuned);
  CHECK(r.loss_after < r.loss_before);
  const auto now = lm.model().parameters();
  REQUIRE(now.size() == weights.size());
  for (std::size_t i = 0; i < now.size(); ++i) CHECK(torch::equal(now[i], weights[i]));
  CHECK(texts(lm, request()).size() == 5);
}

TEST_CASE("soft prompt: a fixed target text's loss falls by at least half in 40 steps, weights unchanged",
          "[llm][tune]") {
  TempDir tmp;
  write_tiny_folder(tmp.path);
  LocalLmOptions o;
  o.seed = 3;
  o.tune_epochs = 40;  // one example, batch 1: one Adam step per epoch
  o.tune_batch = 1;
  LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kFloat32, o);
  // A checksum of every LM weight: the sum over all parameters of sum(w * (index + 1)).
  auto checksum = [&] {
    torch::NoGradGuard ng;
    double total = 0.0;
    for (const auto& p : lm.model().parameters()) {
      const torch::Tensor flat = p.detach().to(torch::kFloat64).flatten();
      total += (flat * torch::arange(1, flat.numel() + 1, torch::kFloat64)).sum().item<double>();
    }
    return total;
  };
  const double before = checksum();
  TuneExample target;
  target.metrics_block = "/* Metrics:\n{'num_params': '410', 'val_accuracy': '0.623'}\n*/\n";
  target.code = "struct Model { fc(x) }\n";
  const auto r = lm.tune({target});
  REQUIRE(r.tuned);
  WARN("fixed target, 40 steps: loss " << r.loss_before << " -> " << r.loss_after);
  CHECK(r.loss_after <= 0.5 * r.loss_before);
  CHECK(checksum() == before);
}
