#include "rank_workers.hpp"

#include <unistd.h>

#include <csignal>
#include <thread>

#include "worker_protocol.hpp"

namespace evoprompt {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json options_json(const WorkerPoolOptions& o) {
  return {{"task", o.task.to_json()},
          {"workers", o.workers},
          {"workers_per_gpu", o.workers_per_gpu},
          {"compile_timeout_s", o.limits.compile_timeout_s},
          {"train_timeout_s", o.limits.train_timeout_s},
          {"mem_limit_mb", o.limits.mem_limit_mb},
          {"output_cap_bytes", o.limits.output_cap_bytes},
          {"secret_variables", o.secret_variables},
          {"start_timeout_s", o.start_timeout_s},
          {"lm_gpu_memory", o.lm_gpu_memory}};
}

WorkerPoolOptions options_from(const json& j) {
  WorkerPoolOptions o;
  o.task = tasks::TaskConfig::from_json(j.at("task"));
  o.workers = j.at("workers");
  o.workers_per_gpu = j.at("workers_per_gpu");
  o.limits.compile_timeout_s = j.at("compile_timeout_s");
  o.limits.train_timeout_s = j.at("train_timeout_s");
  o.limits.mem_limit_mb = j.at("mem_limit_mb");
  o.limits.output_cap_bytes = j.at("output_cap_bytes");
  o.secret_variables = j.at("secret_variables").get<std::vector<std::string>>();
  o.start_timeout_s = j.at("start_timeout_s");
  o.lm_gpu_memory = j.at("lm_gpu_memory");
  return o;
}

json state_json(const WorkerState& w) {
  return {{"slot", w.slot},         {"pid", w.pid},           {"state", w.state}, {"children", w.children},
          {"restarts", w.restarts}, {"last_exit", w.last_exit}, {"host", w.host}};
}

WorkerState state_from(const json& j) {
  WorkerState w;
  w.slot = j.at("slot");
  w.pid = j.at("pid");
  w.state = j.at("state");
  w.children = j.at("children");
  w.restarts = j.at("restarts");
  w.last_exit = j.at("last_exit");
  w.host = j.at("host");
  return w;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

RankWorkers::RankWorkers(MpiJob& job, WorkerPoolOptions options)
    : TaskWorkers(options.task), job_(job), options_(std::move(options)) {
  if (job_.rank() != 0 || job_.size() < 2) throw std::logic_error("RankWorkers: rank 0 of a job of 2 or more ranks");
  const json start = {{"op", "start"}, {"options", options_json(options_)}, {"host", job_.host()}};
  for (int r = 1; r < job_.size(); ++r) {
    ranks_.push_back({r, "", 0, 0, 0, 0});
    job_.send(r, start);
  }
  // Each rank answers "ready" once its workers have started (or "error").
  const auto t0 = Clock::now();
  int answered = 0;
  std::string failure;
  while (answered < job_.size() - 1) {
    auto m = job_.receive();
    if (!m) {
      if (seconds_since(t0) > options_.start_timeout_s + 30) {
        failure = "MPI: not every rank started its workers within " +
                  std::to_string(static_cast<int>(options_.start_timeout_s + 30)) + " s";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const auto& [from, message] = *m;
    const std::string type = message.value("type", "");
    if (type == "ready") {
      Rank& r = rank(from);
      r.host = message.at("host");
      r.pid = message.at("pid");
      r.slots = message.at("slots");
      if (describe_.empty()) describe_ = message.at("describe");
      ++answered;
    } else if (type == "error") {
      if (failure.empty()) failure = "MPI rank " + std::to_string(from) + ": " + message.value("message", "");
      ++answered;
    } else {
      handle(from, message);
    }
  }
  if (!failure.empty()) {
    for (int r = 1; r < job_.size(); ++r) job_.send(r, {{"op", "stop"}});
    throw std::runtime_error(failure);
  }
  int first = 0;
  for (Rank& r : ranks_) {
    r.first_slot = first;
    first += r.slots;
  }
}

RankWorkers::~RankWorkers() {
  for (const Rank& r : ranks_) {
    try {
      job_.send(r.rank, {{"op", "stop"}});
    } catch (const std::exception&) {
      // a rank already lost: the job is ending anyway
    }
  }
}

int RankWorkers::workers() const {
  int n = 0;
  for (const Rank& r : ranks_) n += r.slots;
  return n;
}

void RankWorkers::submit(std::size_t ticket, EvaluationJob job) {
  if (id_of_ticket_.count(ticket))
    throw std::logic_error("ranks: ticket " + std::to_string(ticket) + " is already in flight");
  const std::size_t id = next_id_++;
  id_of_ticket_[ticket] = id;
  jobs_.emplace(id, std::move(job));
  placed_[id] = {ticket, 0};
  queue_.push_back(id);
}

// On demand: each waiting child to the least-loaded rank with a free worker.
void RankWorkers::dispatch() {
  while (!queue_.empty()) {
    Rank* free = nullptr;
    for (Rank& r : ranks_)
      if (r.busy < r.slots && (!free || r.busy * free->slots < free->busy * r.slots)) free = &r;
    if (!free) return;
    const std::size_t id = queue_.front();
    queue_.pop_front();
    const EvaluationJob& child = jobs_.at(id);
    placed_.at(id).rank = free->rank;
    ++free->busy;
    job_.send(free->rank, {{"op", "evaluate"}, {"id", id}, {"source", child.source}, {"name", child.name}});
  }
}

std::vector<EvaluationEvent> RankWorkers::poll(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    dispatch();
    while (auto m = job_.receive()) handle(m->first, m->second);
    if (!events_.empty() || Clock::now() >= until) return std::exchange(events_, {});
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void RankWorkers::handle(int from, const json& m) {
  const std::string type = m.value("type", "");
  if (type == "worker") {
    WorkerState local = state_from(m.at("state"));
    local.rank = from;
    auto& stored = states_[{from, local.slot}];
    stored = local;
    if (rank(from).slots > 0) publish(global(local, rank(from)));
    return;
  }
  if (type != "compiled" && type != "result") return;  // pong, stopped: nothing to do here
  const std::size_t id = m.at("id");
  auto placed = placed_.find(id);
  if (placed == placed_.end()) return;  // an abandoned child's late word
  EvaluationEvent e;
  e.ticket = placed->second.ticket;
  if (type == "compiled") {
    e.kind = EvaluationEvent::Kind::compiled;
  } else {
    e.result = worker::child_result_from(m.at("result"));
    --rank(placed->second.rank).busy;
    id_of_ticket_.erase(placed->second.ticket);
    jobs_.erase(id);
    placed_.erase(placed);
  }
  events_.push_back(std::move(e));
}

void RankWorkers::abandon() {
  for (const Rank& r : ranks_) job_.send(r.rank, {{"op", "abandon"}});
  for (Rank& r : ranks_) r.busy = 0;
  jobs_.clear();
  placed_.clear();
  id_of_ticket_.clear();
  queue_.clear();
  events_.clear();
  // A stop under MPI is most often the launcher ending the job for a rank
  // that died: find it while the others still answer.
  for (const Rank& r : ranks_) job_.send(r.rank, {{"op", "ping"}});
  std::map<int, bool> answered;
  const auto t0 = Clock::now();
  while (answered.size() < ranks_.size() && seconds_since(t0) < 0.5) {
    if (auto m = job_.receive()) {
      if (m->second.value("type", "") == "pong") answered[m->first] = true;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (const Rank& r : ranks_)
    if (!answered.count(r.rank))
      throw RankLost("MPI rank " + std::to_string(r.rank) + " on host " + r.host + " (pid " + std::to_string(r.pid) +
                     ") was lost");
}

std::string RankWorkers::describe() const {
  json d = describe_workers(describe_, workers(), options_.limits);
  d["ranks"] = static_cast<int>(ranks_.size());
  return d.dump();
}

WorkerState RankWorkers::global(const WorkerState& local, const Rank& r) const {
  WorkerState w = local;
  w.slot = r.first_slot + local.slot;
  w.rank = r.rank;
  return w;
}

std::vector<WorkerState> RankWorkers::states() const {
  std::vector<WorkerState> out;
  for (const auto& [key, w] : states_) out.push_back(global(w, ranks_.at(static_cast<std::size_t>(key.first - 1))));
  return out;
}

namespace {
std::atomic<bool> g_terminated{false};
void on_terminate(int) { g_terminated = true; }
}  // namespace

int serve_rank(MpiJob& job) {
  // The launcher's SIGTERM ends the job (rank 0 or another rank died):
  // answer rank 0's last questions for a moment, then go.
  struct sigaction sa {};
  sa.sa_handler = on_terminate;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGINT, SIG_IGN);
  std::unique_ptr<WorkerPool> pool;
  // The pool's tickets are rank 0's ids.
  std::optional<Clock::time_point> terminated_at;
  for (;;) {
    if (g_terminated && !terminated_at) terminated_at = Clock::now();
    if (terminated_at && seconds_since(*terminated_at) > 0.8) return 0;
    bool idle = true;
    while (auto m = job.receive()) {
      idle = false;
      const auto& [from, message] = *m;
      if (from != 0) continue;
      const std::string op = message.value("op", "");
      if (op == "start") {
        try {
          pool.reset();
          WorkerPoolOptions options = options_from(message.at("options"));
          // The embedded LM holds GPU memory on rank 0's host only.
          if (message.at("host").get<std::string>() != job.host()) options.lm_gpu_memory = 0.0;
          pool = std::make_unique<WorkerPool>(options);
          for (const WorkerState& w : pool->states()) job.send(0, {{"type", "worker"}, {"state", state_json(w)}});
          pool->on_state_change([&job](const WorkerState& w) {
            job.send(0, {{"type", "worker"}, {"state", state_json(w)}});
          });
          job.send(0, {{"type", "ready"}, {"host", job.host()}, {"pid", ::getpid()}, {"slots", pool->workers()},
                       {"describe", pool->describe()}});
        } catch (const std::exception& e) {
          pool.reset();
          const std::string why = e.what();
          job.send(0, {{"type", "error"}, {"message", why.substr(0, why.find('\n'))}});
        }
      } else if (op == "evaluate" && pool) {
        pool->submit(message.at("id").get<std::size_t>(), {message.at("source"), message.at("name")});
      } else if (op == "abandon" && pool) {
        pool->abandon();
      } else if (op == "stop") {
        pool.reset();
      } else if (op == "ping") {
        job.send(0, {{"type", "pong"}});
      } else if (op == "quit") {
        return 0;
      }
    }
    if (pool && pool->in_flight() > 0) {
      for (const EvaluationEvent& e : pool->poll(std::chrono::milliseconds(5))) {
        if (e.kind == EvaluationEvent::Kind::compiled)
          job.send(0, {{"type", "compiled"}, {"id", e.ticket}});
        else
          job.send(0, {{"type", "result"}, {"id", e.ticket}, {"result", worker::to_json(e.result)}});
      }
    } else if (idle) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

}  // namespace evoprompt
