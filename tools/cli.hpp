// What every command shares: the usage error, exit codes, the limit flags
// and the task flags (derived from the tasks' option tables). The commands
// themselves, one file each, register in commands.hpp.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <stdexcept>
#include <string>

#include "tasks/task.hpp"
#include "worker_pool.hpp"

namespace evoprompt::cli {

// A usage error (bad flag value, unknown task, unreadable file): printed as
// one line, exit code 2, like a bad flag.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit codes beyond 0 and 2 (usage).
constexpr int kRejected = 1;      // a failure, or a rejected child
constexpr int kInterrupted = 130;

// `work()`, with std::invalid_argument turned into a UsageError.
template <class F>
auto as_usage(F&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// A child's file; a UsageError when it is not a readable file.
std::string read_source(const std::string& path);

// --compile-timeout-s, --train-timeout-s, --mem-limit-mb: the limits of a
// child in a worker.
struct LimitFlags {
  WorkerLimits values;
  void add_to(CLI::App* cmd);
};

// --task and one flag per task option (every task's, each spelled once in
// its table). A flag of another task is a usage error, never ignored.
class TaskFlags {
 public:
  // `fixed_task`: the command has no --task (clrs eval).
  void add_to(CLI::App* cmd, const std::string& default_task, bool with_task_flag = true);
  const std::string& task() const { return task_; }
  CLI::Option* task_option() const { return task_option_; }
  // The given flags as a [train] table for `task` (checked against its
  // fields); throws UsageError.
  nlohmann::json given(const tasks::TaskConfig& task) const;
  bool any_given() const;
  // `name`'s defaults, then `base` (a [train] table), then the flags given.
  tasks::TaskConfig resolve(const std::string& name, const nlohmann::json& base = nlohmann::json::object()) const;

 private:
  std::string task_;
  CLI::Option* task_option_ = nullptr;
  std::map<std::string, std::string> text_;  // by flag; stable addresses for CLI11
  std::map<std::string, CLI::Option*> option_;
};

}  // namespace evoprompt::cli
