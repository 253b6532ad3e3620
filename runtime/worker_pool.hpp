// Untrusted children evaluated in supervised worker processes. The pool
// starts N long-lived workers once (posix_spawn of the evoprompt binary, so
// no worker inherits a CUDA context), sends them children over pipes, and
// enforces the limits: compile and train timeouts, an RSS ceiling, an output
// cap. A worker that dies or is killed turns into a verdict for its child
// and is replaced; every other worker keeps going.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "evaluator.hpp"
#include "gpu_devices.hpp"
#include "task_workers.hpp"
#include "tasks/task.hpp"

namespace evoprompt {

struct WorkerLimits {
  double compile_timeout_s = 300;     // from dispatch to "compiled"
  double train_timeout_s = 3600;      // from "compiled" to the result
  std::int64_t mem_limit_mb = 0;      // RSS ceiling per worker; 0: default_mem_limit_mb()
  std::size_t output_cap_bytes = 64 * 1024;  // of a child's stdout+stderr kept
};

struct WorkerPoolOptions {
  int workers = 0;                      // 0: default_worker_count()
  int workers_per_gpu = 1;              // the default's workers per visible GPU (small children share one)
  tasks::TaskConfig task;               // threads: per worker (0: the rule below)
  WorkerLimits limits;
  std::string executable;               // the evoprompt binary; empty: this process's own
  // Variables never passed to a worker, besides the usual secret names (see
  // is_secret_variable): the LM's API key variable.
  std::vector<std::string> secret_variables;
  double start_timeout_s = 300;         // a worker's start, prelude build included
  // The share of the first visible GPU (the driver's cuda:0) that the
  // driver's embedded LM holds: workers on that GPU split what is left.
  double lm_gpu_memory = 0.0;
  // After each validation of a child in training (tasks that report it: CLRS),
  // on the thread that calls poll().
  std::function<void(std::size_t job, std::int64_t step, double loss, double val_score)> on_progress;
};

// True for a variable that holds a credential by its name (..._API_KEY,
// ..._TOKEN, ...SECRET..., PASSWORD, AWS_..., and the like): workers run
// machine-written code and get none of them.
bool is_secret_variable(const std::string& name);
// True for an MPI launcher's variable (OMPI_..., PMIX_..., PMI_...): a worker
// is no MPI process, and must not look like one.
bool is_launcher_variable(const std::string& name);

// The threads rule: on CPU, one worker per core with one libtorch thread
// each (small models scale better across processes than across threads,
// and one thread keeps training bit-reproducible); with GPUs, `per_gpu`
// workers per GPU (one small child cannot fill a GPU) and the cores shared
// among them. Workers take the GPUs in turn, and those on one GPU split its
// memory.
int default_worker_count(const GpuMask& gpus = GpuMask::of_this_process(), int per_gpu = 1);
int default_threads_per_worker(int workers, const GpuMask& gpus);
// The cap on the GPU memory of the worker in `slot` (of `workers`, for
// `device`): 0.9 of its GPU, less `lm_share` on the first visible GPU (the
// driver's embedded LM), split among the workers on that GPU. 0: no GPU, no
// cap. Throws std::invalid_argument when the LM leaves the workers nothing.
double default_gpu_memory_fraction(int slot, int workers, const GpuMask& gpus, const std::string& device = "auto",
                                   double lm_share = 0.0);
std::int64_t default_mem_limit_mb(int workers);
// An evaluator's description (the workers' own, JSON text) with the pool's
// size and limits: what describe() of every evaluator with workers stores.
nlohmann::json describe_workers(const std::string& worker_describe, int workers, const WorkerLimits& limits);

class WorkerPool : public TaskWorkers {
 public:
  explicit WorkerPool(WorkerPoolOptions options);  // throws std::runtime_error when workers cannot start
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Children go to idle workers in the order submitted; events come back as
  // workers report, in any order.
  void submit(std::size_t ticket, EvaluationJob job) override;
  std::vector<EvaluationEvent> poll(std::chrono::milliseconds timeout) override;
  std::size_t in_flight() const override { return jobs_.size(); }
  void abandon() override;
  int workers() const { return static_cast<int>(workers_.size()); }
  std::string describe() const override;
  std::vector<WorkerState> states() const override;

 private:
  struct Worker;
  void start(Worker& w);
  void stop(Worker& w);
  // Reaps a dead worker, reports its child (if any) and, when `restart`, replaces it.
  void finish_dead(Worker& w, bool restart = true);
  void dispatch();
  void read_from(Worker& w);
  void watch(Worker& w);
  void report(std::size_t ticket, ChildResult result);

  WorkerPoolOptions options_;
  std::string describe_;
  std::string device_;  // the evaluator's device setting
  bool auto_gpu_memory_ = false;  // each worker's cap from default_gpu_memory_fraction
  GpuMask gpus_;        // read once: what the workers' masks are cut from
  std::vector<std::unique_ptr<Worker>> workers_;
  // The stream: children by ticket until they finish, those waiting for a
  // worker, those that crashed a worker once, and events not yet taken.
  std::map<std::size_t, EvaluationJob> jobs_;
  std::deque<std::size_t> queue_;
  std::set<std::size_t> crashed_once_;
  std::vector<EvaluationEvent> events_;
};

}  // namespace evoprompt
