// The round's LM requests, each on its own thread, at most `limit` at once,
// so that sampling overlaps evaluation. Only sample() runs on those threads;
// everything else stays on the driver's.
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

  // `lm` is borrowed; `limit` is capped by what the back-end allows at once.
  LmCalls(codegen::LanguageModel& lm, int limit);
  ~LmCalls();  // waits for calls still out (a back-end cannot be cut off mid-call)
  LmCalls(const LmCalls&) = delete;
  LmCalls& operator=(const LmCalls&) = delete;

  // Only calls still out count: an answer waiting to be taken (its round
  // waits for an earlier one) holds no slot, or it could starve that round.
  bool can_start() const { return static_cast<int>(running()) < limit_; }
  std::size_t running() const;
  void start(std::size_t key, codegen::SampleRequest request);
  // Call `key`'s answer once it has come; rethrows what the back-end threw.
  std::optional<Answer> take(std::size_t key);

 private:
  codegen::LanguageModel& lm_;
  int limit_;
  std::map<std::size_t, std::future<Answer>> calls_;  // started and not yet taken
};

}  // namespace evoprompt::engine
