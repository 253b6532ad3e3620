#include "lm_calls.hpp"

#include <algorithm>

namespace evoprompt::engine {

LmCalls::LmCalls(codegen::LanguageModel& lm, int limit)
    : lm_(lm), limit_(std::max(1, std::min(limit, lm.max_concurrent_calls()))) {}

LmCalls::~LmCalls() {
  for (auto& [key, call] : calls_) call.answer.wait();
}

bool LmCalls::can_start(const codegen::SampleRequest& request) const {
  const int out = running();
  return out == 0 || out + lm_.requests_for(request) <= limit_;
}

void LmCalls::start(std::size_t key, codegen::SampleRequest request) {
  const int requests = lm_.requests_for(request);
  auto answer = std::async(std::launch::async, [this, request = std::move(request)] {
    const auto t0 = std::chrono::steady_clock::now();
    Answer a;
    a.completions = lm_.sample(request);
    a.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return a;
  });
  calls_.emplace(key, Call{std::move(answer), requests});
}

int LmCalls::running() const {
  int out = 0;
  for (const auto& [key, call] : calls_)
    if (call.answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready) out += call.requests;
  return out;
}

std::optional<LmCalls::Answer> LmCalls::take(std::size_t key) {
  auto it = calls_.find(key);
  if (it == calls_.end() || it->second.answer.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return std::nullopt;
  std::future<Answer> answer = std::move(it->second.answer);
  calls_.erase(it);
  return answer.get();
}

}  // namespace evoprompt::engine
