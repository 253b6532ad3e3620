#include "lm_calls.hpp"

#include <algorithm>

namespace evoprompt::engine {

LmCalls::LmCalls(codegen::LanguageModel& lm, int limit)
    : lm_(lm), limit_(std::max(1, std::min(limit, lm.max_concurrent_calls()))) {}

LmCalls::~LmCalls() {
  for (auto& [key, call] : calls_) call.wait();
}

void LmCalls::start(std::size_t key, codegen::SampleRequest request) {
  calls_.emplace(key, std::async(std::launch::async, [this, request = std::move(request)] {
                     const auto t0 = std::chrono::steady_clock::now();
                     Answer a;
                     a.completions = lm_.sample(request);
                     a.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                     return a;
                   }));
}

std::size_t LmCalls::running() const {
  return static_cast<std::size_t>(std::count_if(calls_.begin(), calls_.end(), [](const auto& call) {
    return call.second.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
  }));
}

std::optional<LmCalls::Answer> LmCalls::take(std::size_t key) {
  auto it = calls_.find(key);
  if (it == calls_.end() || it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return std::nullopt;
  std::future<Answer> call = std::move(it->second);
  calls_.erase(it);
  return call.get();
}

}  // namespace evoprompt::engine
