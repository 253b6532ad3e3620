// The model contract as the runtime sees it: a type-erased libtorch module
// plus its forward function, however it was built (compiled in or JIT).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace evoprompt {

struct ModelInstance {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
};

using ModelFactory = std::function<ModelInstance()>;

// Parameter counts with the paper's (Flax) semantics.
struct ParamCount {
  std::int64_t used = 0;   // trainable parameters that forward reaches: the fitness uses this
  std::int64_t total = 0;  // every registered parameter, trainable or frozen
};

// Runs one forward/backward on a [2, ...input_shape] batch on `device` (the
// training device: a child that makes tensors without naming a device fails
// here, as it would in training) to see which trainable parameters forward
// reaches. A registered but unused module counts 0, a module called twice
// counts once. Also checks the [B, num_classes] output. Throws
// std::runtime_error when forward fails or returns the wrong shape.
ParamCount count_params(const ModelInstance& model, const std::vector<std::int64_t>& input_shape,
                        std::int64_t num_classes, torch::Device device = torch::kCPU);
// For [B, input_len] inputs.
inline ParamCount count_params(const ModelInstance& model, std::int64_t input_len, std::int64_t num_classes,
                               torch::Device device = torch::kCPU) {
  return count_params(model, std::vector<std::int64_t>{input_len}, num_classes, device);
}

enum class InitScheme {
  flax,   // Flax defaults: LeCun-normal (truncated) kernels, zero biases
  torch,  // keep libtorch's default initialisation
};

InitScheme parse_init_scheme(const std::string& name);  // throws std::invalid_argument

// Re-initialises Linear, Conv1d/2d/3d and GRU/LSTM/RNN parameters in place.
void apply_init(torch::nn::Module& module, InitScheme scheme);

// "auto" (CUDA when libtorch sees a GPU, else CPU), "cpu", "cuda" or "cuda:N".
// Throws std::invalid_argument for a bad or unavailable device.
torch::Device resolve_device(const std::string& spec);

// A worker's share of the machine: libtorch's CPU threads (0: its default)
// and, on a GPU, the CUDA caching allocator's cap (0: none). CUDA reserves
// huge virtual memory, so RLIMIT_AS cannot cap a GPU worker; the fraction
// does, and a child over it fails with "CUDA out of memory" (verdict oom).
// Throws std::invalid_argument for negative threads, std::runtime_error for a
// cap on a build that cannot set one.
void claim_compute(torch::Device device, int threads, double gpu_memory_fraction);
// True when built against c10_cuda: claim_compute can cap GPU memory.
bool gpu_memory_cap_supported();

}  // namespace evoprompt
