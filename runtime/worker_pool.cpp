#include "worker_pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "gpu_devices.hpp"
#include "worker_main.hpp"
#include "worker_protocol.hpp"

extern char** environ;

namespace evoprompt {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int visible_gpus(const GpuMask& gpus) { return static_cast<int>(gpus.visible().size()); }

int cores() { return std::max(1u, std::thread::hardware_concurrency()); }

std::int64_t rss_mb(int pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  long long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGTRAP: return "SIGTRAP";
    default: return "signal " + std::to_string(sig);
  }
}

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("workers: cannot find this program's path: " + ec.message());
  return p.string();
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string this_host() {
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("localhost");
}

std::string tail(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(s.size() - n); }

}  // namespace

bool is_secret_variable(const std::string& name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* part : {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE"})
    if (upper.find(part) != std::string::npos) return true;
  for (const char* prefix : {"AWS_", "AZURE_", "GCP_", "GOOGLE_", "GH_", "GITHUB_", "HF_", "HUGGING"})
    if (upper.rfind(prefix, 0) == 0) return true;
  return false;
}

bool is_launcher_variable(const std::string& name) {
  for (const char* prefix : {"OMPI_", "PMIX_", "PMI_", "OPAL_"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

int default_worker_count(const GpuMask& gpus, int per_gpu) {
  const int n = visible_gpus(gpus);
  return n > 0 ? n * std::max(1, per_gpu) : cores();
}

int default_threads_per_worker(int workers, const GpuMask& gpus) {
  return visible_gpus(gpus) > 0 ? std::max(1, cores() / std::max(1, workers)) : 1;
}

double default_gpu_memory_fraction(int slot, int workers, const GpuMask& gpus, const std::string& device,
                                   double lm_share) {
  const int n = visible_gpus(gpus);
  if (n == 0 || device == "cpu") return 0.0;
  workers = std::max(1, workers);
  // Which visible GPU the slot trains on, and how many workers share it
  // (as GpuMask::for_worker hands them out).
  int gpu = 0, sharing = workers;
  if (device.rfind("cuda:", 0) == 0) {
    gpu = std::atoi(device.c_str() + 5);
  } else if (n > 1) {
    gpu = slot % n;
    sharing = workers / n + (gpu < workers % n ? 1 : 0);
  }
  const double free = 0.9 - (gpu == 0 ? lm_share : 0.0);
  if (free < 0.05)
    throw std::invalid_argument("the embedded LM's GPU share (" + std::to_string(lm_share) +
                                ") leaves the workers on its GPU less than 5% of it");
  return free / sharing;
}

std::int64_t default_mem_limit_mb(int workers) {
  const std::int64_t total_mb =
      static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE) / (1024 * 1024);
  return std::clamp<std::int64_t>(total_mb * 3 / 4 / std::max(1, workers), 1024, 16384);
}

struct WorkerPool::Worker {
  WorkerState info;
  int to = -1;    // request pipe, write end
  int from = -1;  // reply pipe, read end
  int out = -1;   // the process's stdout and stderr, read end
  worker::FrameReader reader;
  bool alive = false;
  bool eof = false;
  // The child in flight.
  bool busy = false;
  std::size_t job = 0;
  bool training = false;
  double compile_ms = 0;
  Clock::time_point started, trained_from, deadline;
  std::string output;
  bool output_truncated = false;
  std::optional<VerdictKind> kill_verdict;  // set when the supervisor killed it
  std::string kill_rule, kill_message;
};

WorkerPool::WorkerPool(WorkerPoolOptions options)
    : TaskWorkers(options.task), options_(std::move(options)), gpus_(GpuMask::of_this_process()) {
  if (options_.workers <= 0) options_.workers = default_worker_count(gpus_, options_.workers_per_gpu);
  if (options_.limits.mem_limit_mb <= 0) options_.limits.mem_limit_mb = default_mem_limit_mb(options_.workers);
  // The machine-scoped fields every task has (see tasks/option_table.hpp).
  auto& e = options_.task.options;
  if (e.at("threads").get<int>() <= 0) e["threads"] = default_threads_per_worker(options_.workers, gpus_);
  device_ = e.at("device").get<std::string>();
  // Each worker's GPU memory cap is its own (start()), unless the user set one.
  auto_gpu_memory_ = e.at("gpu_memory_fraction").get<double>() <= 0.0;
  if (auto_gpu_memory_)  // checked now: a share the LM leaves too small is a usage error
    for (int slot = 0; slot < options_.workers; ++slot)
      default_gpu_memory_fraction(slot, options_.workers, gpus_, device_, options_.lm_gpu_memory);
  if (options_.limits.compile_timeout_s <= 0 || options_.limits.train_timeout_s <= 0)
    throw std::invalid_argument("timeouts must be > 0");
  if (options_.executable.empty()) options_.executable = self_executable();
  // A worker that dies while we write to it must give EPIPE (and a verdict),
  // not kill the driver.
  std::signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    workers_.back()->info.slot = i;
    workers_.back()->info.host = this_host();
  }
  try {
    for (auto& w : workers_) start(*w);
  } catch (...) {
    for (auto& w : workers_) stop(*w);
    throw;
  }
}

WorkerPool::~WorkerPool() {
  for (auto& w : workers_) stop(*w);
}

void WorkerPool::start(Worker& w) {
  int to[2], from[2], out[2];
  if (::pipe2(to, O_CLOEXEC) || ::pipe2(from, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC))
    throw std::runtime_error(std::string("workers: pipe: ") + std::strerror(errno));
  // posix_spawn (clone with a shared, suspended address space, then exec),
  // not fork: the driver may already hold a CUDA context (an embedded LM on a
  // GPU), and a forked copy of that is unsafe. The worker sets its own
  // parent-death signal (see run_worker), given the driver's pid.
  const std::string exe = options_.executable;
  const char* argv[] = {exe.c_str(), "__worker", nullptr};
  // One GPU of the visible ones per worker, unless the device names one.
  const std::optional<std::string> gpu = gpus_.for_worker(w.info.slot, device_);
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    const std::string name(*e, std::strcspn(*e, "="));
    if (name == "EVOPROMPT_WORKER_PARENT" || is_secret_variable(name) || is_launcher_variable(name)) continue;
    if (name == "CUDA_VISIBLE_DEVICES" && gpu) continue;
    if (std::find(options_.secret_variables.begin(), options_.secret_variables.end(), name) !=
        options_.secret_variables.end())
      continue;
    env_text.emplace_back(*e);
  }
  env_text.push_back("EVOPROMPT_WORKER_PARENT=" + std::to_string(::getpid()));
  if (gpu) env_text.push_back("CUDA_VISIBLE_DEVICES=" + *gpu);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  // High copies first, so that mapping them onto 1-4 cannot clobber a pipe end.
  const int high[3] = {::fcntl(to[0], F_DUPFD_CLOEXEC, 10), ::fcntl(from[1], F_DUPFD_CLOEXEC, 10),
                       ::fcntl(out[1], F_DUPFD_CLOEXEC, 10)};
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, high[0], worker::kRequestFd);
  posix_spawn_file_actions_adddup2(&files, high[1], worker::kReplyFd);
  posix_spawn_file_actions_adddup2(&files, high[2], 1);
  posix_spawn_file_actions_adddup2(&files, high[2], 2);
  posix_spawnattr_init(&attr);
  // Its own process group: a terminal's Ctrl-C reaches the driver only.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawned = (high[0] < 0 || high[1] < 0 || high[2] < 0)
                          ? errno
                          : ::posix_spawn(&pid, exe.c_str(), &files, &attr, const_cast<char* const*>(argv), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  for (int fd : high)
    if (fd >= 0) ::close(fd);
  if (spawned != 0) {
    for (int fd : {to[0], to[1], from[0], from[1], out[0], out[1]}) ::close(fd);
    throw std::runtime_error("workers: cannot start " + exe + ": " + std::strerror(spawned));
  }
  ::close(to[0]);
  ::close(from[1]);
  ::close(out[1]);
  w.to = to[1];
  w.from = from[0];
  w.out = out[0];
  set_nonblocking(w.from);
  set_nonblocking(w.out);
  w.reader = worker::FrameReader();
  w.info.pid = pid;
  w.info.state = "starting";
  w.alive = true;
  w.eof = false;
  w.busy = false;
  publish(w.info);

  nlohmann::json init = options_.task.to_json();
  init["op"] = "init";
  if (auto_gpu_memory_)
    init["options"]["gpu_memory_fraction"] =
        default_gpu_memory_fraction(w.info.slot, options_.workers, gpus_, device_, options_.lm_gpu_memory);
  worker::send_message(w.to, init);
  // Wait for "ready", keeping the worker's output for the error message.
  const auto t0 = Clock::now();
  std::string early_output;
  for (;;) {
    pollfd fds[2] = {{w.from, POLLIN, 0}, {w.out, POLLIN, 0}};
    ::poll(fds, 2, 100);
    char buf[65536];
    ssize_t r;
    while ((r = ::read(w.out, buf, sizeof buf)) > 0) early_output = tail(early_output + std::string(buf, r), 4096);
    while ((r = ::read(w.from, buf, sizeof buf)) > 0) w.reader.feed(buf, static_cast<std::size_t>(r));
    const bool closed = r == 0;
    if (auto m = w.reader.next()) {
      if (m->at("type") == "ready") {
        if (describe_.empty()) describe_ = m->value("describe", "{}");
        w.info.state = "idle";
        publish(w.info);
        return;
      }
      const std::string why = m->value("message", "unexpected message");
      stop(w);
      throw std::runtime_error("worker failed to start: " + why);
    }
    if (closed || seconds_since(t0) > options_.start_timeout_s) {
      stop(w);
      const std::string last = early_output.substr(0, early_output.find('\n'));
      throw std::runtime_error(std::string("worker failed to start") + (closed ? "" : " in time") +
                               (last.empty() ? "" : ": " + last));
    }
  }
}

void WorkerPool::stop(Worker& w) {
  if (!w.alive) return;
  close_fd(w.to);  // end of requests: an idle worker exits by itself
  int status = 0;
  bool reaped = false;
  for (int i = 0; i < 20 && !w.busy; ++i) {
    if (::waitpid(w.info.pid, &status, WNOHANG) == w.info.pid) {
      reaped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (!reaped) {
    ::kill(w.info.pid, SIGKILL);
    ::waitpid(w.info.pid, &status, 0);
  }
  close_fd(w.from);
  close_fd(w.out);
  w.alive = false;
  w.busy = false;
  w.info.state = "stopped";
  publish(w.info);
}

void WorkerPool::finish_dead(Worker& w, bool restart) {
  int status = 0;
  ::waitpid(w.info.pid, &status, 0);
  std::string how;
  if (WIFSIGNALED(status))
    how = signal_name(WTERMSIG(status));
  else
    how = "exit " + std::to_string(WEXITSTATUS(status));
  close_fd(w.to);
  close_fd(w.from);
  close_fd(w.out);
  w.alive = false;
  w.info.last_exit = !w.kill_verdict ? how : std::string(to_string(*w.kill_verdict)) + " (" + w.kill_rule + ")";
  ++w.info.restarts;
  if (w.busy) {
    ChildResult r;
    if (w.kill_verdict) {
      r.verdict = *w.kill_verdict;
      r.rule = w.kill_rule;
      r.message = w.kill_message;
    } else {
      r.verdict = VerdictKind::crash;
      r.rule = how;
      r.message = "the worker died of " + how + (w.training ? " while training" : " while compiling");
    }
    r.compile_ms = w.compile_ms;
    if (w.training) r.train_ms = seconds_since(w.trained_from) * 1000.0;
    r.diagnostics.clear();
    if (!w.output.empty()) r.diagnostics.push_back("output: " + tail(w.output, 2000));
    w.busy = false;
    ++w.info.children;
    // A worker that died on its own gets its child once more, on a fresh
    // process: a rare fault outside the child (the JIT, a library) must not
    // cost a good child. Twice is the child's doing.
    if (r.verdict == VerdictKind::crash && crashed_once_.insert(w.job).second) {
      queue_.push_front(w.job);
    } else {
      if (r.verdict == VerdictKind::crash) r.message += " (twice, on fresh workers)";
      report(w.job, std::move(r));
    }
  }
  w.info.state = "stopped";
  publish(w.info);
  if (restart) start(w);  // replaced at once: the next child finds a ready worker
}

void WorkerPool::report(std::size_t ticket, ChildResult result) {
  jobs_.erase(ticket);
  crashed_once_.erase(ticket);
  EvaluationEvent e;
  e.ticket = ticket;
  e.result = std::move(result);
  events_.push_back(std::move(e));
}

void WorkerPool::submit(std::size_t ticket, EvaluationJob job) {
  if (!jobs_.emplace(ticket, std::move(job)).second)
    throw std::logic_error("workers: ticket " + std::to_string(ticket) + " is already in flight");
  queue_.push_back(ticket);
}

void WorkerPool::abandon() {
  // The children in flight are dropped: their workers are killed and
  // replaced by the next submit.
  for (auto& w : workers_)
    if (w->busy) {
      ::kill(w->info.pid, SIGKILL);
      w->busy = false;
      finish_dead(*w, /*restart=*/false);
    }
  jobs_.clear();
  queue_.clear();
  crashed_once_.clear();
  events_.clear();
}

void WorkerPool::dispatch() {
  for (auto& w : workers_) {
    if (queue_.empty()) return;
    if (!w->alive) start(*w);
    if (w->busy) continue;
    const std::size_t ticket = queue_.front();
    queue_.pop_front();
    const EvaluationJob& job = jobs_.at(ticket);
    w->busy = true;
    w->job = ticket;
    w->training = false;
    w->compile_ms = 0;
    w->output.clear();
    w->output_truncated = false;
    w->kill_verdict.reset();
    w->started = Clock::now();
    w->deadline = w->started + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options_.limits.compile_timeout_s));
    w->info.state = "busy";
    publish(w->info);
    try {
      worker::send_message(w->to, {{"op", "evaluate"}, {"source", job.source}, {"name", job.name}});
    } catch (const std::exception&) {
      // It died while idle; its death (seen in read_from) reports this child.
    }
  }
}

std::vector<EvaluationEvent> WorkerPool::poll(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    dispatch();
    std::vector<pollfd> fds;
    for (auto& w : workers_)
      if (w->alive) {
        fds.push_back({w->from, POLLIN, 0});
        fds.push_back({w->out, POLLIN, 0});
      }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    // At most 20 ms between looks at the watchdog's clocks and memory.
    ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(left, 0, 20)));
    for (auto& w : workers_) {
      if (!w->alive) continue;
      read_from(*w);
      if (w->alive && w->busy) watch(*w);
    }
    if (!events_.empty() || Clock::now() >= until) return std::exchange(events_, {});
  }
}

