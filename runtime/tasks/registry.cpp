// The registry: the one list of tasks. Adding a task is one line here.
#include "tasks/task.hpp"

#include "tasks/arrays/arrays_task.hpp"
#include "tasks/clrs/clrs_task.hpp"
#include "tasks/mnist1d/mnist1d_task.hpp"
#include "tasks/sim/sim_task.hpp"

namespace evoprompt::tasks {

const std::vector<const Task*>& all_tasks() {
  static const Mnist1dTask mnist1d;
  static const ClrsTask clrs;
  static const ArraysTask arrays;
  static const SimTask sim;
  static const std::vector<const Task*> tasks{&mnist1d, &clrs, &arrays, &sim};
  return tasks;
}

std::string task_usages() {
  std::string s;
  for (const Task* t : all_tasks()) s += (s.empty() ? "" : ", ") + t->usage();
  return s;
}

nlohmann::json TaskConfig::stored_options() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : task->options())
    if (f.scope != OptionScope::machine) j[f.key] = options.at(f.key);
  return j;
}

nlohmann::json TaskConfig::to_json() const { return {{"task", name}, {"options", options}}; }

TaskConfig TaskConfig::from_json(const nlohmann::json& j) {
  return task_config(j.at("task").get<std::string>(), j.at("options"));
}

TaskConfig find_task(const std::string& name) {
  for (const Task* t : all_tasks())
    if (auto defaults = t->match(name)) {
      nlohmann::json options = t->checked(*defaults);
      return {t, t->name_of(options), std::move(options)};
    }
  throw std::invalid_argument("unknown task '" + name + "' (available: " + task_usages() + ")");
}

TaskConfig task_config(const std::string& name, const nlohmann::json& options) {
  TaskConfig c = find_task(name);
  nlohmann::json merged = c.options;
  if (!options.is_object()) throw std::invalid_argument("task options must be a JSON object");
  for (auto it = options.begin(); it != options.end(); ++it) merged[it.key()] = it.value();
  c.options = c.task->checked(merged);
  if (c.task->name_of(c.options) != c.name)
    throw std::invalid_argument("task " + name + " with the options of " + c.task->name_of(c.options));
  return c;
}

std::unique_ptr<Evaluator> make_evaluator(const TaskConfig& config, EvaluatorHooks hooks) {
  return config.task->make_evaluator(config.options, std::move(hooks));
}

}  // namespace evoprompt::tasks
