#include "tasks/mnist1d/mnist1d_task.hpp"

#include <filesystem>

#include "seed_sources.hpp"

namespace evoprompt::tasks {

const OptionTable<Mnist1dEvaluatorOptions>& mnist1d_option_table() {
  using O = Mnist1dEvaluatorOptions;
  static const auto table = [] {
    OptionTable<O> t;
    t.add("data_dir", "--data", &O::data_dir, "MNIST-1D folder of .npy files (default: the generator)")
        .add("steps", "--steps", &O::steps, "Training steps per child")
        .add("batch_size", "--batch-size", &O::batch_size, "Minibatch size")
        .add("lr", "--lr", &O::lr, "AdamW learning rate")
        .add("weight_decay", "--weight-decay", &O::weight_decay, "AdamW weight decay")
        .add("eval_every", "--eval-every", &O::eval_every, "Validate every N steps")
        .add("seed", "--train-seed", &O::seed, "Model init and data-order seed, the same for every child")
        .add("val_size", "--val-size", &O::val_size, "Training rows held out for validation")
        .add("split_seed", "--split-seed", &O::split_seed, "Seed of the validation split")
        .add("init", "--init", &O::init, "Parameter init: flax or torch")
        .add("device", "--device", &O::device, "auto, cpu, cuda or cuda:N")
        .add("cuda_graph", "--cuda-graph", &O::cuda_graph,
             "on: on a GPU, capture the training step as a CUDA graph and replay it (eager if capture fails); off")
        .add("threads", "--threads", &O::threads,
             "libtorch CPU threads per worker (0: 1 on CPU, the cores split over workers with GPUs)")
        .add("cache_dir", "", &O::cache_dir, "", OptionScope::machine)
        .add("weights_dir", "", &O::weights_dir, "", OptionScope::machine)
        .add("gpu_memory_fraction", "", &O::gpu_memory_fraction, "", OptionScope::machine);
    return t;
  }();
  return table;
}

void validate(const Mnist1dEvaluatorOptions& o) {
  if (o.steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (o.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
  if (o.eval_every < 1) throw std::invalid_argument("eval interval must be >= 1");
  if (!(o.lr > 0.0)) throw std::invalid_argument("learning rate must be > 0");
  if (o.weight_decay < 0.0) throw std::invalid_argument("weight decay must be >= 0");
  if (o.val_size < 1) throw std::invalid_argument("val-size must be >= 1");
  if (o.init != "flax" && o.init != "torch")
    throw std::invalid_argument("unknown init scheme '" + o.init + "' (expected flax or torch)");
  if (o.threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (o.device != "auto" && o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    throw std::invalid_argument("unknown device '" + o.device + "' (auto, cpu, cuda, cuda:N)");
  if (o.cuda_graph != "on" && o.cuda_graph != "off")
    throw std::invalid_argument("unknown --cuda-graph '" + o.cuda_graph + "' (on or off)");
  if (!o.data_dir.empty() && !std::filesystem::is_directory(o.data_dir))
    throw std::invalid_argument("data folder not found: " + o.data_dir);
}

std::optional<nlohmann::json> Mnist1dTask::match(const std::string& name) const {
  if (name != "mnist1d") return std::nullopt;
  return mnist1d_option_table().to_json(Mnist1dEvaluatorOptions{});
}

nlohmann::json Mnist1dTask::checked(const nlohmann::json& options) const {
  const auto o = mnist1d_option_table().from_json(options);
  validate(o);
  return mnist1d_option_table().to_json(o);
}

ChildContract Mnist1dTask::contract() const { return {"Model", "struct Model : torch::nn::Module {"}; }

nlohmann::json Mnist1dTask::preset(const std::string& name) const {
  // paper: Table 2 and the paper's protocol (the defaults). quick: a few
  // minutes on a 2-core CPU.
  if (name == "paper") return {{"train", {{"steps", 8000}, {"eval_every", 250}}}};
  if (name == "quick")
    return {{"evolution", {{"rounds", 3}, {"prompts", 4}, {"samples", 4}, {"survivors", 4}}},
            {"train", {{"steps", 2000}, {"eval_every", 100}}}};
  throw std::invalid_argument("unknown preset '" + name + "' (quick, paper)");
}

std::vector<SeedSource> Mnist1dTask::seeds(const nlohmann::json&) const {
  // The paper's four seeds, in its order.
  static const std::vector<SeedSource> seeds{
      {"large_cnn", "mnist1d/large_cnn.cpp", seed_source_large_cnn},
      {"cnn", "mnist1d/cnn.cpp", seed_source_cnn},
      {"gru", "mnist1d/gru.cpp", seed_source_gru},
      {"residual_mlp", "mnist1d/residual_mlp.cpp", seed_source_residual_mlp},
  };
  return seeds;
}

std::unique_ptr<Evaluator> Mnist1dTask::make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const {
  return make_mnist1d_evaluator(mnist1d_option_table().from_json(checked(options)), std::move(hooks.on_compiled));
}

}  // namespace evoprompt::tasks
