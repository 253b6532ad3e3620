// evoprompt replay FILE | DIR:CHILD: compile a child with the JIT and train
// it in a supervised worker (a hostile file is tried under the limits).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "population.hpp"
#include "run_settings.hpp"

namespace evoprompt::cli {
namespace {

using nlohmann::json;

// DIR:CHILD rather than a file: DIR holds a journal and TARGET is not a file.
bool is_run_child(const std::string& target) {
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || std::filesystem::exists(target)) return false;
  return engine::Journal::exists(target.substr(0, colon));
}

int replay_run_child(const std::string& target, bool as_json, const WorkerLimits& limits) {
  const auto colon = target.rfind(':');
  const std::string dir = target.substr(0, colon), which = target.substr(colon + 1);
  const engine::Journal journal = as_usage([&] { return engine::Journal::open(dir); });
  auto child = journal.child_by_name(which);
  if (!child && !which.empty() && which.find_first_not_of("0123456789") == std::string::npos)
    child = journal.child(std::stoll(which));
  if (!child) throw UsageError(dir + " has no child '" + which + "' (names as in `evoprompt show`, or ids)");
  WorkerPoolOptions o;
  o.workers = 1;
  o.task = engine::stored_run_settings(journal).task;
  o.limits = limits;
  WorkerPool worker(o);
  const ChildResult now = worker.evaluate(child->source, child->name);
  const double fitness_now = now.evaluated() ? engine::fitness(now.params_used, now.best_val_acc) : 0.0;
  if (as_json) {
    std::cout << json{{"child", child->name},
                      {"stored", {{"verdict", to_string(child->verdict)}, {"params_used", child->params_used},
                                  {"val_acc", child->val_acc}, {"test_acc", child->test_acc},
                                  {"fitness", child->fitness}, {"train_ms", child->train_ms}}},
                      {"new", {{"verdict", to_string(now.verdict)}, {"rule", now.rule}, {"message", now.message},
                               {"params_used", now.params_used}, {"val_acc", now.best_val_acc},
                               {"test_acc", now.test_acc}, {"fitness", fitness_now}, {"train_ms", now.train_ms}}}}
                     .dump()
              << std::endl;
  } else {
    std::printf("child %s (id %lld) of %s\n%-10s %16s %16s\n", child->name.c_str(), static_cast<long long>(child->id),
                dir.c_str(), "", "stored", "new");
    std::printf("%-10s %16s %16s\n", "verdict", to_string(child->verdict), to_string(now.verdict));
    std::printf("%-10s %16lld %16lld\n", "params", static_cast<long long>(child->params_used),
                static_cast<long long>(now.params_used));
    std::printf("%-10s %16.4f %16.4f\n", "val_acc", child->val_acc, now.best_val_acc);
    std::printf("%-10s %16.4f %16.4f\n", "test_acc", child->test_acc, now.test_acc);
    std::printf("%-10s %16.1f %16.1f\n", "fitness", child->fitness, fitness_now);
    std::printf("%-10s %16.0f %16.0f\n", "train_ms", child->train_ms, now.train_ms);
    if (!now.evaluated()) std::printf("message: %s\n", now.message.c_str());
  }
  return now.evaluated() ? 0 : 1;
}


int replay_file(const std::string& file, const tasks::TaskConfig& task, bool as_json, const WorkerLimits& limits) {
  const auto source = read_source(file);
  WorkerPoolOptions pool;
  pool.workers = 1;
  pool.task = task;
  pool.limits = limits;
  WorkerPool worker(pool);
  const ChildResult r = worker.evaluate(source, std::filesystem::path(file).filename().string());
  const bool evaluated = r.evaluated();
  json out = {{"verdict", to_string(r.verdict)}, {"compile_ms", r.compile_ms}, {"train_ms", r.train_ms}};
  if (evaluated) {
    out["params_used"] = r.params_used;
    out["params_total"] = r.params_total;
    out["best_val_acc"] = r.best_val_acc;
    out["best_step"] = r.best_step;
    out["test_acc"] = r.test_acc;
    out["steps"] = r.steps;
    out["steps_per_s"] = r.steps_per_s;
    out["step_path"] = r.step_path;
  } else {
    out["rule"] = r.rule;
    out["message"] = r.message;
    out["diagnostics"] = r.diagnostics;
  }
  if (as_json) {
    std::cout << out.dump() << std::endl;
  } else if (evaluated) {
    std::printf("verdict: evaluated\nparams: %lld used, %lld total\nbest val acc: %.4f (step %lld)\n"
                "test acc: %.4f\ncompile: %.0f ms\ntrain: %.0f ms (%s)\n",
                static_cast<long long>(r.params_used), static_cast<long long>(r.params_total), r.best_val_acc,
                static_cast<long long>(r.best_step), r.test_acc, r.compile_ms, r.train_ms, r.step_path.c_str());
  } else {
    std::printf("verdict: %s\nrule: %s\nmessage: %s\n", to_string(r.verdict), r.rule.c_str(), r.message.c_str());
    for (const auto& d : r.diagnostics) std::printf("  %s\n", d.c_str());
    std::printf("compile: %.0f ms\n", r.compile_ms);
  }
  return evaluated ? 0 : kRejected;
}

struct ReplayCommand {
  std::string file;
  TaskFlags task;
  LimitFlags limits;
  bool json = false;
  int* exit_code;

  explicit ReplayCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "replay", "Compile a child with the JIT and train it under the paper's protocol, in a supervised worker");
    cmd->add_option("file", file, "The child's C++ source, or DIR:CHILD for a child of a run")->required();
    task.add_to(cmd, "mnist1d");
    limits.add_to(cmd);
    cmd->add_flag("--json", json, "Print one JSON object");
    cmd->callback([this] { run(); });
  }

  void run() {
    if (is_run_child(file)) {
      if (task.any_given() || task.task_option()->count())
        throw UsageError("replay DIR:CHILD trains with the run's stored settings; give no task flags");
      *exit_code = replay_run_child(file, json, limits.values);
      return;
    }
    *exit_code = replay_file(file, task.resolve(task.task()), json, limits.values);
  }
};

}  // namespace

void add_replay_command(CLI::App& app, int* exit_code) {
  static ReplayCommand replay(exit_code);
  replay.add_to(app);
}

}  // namespace evoprompt::cli
