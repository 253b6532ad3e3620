#include "mpi_job.hpp"

#include <cstdlib>
#include <stdexcept>

#ifdef EVOPROMPT_MPI
#include <mpi.h>
#endif

namespace evoprompt {

bool started_by_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

int launcher_world_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* n = std::getenv(v)) return std::atoi(n);
  return 0;
}

#ifdef EVOPROMPT_MPI

namespace {
constexpr int kTag = 7;

void check(int rc, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error("MPI: " + what + ": " + std::string(text, static_cast<std::size_t>(length)));
}
}  // namespace

struct MpiJob::Outgoing {
  std::string bytes;
  MPI_Request request = MPI_REQUEST_NULL;
};

MpiJob::MpiJob(int rank, int size, std::string host) : rank_(rank), size_(size), host_(std::move(host)) {}

std::unique_ptr<MpiJob> MpiJob::join(int* argc, char*** argv) {
  if (!started_by_mpi_launcher()) return nullptr;
  int provided = 0;
  // Only the main thread calls MPI; the LM's threads never do.
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "init");
  // Errors come back as values: a lost peer is a message, not an abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1, length = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  MPI_Get_processor_name(name, &length);
  return std::unique_ptr<MpiJob>(new MpiJob(rank, size, std::string(name, static_cast<std::size_t>(length))));
}

MpiJob::~MpiJob() {
  for (auto& o : outgoing_) MPI_Wait(&o->request, MPI_STATUS_IGNORE);
  MPI_Finalize();
}

void MpiJob::send(int to, const nlohmann::json& message) {
  progress();
  auto o = std::make_unique<Outgoing>();
  o->bytes = message.dump();
  check(MPI_Isend(o->bytes.data(), static_cast<int>(o->bytes.size()), MPI_CHAR, to, kTag, MPI_COMM_WORLD, &o->request),
        "send to rank " + std::to_string(to));
  outgoing_.push_back(std::move(o));
}

std::optional<std::pair<int, nlohmann::json>> MpiJob::receive() {
  progress();
  int arrived = 0;
  MPI_Status status;
  check(MPI_Iprobe(MPI_ANY_SOURCE, kTag, MPI_COMM_WORLD, &arrived, &status), "probe");
  if (!arrived) return std::nullopt;
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  check(MPI_Recv(bytes.data(), count, MPI_CHAR, status.MPI_SOURCE, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "receive from rank " + std::to_string(status.MPI_SOURCE));
  return std::make_pair(status.MPI_SOURCE, nlohmann::json::parse(bytes));
}

void MpiJob::progress() {
  for (auto it = outgoing_.begin(); it != outgoing_.end();) {
    int done = 0;
    MPI_Test(&(*it)->request, &done, MPI_STATUS_IGNORE);
    it = done ? outgoing_.erase(it) : std::next(it);
  }
}

#else  // built without MPI: no process ever joins a job

struct MpiJob::Outgoing {};

MpiJob::MpiJob(int rank, int size, std::string host) : rank_(rank), size_(size), host_(std::move(host)) {}

std::unique_ptr<MpiJob> MpiJob::join(int*, char***) { return nullptr; }
MpiJob::~MpiJob() = default;
void MpiJob::send(int, const nlohmann::json&) { throw std::logic_error("evoprompt was built without MPI"); }
std::optional<std::pair<int, nlohmann::json>> MpiJob::receive() { return std::nullopt; }
void MpiJob::progress() {}

#endif

}  // namespace evoprompt
