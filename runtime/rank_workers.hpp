// `mpirun -n N evoprompt evolve`: rank 0 runs the search, the LM and the
// journal; every other rank runs a WorkerPool on its node. RankWorkers is
// rank 0's evaluator over those pools: children go out on demand, to the
// first rank with a free worker, and results come back as they finish.
// serve_rank is what every other rank does until rank 0 lets it go.
#pragma once

#include <deque>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpi_job.hpp"
#include "task_workers.hpp"
#include "worker_pool.hpp"

namespace evoprompt {

// A rank that stopped answering: its node or its process died. The job
// ends (MPI's rule); the journal is consistent for a --resume.
struct RankLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class RankWorkers : public TaskWorkers {
 public:
  // Starts a pool on every rank but this one (rank 0) and waits until each
  // is ready. Throws std::runtime_error naming a rank that cannot start.
  RankWorkers(MpiJob& job, WorkerPoolOptions options);
  ~RankWorkers() override;  // the ranks stop their pools and wait for the next
  RankWorkers(const RankWorkers&) = delete;
  RankWorkers& operator=(const RankWorkers&) = delete;

  void submit(std::size_t ticket, EvaluationJob job) override;
  std::vector<EvaluationEvent> poll(std::chrono::milliseconds timeout) override;
  std::size_t in_flight() const override { return jobs_.size(); }
  // Also asks every rank whether it is still there: RankLost names the
  // first that does not answer (the usual cause of a stop under MPI).
  void abandon() override;
  std::string describe() const override;
  std::vector<WorkerState> states() const override;
  int workers() const;

 private:
  struct Rank {
    int rank = 0;
    std::string host;
    int pid = 0;
    int slots = 0;
    int busy = 0;
    int first_slot = 0;  // its workers' slots in the journal
  };
  struct Placed {
    std::size_t ticket;  // the caller's
    int rank;
  };
  void dispatch();
  void handle(int from, const nlohmann::json& message);
  Rank& rank(int r) { return ranks_.at(static_cast<std::size_t>(r - 1)); }
  WorkerState global(const WorkerState& local, const Rank& r) const;

  MpiJob& job_;
  WorkerPoolOptions options_;
  std::vector<Rank> ranks_;  // ranks 1..N-1
  std::string describe_;
  // Children by this evaluator's own id (unique for its life, so a late
  // result of an abandoned child is told apart), waiting or placed.
  std::size_t next_id_ = 0;
  std::map<std::size_t, EvaluationJob> jobs_;
  std::map<std::size_t, Placed> placed_;
  std::map<std::size_t, std::size_t> id_of_ticket_;
  std::deque<std::size_t> queue_;
  std::vector<EvaluationEvent> events_;
  std::map<std::pair<int, int>, WorkerState> states_;  // by (rank, its slot)
};

// Every rank but 0: serves rank 0's pools until rank 0 says quit, or the
// launcher ends the job. Returns the process's exit code.
int serve_rank(MpiJob& job);

}  // namespace evoprompt
