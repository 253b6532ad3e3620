#include "evaluator.hpp"

#include <thread>

namespace evoprompt {

void Evaluator::submit(std::size_t ticket, EvaluationJob job) { queue_.emplace_back(ticket, std::move(job)); }

std::vector<EvaluationEvent> Evaluator::poll(std::chrono::milliseconds timeout) {
  if (queue_.empty()) {
    std::this_thread::sleep_for(timeout);
    return {};
  }
  auto [ticket, job] = std::move(queue_.front());
  queue_.pop_front();
  EvaluationEvent e;
  e.ticket = ticket;
  e.result = evaluate(job.source, job.name);
  return {std::move(e)};
}

void Evaluator::evaluate_many(const std::vector<EvaluationJob>& jobs,
                              const std::function<void(std::size_t, const ChildResult&)>& done,
                              const std::atomic<bool>* stop) {
  for (std::size_t i = 0; i < jobs.size(); ++i) submit(i, jobs[i]);
  std::size_t finished = 0;
  while (finished < jobs.size()) {
    if (stop && stop->load()) {
      abandon();
      throw EvaluationInterrupted();
    }
    for (const EvaluationEvent& e : poll(std::chrono::milliseconds(50)))
      if (e.kind == EvaluationEvent::Kind::finished) {
        ++finished;
        done(e.ticket, e.result);
      }
  }
}

}  // namespace evoprompt