void WorkerPool::read_from(Worker& w) {
  char buf[65536];
  ssize_t r;
  while ((r = ::read(w.out, buf, sizeof buf)) > 0) {
    const std::size_t room = options_.limits.output_cap_bytes - std::min(options_.limits.output_cap_bytes, w.output.size());
    w.output.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(r)));
    w.output_truncated |= static_cast<std::size_t>(r) > room;
  }
  while ((r = ::read(w.from, buf, sizeof buf)) > 0) w.reader.feed(buf, static_cast<std::size_t>(r));
  if (r == 0) w.eof = true;
  while (auto m = w.reader.next()) {
    const std::string type = m->at("type");
    if (type == "compiled" && w.busy) {
      w.training = true;
      w.compile_ms = m->at("compile_ms");
      w.trained_from = Clock::now();
      w.deadline = w.trained_from + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(options_.limits.train_timeout_s));
      EvaluationEvent e;
      e.kind = EvaluationEvent::Kind::compiled;
      e.ticket = w.job;
      events_.push_back(std::move(e));
    } else if (type == "progress" && w.busy) {
      if (options_.on_progress) options_.on_progress(w.job, m->at("step"), m->at("loss"), m->at("val_score"));
    } else if (type == "result" && w.busy) {
      ChildResult result = worker::child_result_from(m->at("result"));
      if (!w.output.empty())
        result.diagnostics.push_back("output: " + w.output + (w.output_truncated ? " [truncated]" : ""));
      w.busy = false;
      ++w.info.children;
      w.info.state = "idle";
      publish(w.info);
      report(w.job, std::move(result));
      if (m->contains("retire")) {
        // The child left the worker unfit (a CUDA error, state that would
        // not restore): a fresh process takes the next child.
        stop(w);
        w.info.last_exit = "retired: " + m->at("retire").get<std::string>();
        ++w.info.restarts;
        start(w);
        return;
      }
    }
  }
  if (w.eof) finish_dead(w);
}

