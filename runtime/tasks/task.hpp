// A task: what children are scored on. One definition each (its folder under
// runtime/tasks/), listed once in the registry (registry.cpp). The CLI, the
// workers and the journal know tasks only through this header. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evaluator.hpp"
#include "tasks/option_table.hpp"
#include "verdict.hpp"

namespace evoprompt::tasks {

// What a child of the task is: the record it defines (the JIT's contract
// check, and the grammar `--lm mutate` reads a parent with: codegen's
// operators dispatch on it), and the line it opens with (prompts, extraction).
struct ChildContract {
  std::string record;   // e.g. "Model"
  std::string opening;  // e.g. "struct Model : torch::nn::Module {"
};

struct SeedSource {
  std::string name;    // e.g. "cnn"
  std::string file;    // under seeds_cpp/ (e.g. "mnist1d/cnn.cpp"), or the user's file
  std::string source;  // embedded at build time, generated, or read
  bool first_parent = true;  // in the search's first parent pool (else `seeds` only)
};

struct CompileCheck {
  jit::Verdict verdict;
  double compile_ms = 0.0;
};

// Called between a child's compile and its training, and after each validation.
struct EvaluatorHooks {
  std::function<void(double compile_ms)> on_compiled;
  TrainingProgress on_progress;
};

class Task {
 public:
  virtual ~Task() = default;

  // The task's names as users write them, e.g. "clrs:ALGORITHM".
  virtual std::string usage() const = 0;
  // The default options for `name`; nullopt when `name` is not this task's.
  // Throws std::invalid_argument for a name of this task that is wrong.
  virtual std::optional<nlohmann::json> match(const std::string& name) const = 0;
  // The name of the task instance the options describe, canonical (e.g. an
  // absolute data path): what the journal stores.
  virtual std::string name_of(const nlohmann::json& options) const = 0;

  virtual const std::vector<OptionField>& options() const = 0;
  // All fields: defaults filled in, then checked. Throws std::invalid_argument
  // naming the first unknown key, wrong type or bad value.
  virtual nlohmann::json checked(const nlohmann::json& options) const = 0;

  virtual ChildContract contract() const = 0;
  // A preset as the config file's tables ({"evolution": ..., "train": ...,
  // "workers": ...}); throws std::invalid_argument for an unknown one.
  virtual nlohmann::json preset(const std::string& name) const = 0;
  // The seeds of the instance the options describe.
  virtual std::vector<SeedSource> seeds(const nlohmann::json& options) const = 0;
  // What prompts say about the data; none for the paper's tasks.
  virtual std::optional<DataDescription> data_description(const nlohmann::json&) const { return std::nullopt; }

  // Throws std::invalid_argument for bad options, std::runtime_error when
  // the data or the JIT cannot be set up.
  virtual std::unique_ptr<Evaluator> make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const = 0;
  // The JIT's verdict on a child under the task's contract, in this process,
  // without running it (`evoprompt check`).
  virtual CompileCheck check_child(const std::string& source, const std::string& name) const = 0;
};

// The presets every task has: quick (minutes on a CPU) and paper.
inline const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names{"quick", "paper"};
  return names;
}

// Every task, in the registry's order.
const std::vector<const Task*>& all_tasks();
// "mnist1d, clrs:ALGORITHM".
std::string task_usages();

// One task instance: its canonical name and its whole options.
struct TaskConfig {
  const Task* task = nullptr;
  std::string name;
  nlohmann::json options;

  // Only what a run stores (no machine-scoped field).
  nlohmann::json stored_options() const;
  // {"task": name, "options": options}, for the worker pipe.
  nlohmann::json to_json() const;
  static TaskConfig from_json(const nlohmann::json& j);
};

// The only parser of task names. Throws std::invalid_argument, e.g.
// "unknown task 'x' (available: mnist1d, clrs:ALGORITHM)".
TaskConfig find_task(const std::string& name);
// `name` with `options` over its defaults, checked; the name must match the
// options (clrs:bfs with algorithm bfs). Throws std::invalid_argument.
TaskConfig task_config(const std::string& name, const nlohmann::json& options);

std::unique_ptr<Evaluator> make_evaluator(const TaskConfig& config, EvaluatorHooks hooks = {});

}  // namespace evoprompt::tasks
