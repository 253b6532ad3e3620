// The process-wide torch state that a child can change and a later child on
// the same worker would inherit: default dtype, RNG states, thread counts,
// grad, inference, anomaly and autocast modes, the dispatch-key TLS, the
// at::globalContext() flags, the warning settings, the CPU allocator and the
// floating-point control register (flush-to-zero, denormals-are-zero,
// rounding). A worker captures it when it starts and puts it back after
// every child; what cannot be put back makes the worker retire.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace evoprompt {

class TorchState {
 public:
  // The state of the calling thread and the process, now.
  static TorchState capture();
  ~TorchState();
  TorchState(TorchState&&) noexcept;
  TorchState& operator=(TorchState&&) noexcept;

  // Puts this state back, then captures again and compares: the names of the
  // settings that differ still (empty: the whole state holds).
  std::vector<std::string> restore() const;

  // The names of the settings where `other` differs from this state.
  std::vector<std::string> differences(const TorchState& other) const;

 private:
  struct Values;
  explicit TorchState(std::unique_ptr<Values> values);
  std::unique_ptr<Values> values_;
};

}  // namespace evoprompt
