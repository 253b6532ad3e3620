#include "tasks/arrays/arrays_task.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tasks/arrays/arrays_data.hpp"

namespace evoprompt::tasks {
namespace fs = std::filesystem;

const OptionTable<ArraysEvaluatorOptions>& arrays_option_table() {
  using O = ArraysEvaluatorOptions;
  static const auto table = [] {
    OptionTable<O> t;
    t.add("data_dir", "", &O::data_dir, "", OptionScope::name)
        .add("seeds_dir", "--seeds", &O::seeds_dir, "Folder of your own seed programs (*.cpp; default: seeds sized from the data)")
        .add("steps", "--steps", &O::steps, "Training steps per child")
        .add("batch_size", "--batch-size", &O::batch_size, "Minibatch size")
        .add("lr", "--lr", &O::lr, "AdamW learning rate")
        .add("weight_decay", "--weight-decay", &O::weight_decay, "AdamW weight decay")
        .add("eval_every", "--eval-every", &O::eval_every, "Validate every N steps")
        .add("seed", "--train-seed", &O::seed, "Model init and data-order seed, the same for every child")
        .add("val_size", "--val-size", &O::val_size, "Training rows held out for validation")
        .add("test_size", "--test-size", &O::test_size,
             "Rows held out for the test without x_test.npy (0: a fifth)")
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

ArraysEvaluatorOptions resolved(const ArraysEvaluatorOptions& options) {
  ArraysEvaluatorOptions o = options;
  if (o.steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (o.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
  if (o.eval_every < 1) throw std::invalid_argument("eval interval must be >= 1");
  if (!(o.lr > 0.0)) throw std::invalid_argument("learning rate must be > 0");
  if (o.weight_decay < 0.0) throw std::invalid_argument("weight decay must be >= 0");
  if (o.val_size < 0) throw std::invalid_argument("val-size must be >= 0 (0: automatic)");
  if (o.test_size < 0) throw std::invalid_argument("test-size must be >= 0 (0: automatic)");
  if (o.init != "flax" && o.init != "torch")
    throw std::invalid_argument("unknown init scheme '" + o.init + "' (expected flax or torch)");
  if (o.threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (o.device != "auto" && o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    throw std::invalid_argument("unknown device '" + o.device + "' (auto, cpu, cuda, cuda:N)");
  if (o.cuda_graph != "on" && o.cuda_graph != "off")
    throw std::invalid_argument("unknown --cuda-graph '" + o.cuda_graph + "' (on or off)");
  if (!o.seeds_dir.empty()) {
    o.seeds_dir = fs::absolute(o.seeds_dir).lexically_normal().string();
    if (!fs::is_directory(o.seeds_dir)) throw std::invalid_argument("seed folder not found: " + o.seeds_dir);
  }
  const ArraysSummary data = inspect_arrays(o.data_dir);
  if (data.test_rows == 0 && o.test_size == 0) o.test_size = std::max<std::int64_t>(1, data.rows / 5);
  if (data.test_rows > 0) o.test_size = 0;  // the folder's own test set
  if (o.val_size == 0) {
    const std::int64_t left = data.rows - o.test_size;
    o.val_size = data.val_size ? *data.val_size : std::max<std::int64_t>(1, left / 5);
  }
  try {
    (void)split_arrays(data, o.val_size, o.test_size, o.split_seed);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(o.data_dir + ": " + e.what());
  }
  return o;
}

std::optional<nlohmann::json> ArraysTask::match(const std::string& name) const {
  if (name.rfind("arrays:", 0) != 0) return std::nullopt;
  const std::string dir = name.substr(7);
  if (dir.empty()) throw std::invalid_argument("task arrays: needs a data folder, e.g. arrays:data/digits");
  ArraysEvaluatorOptions o;
  o.data_dir = fs::absolute(dir).lexically_normal().string();
  if (o.data_dir.size() > 1 && o.data_dir.back() == '/') o.data_dir.pop_back();
  return arrays_option_table().to_json(o);
}

std::string ArraysTask::name_of(const nlohmann::json& options) const {
  return "arrays:" + options.at("data_dir").get<std::string>();
}

nlohmann::json ArraysTask::checked(const nlohmann::json& options) const {
  return arrays_option_table().to_json(resolved(arrays_option_table().from_json(options)));
}

ChildContract ArraysTask::contract() const { return {"Model", "struct Model : torch::nn::Module {"}; }

nlohmann::json ArraysTask::preset(const std::string& name) const {
  // As MNIST-1D's: paper is its protocol, quick a few minutes on a 2-core CPU.
  if (name == "paper") return {{"train", {{"steps", 8000}, {"eval_every", 250}}}};
  if (name == "quick")
    return {{"evolution", {{"rounds", 3}, {"prompts", 4}, {"samples", 4}, {"survivors", 4}}},
            {"train", {{"steps", 2000}, {"eval_every", 100}}}};
  throw std::invalid_argument("unknown preset '" + name + "' (quick, paper)");
}

std::vector<SeedSource> ArraysTask::seeds(const nlohmann::json& options) const {
  const auto o = arrays_option_table().from_json(options);
  if (o.seeds_dir.empty()) {
    const ArraysSummary data = inspect_arrays(o.data_dir);
    return generic_seeds(data.input_shape, data.classes);
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(o.seeds_dir))
    if (e.is_regular_file() && e.path().extension() == ".cpp") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::invalid_argument(o.seeds_dir + ": no seed files (*.cpp)");
  std::vector<SeedSource> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) throw std::invalid_argument(f.string() + ": cannot read the seed file");
    out.push_back({f.stem().string(), f.string(), text.str()});
  }
  return out;
}

std::optional<DataDescription> ArraysTask::data_description(const nlohmann::json& options) const {
  const ArraysSummary data = inspect_arrays(options.at("data_dir").get<std::string>());
  return DataDescription{data.description, data.input_shape, data.classes};
}

}  // namespace evoprompt::tasks
