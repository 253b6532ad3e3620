// The commands that work on run folders: evolve, show, dump, and replay of a
// journal's child. No torch in here: evaluation goes through Evaluator.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "evolution.hpp"
#include "worker_pool.hpp"

namespace evoprompt::cli {

// A usage error (bad flag value, unknown task, unreadable file): printed as
// one line, exit code 2, like a bad flag.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit codes beyond 0, 1 (failure or a rejected child) and 2 (usage).
constexpr int kInterrupted = 130;

// --compile-timeout-s, --train-timeout-s, --mem-limit-mb: the limits of a
// child in a worker (evolve has them too, stored with the run).
struct LimitFlags {
  WorkerLimits values;
  void add_to(CLI::App* cmd);
  WorkerLimits limits() const { return values; }
};

// The first parent pool of each task: MNIST-1D's four seeds, and the nine
// seed triplet functions v1..v9 for every CLRS algorithm.
struct TaskSeeds {
  std::vector<engine::SeedProgram> mnist1d, clrs;
};

void add_run_commands(CLI::App& app, int* exit_code, TaskSeeds seeds);

// `replay DIR:CHILD` instead of `replay FILE`: DIR holds a journal and
// TARGET is not a file.
bool is_run_child(const std::string& target);
int replay_run_child(const std::string& target, bool json, const LimitFlags& limits);

}  // namespace evoprompt::cli
