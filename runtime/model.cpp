#include "model.hpp"

#if EVOPROMPT_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace evoprompt {
namespace {

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// Flax lecun_normal: a normal truncated to [-2, 2] std, variance 1 / fan_in.
// The arithmetic is torch.nn.init.trunc_normal_(w, 0, std, -2 std, 2 std), so a
// Python PyTorch reference reproduces it draw for draw.
void lecun_normal_(torch::Tensor w, std::int64_t fan_in) {
  constexpr double kTruncStd = 0.87962566103423978;  // std of N(0,1) truncated to [-2, 2]
  const double stddev = std::sqrt(1.0 / static_cast<double>(fan_in)) / kTruncStd;
  auto normal_cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double lo = normal_cdf(-2.0), hi = normal_cdf(2.0);
  w.uniform_(2.0 * lo - 1.0, 2.0 * hi - 1.0).erfinv_();  // inverse-CDF sampling
  w.mul_(stddev * std::sqrt(2.0)).add_(0.0).clamp_(-2.0 * stddev, 2.0 * stddev);
}

void init_recurrent(torch::nn::Module& m, std::int64_t gates) {
  for (auto& p : m.named_parameters(/*recurse=*/false)) {
    const auto& name = p.key();
    auto w = p.value();
    if (name.rfind("bias", 0) == 0) {
      w.zero_();
    } else if (name.rfind("weight_ih", 0) == 0) {
      lecun_normal_(w, w.size(1));
    } else if (name.rfind("weight_hh", 0) == 0) {
      // Flax uses an orthogonal recurrent kernel per gate.
      for (const auto& block : w.chunk(gates, 0)) torch::nn::init::orthogonal_(block);
    }
  }
}

}  // namespace

ParamCount count_params(const ModelInstance& model, const std::vector<std::int64_t>& input_shape,
                        std::int64_t num_classes, torch::Device device) {
  ParamCount count;
  model.module->to(device);
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model.module->parameters()) {
    count.total += p.numel();
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::AutoGradMode grad_on(true);
  std::vector<std::int64_t> batch_shape{2};
  batch_shape.insert(batch_shape.end(), input_shape.begin(), input_shape.end());
  const auto x = torch::randn(batch_shape, torch::TensorOptions().device(device));
  const auto out = model.forward(x);
  if (!out.defined() || out.dim() != 2 || out.size(0) != 2 || out.size(1) != num_classes)
    throw std::runtime_error("forward returned " + (out.defined() ? shape_string(out) : "nothing") +
                             " for input " + shape_string(x) + ", expected [2, " +
                             std::to_string(num_classes) + "]");
  if (!out.requires_grad() || trainable.empty()) return count;
  const auto grads = torch::autograd::grad({out.sum()}, trainable, {}, /*retain_graph=*/false,
                                           /*create_graph=*/false, /*allow_unused=*/true);
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (grads[i].defined()) count.used += trainable[i].numel();
  return count;
}

InitScheme parse_init_scheme(const std::string& name) {
  if (name == "flax") return InitScheme::flax;
  if (name == "torch") return InitScheme::torch;
  throw std::invalid_argument("unknown init scheme '" + name + "' (expected flax or torch)");
}

void apply_init(torch::nn::Module& module, InitScheme scheme) {
  if (scheme == InitScheme::torch) return;
  torch::NoGradGuard no_grad;
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      lecun_normal_(lin->weight, lin->weight.size(1));
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (m->as<torch::nn::Conv1d>() || m->as<torch::nn::Conv2d>() || m->as<torch::nn::Conv3d>()) {
      auto w = m->named_parameters(false)["weight"];
      lecun_normal_(w, w.numel() / w.size(0));  // fan_in = in_channels/groups * kernel volume
      if (auto* b = m->named_parameters(false).find("bias"); b && b->defined()) b->zero_();
    } else if (m->as<torch::nn::GRU>()) {
      init_recurrent(*m, 3);
    } else if (m->as<torch::nn::LSTM>()) {
      init_recurrent(*m, 4);
    } else if (m->as<torch::nn::RNN>()) {
      init_recurrent(*m, 1);
    }
  }
}

torch::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(spec);
  } catch (const std::exception&) {
    throw std::invalid_argument("unknown device '" + spec + "' (expected auto, cpu, cuda or cuda:N)");
  }
  if (device.is_cuda()) {
    if (!torch::cuda::is_available())
      throw std::invalid_argument("device '" + spec + "' requested but libtorch sees no CUDA GPU");
    if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
      throw std::invalid_argument("device '" + spec + "' does not exist");
  } else if (!device.is_cpu()) {
    throw std::invalid_argument("unsupported device '" + spec + "' (expected auto, cpu, cuda or cuda:N)");
  }
  return device;
}

bool gpu_memory_cap_supported() {
#if EVOPROMPT_TORCH_CUDA
  return true;
#else
  return false;
#endif
}

void claim_compute(torch::Device device, int threads, double gpu_memory_fraction) {
  if (threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (threads > 0) torch::set_num_threads(threads);
  if (device.is_cuda() && gpu_memory_fraction > 0.0) {
#if EVOPROMPT_TORCH_CUDA
    c10::cuda::CUDACachingAllocator::setMemoryFraction(gpu_memory_fraction, device.has_index() ? device.index() : 0);
#else
    // A cap that cannot be set must not pass for one: workers would overcommit the GPU.
    throw std::runtime_error("cannot cap GPU memory: this evoprompt was built without c10_cuda (EVOPROMPT_TORCH_CUDA)");
#endif
  }
}

}  // namespace evoprompt
