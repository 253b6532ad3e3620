// The one narrow interface between the search and everything that runs a
// child: compile, check, train, score. The engine sees only this header
// (no torch), so worker processes can slot in behind it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace evoprompt {

// What happened to one child. `verdict` is one of: evaluated, too_large,
// compile_error, policy, contract, runtime_error.
struct ChildResult {
  std::string verdict;
  std::string rule;
  std::string message;
  std::vector<std::string> diagnostics;
  std::int64_t params_used = 0;
  std::int64_t params_total = 0;
  double best_val_acc = 0.0;
  std::int64_t best_step = 0;
  double test_acc = 0.0;
  double compile_ms = 0.0;
  double train_ms = 0.0;
  std::int64_t steps = 0;
  double steps_per_s = 0.0;

  bool evaluated() const { return verdict == "evaluated"; }
};

struct EvaluationJob {
  std::string source;
  std::string name;
};

// Thrown by evaluate_many when the stop flag rose: in-flight children were
// abandoned, finished ones were already reported.
struct EvaluationInterrupted : std::runtime_error {
  EvaluationInterrupted() : std::runtime_error("interrupted") {}
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Never throws for a bad child: every failure is a verdict.
  virtual ChildResult evaluate(const std::string& source, const std::string& name) = 0;
  // Several children, possibly in parallel: `done(i, result)` runs on the
  // calling thread as each one finishes, in any order. The default runs them
  // one by one. A raised `stop` flag ends the batch with EvaluationInterrupted.
  virtual void evaluate_many(const std::vector<EvaluationJob>& jobs,
                             const std::function<void(std::size_t, const ChildResult&)>& done,
                             const std::atomic<bool>* stop = nullptr) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (stop && stop->load()) throw EvaluationInterrupted();
      done(i, evaluate(jobs[i].source, jobs[i].name));
    }
  }
  // Equal for two sources exactly when their token streams are equal
  // (whitespace and comments do not count).
  virtual std::string fingerprint(const std::string& source) = 0;
  // The line children complete, e.g. "struct Model : torch::nn::Module {".
  virtual std::string opening() const = 0;
  // Settings that decide scores, for the journal (JSON text).
  virtual std::string describe() const = 0;
};

// MNIST-1D children compiled by the JIT and trained in this process.
struct Mnist1dEvaluatorOptions {
  std::string data_dir;             // empty: the canonical arrays, else the generator
  std::int64_t steps = 8000;
  std::int64_t batch_size = 128;
  double lr = 0.01;
  double weight_decay = 1e-4;
  std::int64_t eval_every = 250;
  std::uint32_t seed = 0;           // model init and batch order, the same for every child
  std::int64_t val_size = 500;
  std::uint32_t split_seed = 42;
  std::string init = "flax";
  std::string device = "auto";
  int threads = 0;                  // 0: libtorch's default
  std::string cache_dir;            // prelude cache; empty: the user cache
  double gpu_memory_fraction = 0.0; // CUDA caching-allocator cap (0: none); a worker's GPU memory limit
};

// CLRS-30 children: triplet functions (`struct Triplet`) in Triplet-GMPNN,
// trained on one algorithm under Ibarz et al.'s protocol (clrs_training.hpp).
// Fitness uses the best val score; test is OOD (n = 64).
struct ClrsEvaluatorOptions {
  std::string algorithm = "bfs";
  std::int64_t steps = 2000;        // the paper's search; 10,000 for the baseline
  std::int64_t batch_size = 32;
  double lr = 1e-3;
  std::int64_t eval_every = 50;
  std::uint32_t seed = 42;          // data stream and model init, the same for every child
  std::int64_t hidden = 128;
  std::int64_t nb_triplet_fts = 8;
  std::int64_t test_samples = -1;   // first samples of the n = 64 test split; -1: all
  std::string device = "auto";
  int threads = 0;
  std::string cache_dir;
  double gpu_memory_fraction = 0.0;
};

// Throws std::invalid_argument naming the first bad setting (torch-free, so
// that a command line can refuse settings before any worker starts).
void validate(const ClrsEvaluatorOptions& options);

// The task children are scored on, with its settings.
using EvaluatorOptions = std::variant<Mnist1dEvaluatorOptions, ClrsEvaluatorOptions>;

// The default options of a task named "mnist1d" or "clrs:ALGORITHM" (any of
// the 30); throws std::invalid_argument for another name.
EvaluatorOptions task_options(const std::string& task);
// "mnist1d" or "clrs:ALGORITHM".
std::string task_name(const EvaluatorOptions& options);
// The line children of the task complete.
std::string task_opening(const EvaluatorOptions& options);

// Throw std::invalid_argument for bad options and std::runtime_error when
// the data or the JIT cannot be set up. `on_compiled(compile_ms)` runs
// between a child's compile and its training.
std::unique_ptr<Evaluator> make_mnist1d_evaluator(const Mnist1dEvaluatorOptions& options,
                                                  std::function<void(double)> on_compiled = {});
// `on_progress(step, loss, val_score)` runs after each validation.
using TrainingProgress = std::function<void(std::int64_t step, double loss, double val_score)>;
std::unique_ptr<Evaluator> make_clrs_evaluator(const ClrsEvaluatorOptions& options,
                                               std::function<void(double)> on_compiled = {},
                                               TrainingProgress on_progress = {});
std::unique_ptr<Evaluator> make_evaluator(const EvaluatorOptions& options,
                                          std::function<void(double)> on_compiled = {},
                                          TrainingProgress on_progress = {});

}  // namespace evoprompt
