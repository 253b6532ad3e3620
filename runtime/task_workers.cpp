#include "task_workers.hpp"

#include "token_fingerprint.hpp"

namespace evoprompt {

ChildResult TaskWorkers::evaluate(const std::string& source, const std::string& name) {
  ChildResult result;
  evaluate_many({{source, name}}, [&](std::size_t, const ChildResult& r) { result = r; });
  return result;
}

std::string TaskWorkers::fingerprint(const std::string& source) { return jit::token_fingerprint(source); }

std::string TaskWorkers::opening() const { return task_.task->contract().opening; }

std::optional<DataDescription> TaskWorkers::data_description() const {
  return task_.task->data_description(task_.options);
}

}  // namespace evoprompt
