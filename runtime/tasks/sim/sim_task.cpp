#include "tasks/sim/sim_task.hpp"

#include <chrono>
#include <thread>

#include "seed_sources.hpp"
#include "token_fingerprint.hpp"

namespace evoprompt {
namespace tasks {

const OptionTable<SimEvaluatorOptions>& sim_option_table() {
  using O = SimEvaluatorOptions;
  static const auto table = [] {
    OptionTable<O> t;
    t.add("child_seconds", "--child-seconds", &O::child_seconds, "Mean seconds a simulated child takes")
        .add("seed", "--train-seed", &O::seed, "Model init and data-order seed, the same for every child")
        .add("device", "--device", &O::device, "auto, cpu, cuda or cuda:N")
        .add("threads", "--threads", &O::threads,
             "libtorch CPU threads per worker (0: 1 on CPU, the cores split over workers with GPUs)")
        .add("weights_dir", "", &O::weights_dir, "", OptionScope::machine)
        .add("gpu_memory_fraction", "", &O::gpu_memory_fraction, "", OptionScope::machine);
    return t;
  }();
  return table;
}

std::optional<nlohmann::json> SimTask::match(const std::string& name) const {
  if (name != "sim") return std::nullopt;
  return sim_option_table().to_json(SimEvaluatorOptions{});
}

nlohmann::json SimTask::checked(const nlohmann::json& options) const {
  const auto o = sim_option_table().from_json(options);
  if (!(o.child_seconds >= 0.0)) throw std::invalid_argument("child seconds must be >= 0");
  return sim_option_table().to_json(o);
}

ChildContract SimTask::contract() const { return {"Model", "struct Model : torch::nn::Module {"}; }

nlohmann::json SimTask::preset(const std::string& name) const {
  if (name == "paper") return nlohmann::json::object();
  if (name == "quick")
    return {{"evolution", {{"rounds", 3}, {"prompts", 4}, {"samples", 4}, {"survivors", 4}}},
            {"train", {{"child_seconds", 0.2}}}};
  throw std::invalid_argument("unknown preset '" + name + "' (quick, paper)");
}

std::vector<SeedSource> SimTask::seeds(const nlohmann::json&) const {
  static const std::vector<SeedSource> seeds{
      {"cnn", "mnist1d/cnn.cpp", seed_source_cnn},
      {"gru", "mnist1d/gru.cpp", seed_source_gru},
  };
  return seeds;
}

namespace {
class SimEvaluator : public Evaluator {
 public:
  SimEvaluator(SimEvaluatorOptions options, EvaluatorHooks hooks) : options_(options), hooks_(std::move(hooks)) {}
  ChildResult evaluate(const std::string& source, const std::string&) override {
    const SimChild child = simulate_child(fingerprint(source), options_.seed, options_.child_seconds);
    if (hooks_.on_compiled) hooks_.on_compiled(0.0);
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(child.seconds));
    ChildResult r;
    r.verdict = VerdictKind::evaluated;
    r.params_used = r.params_total = child.params;
    r.best_val_acc = r.test_acc = child.val_acc;
    r.train_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }
  std::string fingerprint(const std::string& source) override { return jit::token_fingerprint(source); }
  std::string opening() const override { return SimTask().contract().opening; }
  std::string describe() const override { return sim_option_table().to_json(options_, true).dump(); }

 private:
  SimEvaluatorOptions options_;
  EvaluatorHooks hooks_;
};
}  // namespace

std::unique_ptr<Evaluator> SimTask::make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const {
  return std::make_unique<SimEvaluator>(sim_option_table().from_json(checked(options)), std::move(hooks));
}

CompileCheck SimTask::check_child(const std::string&, const std::string&) const { return {jit::Verdict{}, 0.0}; }

}  // namespace tasks

SimChild simulate_child(const std::string& fingerprint, std::uint32_t seed, double mean_seconds) {
  // splitmix64 from the fingerprint's FNV-1a hash and the seed: three uniform draws.
  std::uint64_t x = 0xCBF29CE484222325ull;
  for (unsigned char ch : fingerprint) x = (x ^ ch) * 0x100000001B3ull;
  x ^= static_cast<std::uint64_t>(seed) << 32;
  auto next = [&x] {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0;  // [0, 1)
  };
  SimChild c;
  c.seconds = mean_seconds * (0.5 + next());
  c.params = 1000 + static_cast<std::int64_t>(next() * 9000);
  c.val_acc = 0.55 + 0.4 * next();
  return c;
}

}  // namespace evoprompt
