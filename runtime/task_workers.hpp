// What every evaluator with workers shares, whether its workers are this
// machine's processes (WorkerPool) or other MPI ranks' pools (RankWorkers):
// the task's contract in the driver, one child on the stream, and the
// workers' states for the journal.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "evaluator.hpp"
#include "tasks/task.hpp"

namespace evoprompt {

struct WorkerState {
  int slot = 0;
  int pid = 0;
  std::string state;            // starting | idle | busy | stopped
  std::int64_t children = 0;    // finished on this slot, all processes
  int restarts = 0;
  std::string last_exit;        // how the last process of this slot ended
  int rank = 0;                 // the MPI rank whose pool runs it (0: the driver's)
  std::string host;
};

class TaskWorkers : public Evaluator {
 public:
  ChildResult evaluate(const std::string& source, const std::string& name) override;
  std::string fingerprint(const std::string& source) override;
  std::string opening() const override;
  std::optional<DataDescription> data_description() const override;

  virtual std::vector<WorkerState> states() const = 0;
  // Called on every change of a worker's state (for the journal).
  void on_state_change(std::function<void(const WorkerState&)> callback) { on_state_ = std::move(callback); }

 protected:
  explicit TaskWorkers(tasks::TaskConfig task) : task_(std::move(task)) {}
  void publish(const WorkerState& state) const {
    if (on_state_) on_state_(state);
  }
  const tasks::TaskConfig& task() const { return task_; }

 private:
  tasks::TaskConfig task_;
  std::function<void(const WorkerState&)> on_state_;
};

}  // namespace evoprompt
