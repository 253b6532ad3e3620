#include "flat_adamw.hpp"

#include <cmath>
#include <map>
#include <tuple>

namespace evoprompt {

FlatAdamW::FlatAdamW(const std::vector<torch::Tensor>& params, AdamWOptions options) : options_(options) {
  torch::NoGradGuard no_grad;
  // Group by (device, dtype): one flat buffer per group.
  std::map<std::tuple<int, int, int>, std::vector<torch::Tensor>> by_kind;
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    const auto key = std::make_tuple(static_cast<int>(p.device().type()), static_cast<int>(p.device().index()),
                                     static_cast<int>(p.scalar_type()));
    by_kind[key].push_back(p);
  }
  for (auto& [kind, members] : by_kind) {
    std::int64_t total = 0;
    for (const auto& p : members) total += p.numel();
    const auto opts = members.front().options().requires_grad(false);
    Group g;
    g.param = torch::empty({total}, opts);
    g.grad = torch::zeros({total}, opts);
    g.exp_avg = torch::zeros({total}, opts);
    g.exp_avg_sq = torch::zeros({total}, opts);
    g.denom = torch::empty({total}, opts);
    std::int64_t offset = 0;
    for (auto p : members) {
      const auto n = p.numel();
      auto slot = g.param.narrow(0, offset, n).view(p.sizes());
      slot.copy_(p);
      p.set_data(slot);  // the module's parameter now lives in the flat buffer
      p.mutable_grad() = g.grad.narrow(0, offset, n).view(p.sizes());
      offset += n;
    }
    groups_.push_back(std::move(g));
  }
  if (options_.capturable && !groups_.empty())
    device_step_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(groups_.front().param.device()));
}

void FlatAdamW::zero_grad() {
  for (auto& g : groups_) g.grad.zero_();
}

void FlatAdamW::step() {
  torch::NoGradGuard no_grad;
  ++step_count_;
  const auto& o = options_;
  if (device_step_.defined()) {
    // The host step's scalars, as 0-d float64 tensors read at run time: each
    // is cast to the parameters' dtype inside the kernel, as a Scalar is.
    device_step_.add_(1.0);
    const auto bias1 = torch::pow(o.beta1, device_step_).neg_().add_(1.0);
    const auto neg_step_size = torch::full({}, -o.lr, bias1.options()).div_(bias1);
    const auto sqrt_bias2 = torch::pow(o.beta2, device_step_).neg_().add_(1.0).sqrt_();
    for (auto& g : groups_) {
      g.param.mul_(1.0 - o.lr * o.weight_decay);
      g.exp_avg.mul_(o.beta1).add_(g.grad, 1.0 - o.beta1);
      g.exp_avg_sq.mul_(o.beta2).addcmul_(g.grad, g.grad, 1.0 - o.beta2);
      torch::sqrt_out(g.denom, g.exp_avg_sq);
      g.denom.div_(sqrt_bias2).add_(o.eps);
      g.param.add_(g.exp_avg.mul(neg_step_size).div_(g.denom));
    }
    return;
  }
  const double bias1 = 1.0 - std::pow(o.beta1, static_cast<double>(step_count_));
  const double bias2 = 1.0 - std::pow(o.beta2, static_cast<double>(step_count_));
  for (auto& g : groups_) {
    g.param.mul_(1.0 - o.lr * o.weight_decay);
    g.exp_avg.mul_(o.beta1).add_(g.grad, 1.0 - o.beta1);
    g.exp_avg_sq.mul_(o.beta2).addcmul_(g.grad, g.grad, 1.0 - o.beta2);
    torch::sqrt_out(g.denom, g.exp_avg_sq);
    g.denom.div_(std::sqrt(bias2)).add_(o.eps);
    g.param.addcdiv_(g.exp_avg, g.denom, -o.lr / bias1);
  }
}

}  // namespace evoprompt
