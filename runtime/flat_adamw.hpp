// AdamW over flat parameter buffers. Parameters of one dtype and device are
// re-seated as views into one contiguous tensor, and so are their gradients,
// so zero_grad and step are a handful of kernels however many tensors the
// model has. Same update as torch.optim.AdamW (and optax.adamw):
//   p <- p * (1 - lr * wd) - lr * m_hat / (sqrt(v_hat) + eps)
// Capturable (for CUDA graphs): the step count lives in a device tensor and
// the bias corrections are computed there, so a captured step() replays as
// the next step rather than as the one captured. The arithmetic is the same,
// in the same order, as the host-count step.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace evoprompt {

struct AdamWOptions {
  double lr = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-4;
  bool capturable = false;  // the step count on the parameters' device
};

class FlatAdamW {
 public:
  // Takes a model's parameters, on their final device. Frozen ones
  // (requires_grad false) are left alone: never moved, decayed or updated.
  FlatAdamW(const std::vector<torch::Tensor>& params, AdamWOptions options);

  void zero_grad();
  void step();

 private:
  struct Group {
    torch::Tensor param, grad, exp_avg, exp_avg_sq, denom;
  };
  AdamWOptions options_;
  std::vector<Group> groups_;
  std::int64_t step_count_ = 0;
  torch::Tensor device_step_;  // capturable: float64 [], on the parameters' device
};

}  // namespace evoprompt