// The watchdog: time per phase, and resident memory.
void WorkerPool::watch(Worker& w) {
  auto kill_for = [&w](VerdictKind verdict, std::string rule, std::string message) {
    if (w.kill_verdict) return;
    w.kill_verdict = verdict;
    w.kill_rule = std::move(rule);
    w.kill_message = std::move(message);
    ::kill(w.info.pid, SIGKILL);
  };
  if (Clock::now() > w.deadline) {
    const bool training = w.training;
    kill_for(VerdictKind::timeout, training ? "train" : "compile",
             std::string(training ? "training" : "compiling") + " took longer than " +
                 std::to_string(static_cast<long>(training ? options_.limits.train_timeout_s
                                                           : options_.limits.compile_timeout_s)) +
                 " s");
  } else if (const std::int64_t mb = rss_mb(w.info.pid); mb > options_.limits.mem_limit_mb) {
    kill_for(VerdictKind::oom, "rss",
             "resident memory " + std::to_string(mb) + " MiB over the limit of " +
                 std::to_string(options_.limits.mem_limit_mb) + " MiB");
  }
}

nlohmann::json describe_workers(const std::string& worker_describe, int workers, const WorkerLimits& limits) {
  nlohmann::json d = nlohmann::json::parse(worker_describe.empty() ? "{}" : worker_describe);
  d["workers"] = workers;
  d["compile_timeout_s"] = limits.compile_timeout_s;
  d["train_timeout_s"] = limits.train_timeout_s;
  d["mem_limit_mb"] = limits.mem_limit_mb;
  return d;
}

std::string WorkerPool::describe() const { return describe_workers(describe_, options_.workers, options_.limits).dump(); }

std::vector<WorkerState> WorkerPool::states() const {
  std::vector<WorkerState> out;
  for (const auto& w : workers_) out.push_back(w->info);
  return out;
}

}  // namespace evoprompt
