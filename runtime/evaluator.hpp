// The one narrow interface between the search and everything that runs a
// child: compile, check, train, score. The engine sees only this header
// (no torch), so worker processes can slot in behind it.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "verdict.hpp"

namespace evoprompt {

// What happened to one child: evaluated, or why not (too_large,
// compile_error, policy, contract, runtime_error, crash, timeout, oom).
struct ChildResult {
  VerdictKind verdict = VerdictKind::pending;
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
  std::string step_path;  // how its training steps ran (TrainResult::step_path); empty: not trained

  bool evaluated() const { return verdict == VerdictKind::evaluated; }
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

// What an evaluator reports about a submitted child: it compiled (its
// training has begun), or it finished with a result.
struct EvaluationEvent {
  enum class Kind { compiled, finished };
  Kind kind = Kind::finished;
  std::size_t ticket = 0;
  ChildResult result;  // finished only
};

// What prompts tell the LM about a user's data (the paper's tasks have none:
// their prompts stay the paper's).
struct DataDescription {
  std::string text;                       // one line, e.g. "handwritten digits, 8x8"
  std::vector<std::int64_t> input_shape;  // per row, e.g. {1, 8, 8}
  std::int64_t classes = 0;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Never throws for a bad child: every failure is a verdict.
  virtual ChildResult evaluate(const std::string& source, const std::string& name) = 0;
  // The stream: children go in with the caller's ticket whenever they are
  // ready, and poll() waits up to `timeout` for something to happen. Run
  // in parallel by evaluators with workers; the default runs one queued
  // child per poll, in this thread. All on one thread.
  virtual void submit(std::size_t ticket, EvaluationJob job);
  virtual std::vector<EvaluationEvent> poll(std::chrono::milliseconds timeout);
  // Submitted and not yet finished.
  virtual std::size_t in_flight() const { return queue_.size(); }
  // Forgets every child in flight (running ones are killed); none of them
  // gets an event. For a run that stops.
  virtual void abandon() { queue_.clear(); }

  // A batch on the stream: `done(i, result)` runs on this thread as each one
  // finishes, in any order. A raised `stop` flag ends it with
  // EvaluationInterrupted.
  void evaluate_many(const std::vector<EvaluationJob>& jobs,
                     const std::function<void(std::size_t, const ChildResult&)>& done,
                     const std::atomic<bool>* stop = nullptr);
  // Equal for two sources exactly when their token streams are equal
  // (whitespace and comments do not count).
  virtual std::string fingerprint(const std::string& source) = 0;
  // The line children complete, e.g. "struct Model : torch::nn::Module {".
  virtual std::string opening() const = 0;
  // For the prompts' header; none for the paper's tasks.
  virtual std::optional<DataDescription> data_description() const { return std::nullopt; }
  // Settings that decide scores, for the journal (JSON text).
  virtual std::string describe() const = 0;

 private:
  std::deque<std::pair<std::size_t, EvaluationJob>> queue_;  // the default stream
};

// `on_progress(step, loss, val_score)` runs after each validation.
using TrainingProgress = std::function<void(std::int64_t step, double loss, double val_score)>;

}  // namespace evoprompt
