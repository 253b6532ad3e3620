// The user's own data as a task, `arrays:DIR`: children are `struct Model`
// classifiers of DIR's rows (arrays_data.hpp), trained and scored under the
// MNIST-1D protocol (AdamW, best validation accuracy, fitness -params x error).
#pragma once

#include <cstdint>
#include <string>

#include "tasks/task.hpp"

namespace evoprompt {

struct ArraysEvaluatorOptions {
  std::string data_dir;             // from the name: arrays:DIR, absolute
  std::string seeds_dir;            // the user's seed files (*.cpp); empty: seeds sized from the data
  std::int64_t steps = 8000;
  std::int64_t batch_size = 128;
  double lr = 0.01;
  double weight_decay = 1e-4;
  std::int64_t eval_every = 250;
  std::uint32_t seed = 0;           // model init and batch order, the same for every child
  std::int64_t val_size = 0;        // 0: task.toml's val_size, else a fifth of the training rows
  std::int64_t test_size = 0;       // without test files; 0: a fifth of the rows
  std::uint32_t split_seed = 42;
  std::string init = "flax";
  std::string device = "auto";
  std::string cuda_graph = "on";    // on a GPU: the training step captured once and replayed
  int threads = 0;
  std::string cache_dir;
  std::string weights_dir;          // non-empty: each child's best weights as DIR/<name>.safetensors
  double gpu_memory_fraction = 0.0;
};

namespace tasks {

const OptionTable<ArraysEvaluatorOptions>& arrays_option_table();
// The options with the automatic sizes resolved, checked against the data.
// Throws std::invalid_argument naming the first bad setting or file.
ArraysEvaluatorOptions resolved(const ArraysEvaluatorOptions& options);

class ArraysTask : public Task {
 public:
  std::string usage() const override { return "arrays:DIR"; }
  std::optional<nlohmann::json> match(const std::string& name) const override;
  std::string name_of(const nlohmann::json& options) const override;
  const std::vector<OptionField>& options() const override { return arrays_option_table().fields(); }
  nlohmann::json checked(const nlohmann::json& options) const override;
  ChildContract contract() const override;
  nlohmann::json preset(const std::string& name) const override;
  std::vector<SeedSource> seeds(const nlohmann::json& options) const override;
  std::optional<DataDescription> data_description(const nlohmann::json& options) const override;
  std::unique_ptr<Evaluator> make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const override;
  CompileCheck check_child(const std::string& source, const std::string& name) const override;  // arrays_evaluator.cpp
};

// Built-in seeds for rows of `shape` and `classes` classes: a CNN for [C, L]
// and [C, H, W], then two MLPs (one residual block of 64; one layer of 16).
std::vector<SeedSource> generic_seeds(const std::vector<std::int64_t>& shape, std::int64_t classes);

}  // namespace tasks
}  // namespace evoprompt
