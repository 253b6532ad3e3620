// This process's place in an MPI job (mpirun or srun), when it was started
// by one: rank, size, host, and JSON messages to the other ranks. The only
// code that sees MPI. Built without MPI, or started without a launcher, a
// process joins no job and nothing changes.
#pragma once

#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

namespace evoprompt {

class MpiJob {
 public:
  // The job, when a launcher started this process (its variables are set)
  // and MPI was built in; nullptr otherwise. Throws std::runtime_error when
  // MPI cannot start.
  static std::unique_ptr<MpiJob> join(int* argc, char*** argv);
  ~MpiJob();  // delivers what is still being sent, then leaves the job
  MpiJob(const MpiJob&) = delete;
  MpiJob& operator=(const MpiJob&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& host() const { return host_; }

  // Never blocks: the message is on its way when this returns, and is
  // delivered as the job makes progress (any later call). Throws
  // std::runtime_error naming the rank when MPI refuses.
  void send(int to, const nlohmann::json& message);
  // A message that has arrived, with its sender; never blocks.
  std::optional<std::pair<int, nlohmann::json>> receive();

 private:
  MpiJob(int rank, int size, std::string host);
  void progress();  // completes the sends that are done

  struct Outgoing;
  int rank_;
  int size_;
  std::string host_;
  std::list<std::unique_ptr<Outgoing>> outgoing_;
};

// True when an MPI launcher started this process (Open MPI, PMIx, PMI).
bool started_by_mpi_launcher();
// The job's size as the launcher's variables tell it; 0 when they do not.
int launcher_world_size();

}  // namespace evoprompt
