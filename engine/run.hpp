// A run, composed: its settings checked, the LM checked, the workers
// started, the journal made or reopened, then Algorithm 1 to the end. The
// CLI only parses flags into RunSettings and prints what a Run reports.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "evolution.hpp"
#include "mpi_job.hpp"
#include "report.hpp"
#include "run_lock.hpp"
#include "run_settings.hpp"

namespace evoprompt::engine {

// How a run's driver ended.
enum class RunEnd { finished, interrupted };

class Run {
 public:
  // A new run in `dir`. Everything that can refuse the settings runs before
  // the journal exists: std::invalid_argument for bad settings, RunLocked
  // for a folder another driver holds, codegen::LanguageModelError or
  // std::runtime_error for an LM that cannot serve (in seconds, before any
  // seed trains).
  // Under MPI (`job` of 2 or more ranks), the workers are the other ranks'.
  static Run start(const std::string& dir, RunSettings settings, MpiJob* job = nullptr);
  // The interrupted run in `dir`, with its stored settings. Throws
  // std::invalid_argument when `dir` holds no run, RunLocked, or
  // std::runtime_error for a journal it cannot continue.
  static Run resume(const std::string& dir, MpiJob* job = nullptr);

  Run(Run&&) noexcept;
  Run& operator=(Run&&) noexcept;
  ~Run();

  const RunSettings& settings() const;
  bool finished() const;  // a resumed run that had already finished
  // Algorithm 1 to the end or to `stop`; the journal's status follows.
  // Rethrows what stopped it, after marking the journal "stopped".
  RunEnd run(ProgressSink progress, const std::atomic<bool>* stop);
  RunSummary summary() const;
  // The answer re-trained with K more training seeds (reeval.hpp), after
  // the search has finished; rows the journal holds are not redone.
  void reevaluate(int k, const std::function<void(const ReevalRecord&)>& on_row = {});

  struct State;  // opaque

 private:
  explicit Run(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace evoprompt::engine
