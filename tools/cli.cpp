#include "cli.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace evoprompt::cli {

std::string read_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  // A folder opens as a stream too, and would read as an empty child.
  if (!in || !std::filesystem::is_regular_file(path)) throw UsageError(path + ": cannot read the child file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void LimitFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--compile-timeout-s", values.compile_timeout_s, "Compile time limit (verdict timeout)")
      ->capture_default_str();
  cmd->add_option("--train-timeout-s", values.train_timeout_s, "Training time limit (verdict timeout)")
      ->capture_default_str();
  cmd->add_option("--mem-limit-mb", values.mem_limit_mb,
                  "Resident memory limit per worker (verdict oom; 0: 3/4 of RAM over the workers, 1-16 GiB)")
      ->capture_default_str();
}

void TaskFlags::add_to(CLI::App* cmd, const std::string& default_task, bool with_task_flag) {
  task_ = default_task;
  if (with_task_flag)
    task_option_ = cmd->add_option("--task", task_, "Task: " + tasks::task_usages())->capture_default_str();
  for (const tasks::Task* t : tasks::all_tasks())
    for (const auto& f : t->options()) {
      if (f.scope != tasks::OptionScope::user || option_.count(f.flag)) continue;
      std::string help = f.help;
      std::string only;  // the tasks that have it, when not all do
      int having = 0;
      for (const tasks::Task* u : tasks::all_tasks())
        for (const auto& g : u->options())
          if (g.flag == f.flag) {
            ++having;
            only += (only.empty() ? "" : ", ") + u->usage();
          }
      if (having < static_cast<int>(tasks::all_tasks().size())) help = only + ": " + help;
      option_[f.flag] = cmd->add_option(f.flag, text_[f.flag], help);
    }
}

namespace {
// "task mnist1d" or "the clrs:ALGORITHM tasks": the tasks that take a flag, named as --task spells them.
std::string owners(const std::string& flag) {
  std::vector<std::string> usages;
  for (const tasks::Task* t : tasks::all_tasks())
    for (const auto& f : t->options())
      if (f.flag == flag) usages.push_back(t->usage());
  std::string names;
  for (const auto& u : usages) names += (names.empty() ? "" : ", ") + u;
  const bool family = usages.size() == 1 && usages[0].find(':') != std::string::npos;
  return family ? "the " + names + " tasks" : (usages.size() == 1 ? "task " : "tasks ") + names;
}
}  // namespace

bool TaskFlags::any_given() const {
  for (const auto& [flag, option] : option_)
    if (option->count()) return true;
  return false;
}

nlohmann::json TaskFlags::given(const tasks::TaskConfig& task) const {
  nlohmann::json table = nlohmann::json::object();
  for (const auto& [flag, option] : option_) {
    if (!option->count()) continue;
    const auto& fields = task.task->options();
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&, flag = flag](const tasks::OptionField& x) { return x.flag == flag; });
    if (f == fields.end()) throw UsageError(flag + " is a setting of " + owners(flag) + ", not " + task.name);
    table[f->key] = as_usage([&] { return tasks::parse_option_text(*f, text_.at(flag)); });
  }
  return table;
}

tasks::TaskConfig TaskFlags::resolve(const std::string& name, const nlohmann::json& base) const {
  return as_usage([&] {
    tasks::TaskConfig c = tasks::task_config(name, base);
    nlohmann::json options = c.options;
    const nlohmann::json flags = given(c);
    for (auto it = flags.begin(); it != flags.end(); ++it) options[it.key()] = it.value();
    return tasks::task_config(name, options);
  });
}

}  // namespace evoprompt::cli
