// The rounds' LM calls, each on its own thread, at most `limit` requests at
// once, so that sampling overlaps evaluation. Only sample() runs on those
// threads; everything else stays on the driver's.
#pragma once

#include <chrono>
#include <cstddef>
#include <future>
#include <map>
#include <optional>
#include <vector>

#include "language_model.hpp"

namespace evoprompt::engine {

class LmCalls {
 public:
  struct Answer {
    std::vector<codegen::Completion> completions;
    double ms = 0.0;
  };

  // `lm` is borrowed. `limit` counts the back-end's requests
  // (LanguageModel::requests_for), capped by the calls it allows at once.
  LmCalls(codegen::LanguageModel& lm, int limit);
  ~LmCalls();  // waits for calls still out (a back-end cannot be cut off mid-call)
  LmCalls(const LmCalls&) = delete;
  LmCalls& operator=(const LmCalls&) = delete;

  // Whether `request`'s requests fit beside those still out; with none out,
  // any call may start. The caller asks in journal order and stops at the
  // first call that does not fit, so the back-end serves calls in that order
  // and an earlier round never queues behind a later one.
  bool can_start(const codegen::SampleRequest& request) const;
  // Requests of the calls still out. An answer waiting to be taken (its round
  // waits for an earlier one) holds none, or it could starve that round.
  int running() const;
  void start(std::size_t key, codegen::SampleRequest request);
  // Call `key`'s answer once it has come; rethrows what the back-end threw.
  std::optional<Answer> take(std::size_t key);

 private:
  struct Call {
    std::future<Answer> answer;
    int requests = 1;
  };

  codegen::LanguageModel& lm_;
  int limit_;
  std::map<std::size_t, Call> calls_;  // started and not yet taken
};

}  // namespace evoprompt::engine
