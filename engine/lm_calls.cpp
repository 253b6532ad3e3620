#include "lm_calls.hpp"

#include <algorithm>

namespace evoprompt::engine {

LmCalls::LmCalls(codegen::LanguageModel& lm, int limit)
    : lm_(lm), limit_(std::max(1, std::min(limit, lm.max_concurrent_calls()))) {}

LmCalls::~LmCalls() {
  for (auto& [key, call] : running_) call.wait();
}

void LmCalls::start(std::size_t key, codegen::SampleRequest request) {
  running_.emplace(key, std::async(std::launch::async, [this, request = std::move(request)] {
                     const auto t0 = std::chrono::steady_clock::now();
                     Answer a;
                     a.completions = lm_.sample(request);
                     a.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                     return a;
                   }));
}

std::size_t LmCalls::running() const {
  return static_cast<std::size_t>(std::count_if(running_.begin(), running_.end(), [](const auto& call) {
    return call.second.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
  }));
}

std::optional<LmCalls::Answer> LmCalls::take(std::size_t key) {
  auto it = running_.find(key);
  if (it == running_.end() || it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return std::nullopt;
  std::future<Answer> call = std::move(it->second);
  running_.erase(it);
  return call.get();
}

}  // namespace evoprompt::engine
