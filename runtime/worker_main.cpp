#include "worker_main.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>

#include "tasks/task.hpp"
#include "torch_state.hpp"
#include "worker_protocol.hpp"

namespace evoprompt::worker {
namespace {

bool mentions_allocation_failure(const std::string& message) {
  for (const char* needle : {"can't allocate memory", "out of memory", "std::bad_alloc", "bad_alloc"})
    if (message.find(needle) != std::string::npos) return true;
  return false;
}

// A CUDA error leaves the process's CUDA context unusable (device-side
// asserts, illegal addresses): the worker must not take another child.
bool mentions_cuda_error(const std::string& message) {
  for (const char* needle : {"CUDA error", "cudaError", "device-side assert", "illegal memory access",
                             "CUBLAS_STATUS_", "CUDNN_STATUS_", "CUDA driver error"})
    if (message.find(needle) != std::string::npos) return true;
  return false;
}

// Why this worker must not evaluate another child (empty: it may): its
// child hit a CUDA error, or left process-wide state that cannot be put back.
std::string retire_reason(const ChildResult& r, const TorchState& start) {
  if (mentions_cuda_error(r.message)) return "CUDA error";
  std::vector<std::string> left;
  try {
    left = start.restore();
  } catch (const std::exception& e) {
    return std::string("torch state not restorable: ") + e.what();
  }
  std::string reason;
  for (const auto& setting : left) reason += (reason.empty() ? "torch state not restorable: " : ", ") + setting;
  return reason;
}

}  // namespace

int run_worker() {
  // Dies with the driver, however the driver dies (even kill -9). The pid
  // check closes the race of a driver that died before the prctl.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (const char* parent = std::getenv("EVOPROMPT_WORKER_PARENT"); parent && std::atol(parent) != ::getppid())
    return 1;
  // The supervisor decides when work stops: a terminal's Ctrl-C must not
  // kill the worker under a child that is still being evaluated.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  auto init = receive_message(kRequestFd);
  if (!init) return 0;
  std::unique_ptr<Evaluator> evaluator;
  try {
    if (init->at("op") != "init") throw std::runtime_error("expected an init message");
    tasks::EvaluatorHooks hooks;
    hooks.on_compiled = [](double compile_ms) {
      send_message(kReplyFd, {{"type", "compiled"}, {"compile_ms", compile_ms}});
    };
    hooks.on_progress = [](std::int64_t step, double loss, double val_score) {
      send_message(kReplyFd, {{"type", "progress"}, {"step", step}, {"loss", loss}, {"val_score", val_score}});
    };
    evaluator = tasks::make_evaluator(tasks::TaskConfig::from_json(*init), std::move(hooks));
  } catch (const std::exception& e) {
    send_message(kReplyFd, {{"type", "error"}, {"message", e.what()}});
    return 1;
  }
  // The start state every child begins from: a child's changes to it are
  // undone after the child, or the worker retires.
  const TorchState start = TorchState::capture();
  send_message(kReplyFd, {{"type", "ready"}, {"pid", ::getpid()}, {"describe", evaluator->describe()}});
  while (auto request = receive_message(kRequestFd)) {
    ChildResult r;
    try {
      r = evaluator->evaluate(request->at("source"), request->at("name"));
    } catch (const std::exception& e) {
      r.verdict = VerdictKind::runtime_error;
      r.rule = "runtime_error";
      r.message = e.what();
    } catch (...) {
      r.verdict = VerdictKind::runtime_error;
      r.rule = "runtime_error";
      r.message = "a non-standard exception";
    }
    if (r.verdict == VerdictKind::runtime_error && mentions_allocation_failure(r.message)) {
      r.verdict = VerdictKind::oom;
      r.rule = "allocation";
    }
    const std::string retire = retire_reason(r, start);
    std::fflush(stdout);
    std::fflush(stderr);
    nlohmann::json reply = {{"type", "result"}, {"result", to_json(r)}};
    if (!retire.empty()) reply["retire"] = retire;
    send_message(kReplyFd, reply);
    if (!retire.empty()) return 0;  // the pool starts a fresh worker in its place
  }
  return 0;
}

}  // namespace evoprompt::worker
