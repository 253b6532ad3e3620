#include "tasks/clrs/clrs_task.hpp"

#include <algorithm>

#include "clrs/spec.hpp"
#include "clrs_seed_sources.hpp"

namespace evoprompt::tasks {

const OptionTable<ClrsEvaluatorOptions>& clrs_option_table() {
  using O = ClrsEvaluatorOptions;
  static const auto table = [] {
    OptionTable<O> t;
    t.add("algorithm", "", &O::algorithm, "", OptionScope::name)
        .add("steps", "--steps", &O::steps, "Training steps per child")
        .add("batch_size", "--batch-size", &O::batch_size, "Minibatch size")
        .add("lr", "--lr", &O::lr, "Adam learning rate")
        .add("eval_every", "--eval-every", &O::eval_every, "Validate every N steps")
        .add("seed", "--train-seed", &O::seed, "Data-stream and model-init seed, the same for every child")
        .add("hidden", "--hidden", &O::hidden, "Triplet-GMPNN width h")
        .add("nb_triplet_fts", "--nb-triplet-fts", &O::nb_triplet_fts, "Triplet feature width")
        .add("test_samples", "--test-samples", &O::test_samples,
             "The first samples of the n=64 test split scored per child (-1: all)")
        .add("device", "--device", &O::device, "auto, cpu, cuda or cuda:N")
        .add("threads", "--threads", &O::threads,
             "libtorch CPU threads per worker (0: 1 on CPU, the cores split over workers with GPUs)")
        .add("cache_dir", "", &O::cache_dir, "", OptionScope::machine)
        .add("weights_dir", "", &O::weights_dir, "", OptionScope::machine)
        .add("gpu_memory_fraction", "", &O::gpu_memory_fraction, "", OptionScope::machine);
    return t;
  }();
  return table;
}

namespace {

bool is_clrs30(const std::string& algorithm) {
  const auto& names = clrs::clrs30_algorithms();
  return std::find(names.begin(), names.end(), algorithm) != names.end();
}

}  // namespace

void validate(const ClrsEvaluatorOptions& o) {
  if (!is_clrs30(o.algorithm)) throw std::invalid_argument("unknown CLRS-30 algorithm '" + o.algorithm + "'");
  if (o.steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (o.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
  if (!(o.lr > 0.0)) throw std::invalid_argument("lr must be > 0");
  if (o.eval_every < 1) throw std::invalid_argument("eval-every must be >= 1");
  if (o.hidden < 1 || o.nb_triplet_fts < 1) throw std::invalid_argument("hidden and nb-triplet-fts must be >= 1");
  if (o.test_samples < -1) throw std::invalid_argument("test-samples must be >= 0, or -1 for the whole split");
  if (o.threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (o.device != "auto" && o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    throw std::invalid_argument("unknown device '" + o.device + "' (auto, cpu, cuda, cuda:N)");
}

std::optional<nlohmann::json> ClrsTask::match(const std::string& name) const {
  if (name.rfind("clrs:", 0) != 0) return std::nullopt;
  ClrsEvaluatorOptions o;
  o.algorithm = name.substr(5);
  if (!is_clrs30(o.algorithm))
    throw std::invalid_argument("unknown CLRS-30 algorithm '" + o.algorithm + "' in task '" + name + "'");
  return clrs_option_table().to_json(o);
}

std::string ClrsTask::name_of(const nlohmann::json& options) const {
  return "clrs:" + options.at("algorithm").get<std::string>();
}

nlohmann::json ClrsTask::checked(const nlohmann::json& options) const {
  const auto o = clrs_option_table().from_json(options);
  validate(o);
  return clrs_option_table().to_json(o);
}

ChildContract ClrsTask::contract() const {
  return {"Triplet", "struct Triplet : torch::nn::Module {"};
}

nlohmann::json ClrsTask::preset(const std::string& name) const {
  // A CLRS child trains for about a second a step on a CPU.
  const nlohmann::json workers = {{"train_timeout_s", 12 * 3600.0}};
  // paper: the search's 2000 steps. quick: a smoke run of the same pipeline.
  if (name == "paper") return {{"train", {{"steps", 2000}, {"eval_every", 50}}}, {"workers", workers}};
  if (name == "quick")
    return {{"evolution", {{"rounds", 2}, {"prompts", 2}, {"samples", 2}, {"survivors", 4}}},
            {"train", {{"steps", 60}, {"eval_every", 20}}},
            {"workers", workers}};
  throw std::invalid_argument("unknown preset '" + name + "' (quick, paper)");
}

std::vector<SeedSource> ClrsTask::seeds(const nlohmann::json&) const {
  // The paper's nine seeds v1..v9 (Appendix A.5) start the search; the five
  // it found (Appendix A.4) are for `seeds` and `clrs eval`.
#define EVOPROMPT_CLRS_SEED(name, first) {#name, "clrs/" #name ".cpp", clrs_seed_source_##name, first}
  static const std::vector<SeedSource> seeds{
      EVOPROMPT_CLRS_SEED(v1, true),     EVOPROMPT_CLRS_SEED(v2, true),
      EVOPROMPT_CLRS_SEED(v3, true),     EVOPROMPT_CLRS_SEED(v4, true),
      EVOPROMPT_CLRS_SEED(v5, true),     EVOPROMPT_CLRS_SEED(v6, true),
      EVOPROMPT_CLRS_SEED(v7, true),     EVOPROMPT_CLRS_SEED(v8, true),
      EVOPROMPT_CLRS_SEED(v9, true),     EVOPROMPT_CLRS_SEED(quadnodeminmax, false),
      EVOPROMPT_CLRS_SEED(concatrep, false), EVOPROMPT_CLRS_SEED(maxmean, false),
      EVOPROMPT_CLRS_SEED(div2mean, false),  EVOPROMPT_CLRS_SEED(tanhexpandtriplets, false),
  };
#undef EVOPROMPT_CLRS_SEED
  return seeds;
}

std::unique_ptr<Evaluator> ClrsTask::make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const {
  return make_clrs_evaluator(clrs_option_table().from_json(checked(options)), std::move(hooks.on_compiled),
                             std::move(hooks.on_progress));
}

}  // namespace evoprompt::tasks
