// The worker's start state: every process-wide torch setting a child can
// change is put back by TorchState::restore, or reported when it cannot be.
#include "torch_catch.hpp"

#include <ATen/autocast_mode.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/autograd/anomaly_mode.h>

#include <algorithm>

#include "torch_state.hpp"

using namespace evoprompt;

namespace {

bool flushes_denormals() {
  volatile float tiny = 1e-38f;
  volatile float smaller = tiny * 1e-3f;  // a denormal, unless flush-to-zero is on
  return smaller == 0.0f;
}

}  // namespace

TEST_CASE("torch state: every setting a child changes is put back", "[torch_state]") {
  torch::set_num_threads(1);
  const auto start = TorchState::capture();
  CHECK(start.differences(TorchState::capture()).empty());
  const auto draw = [] { return torch::rand({4}); };
  torch::manual_seed(7);
  const auto start_rng = TorchState::capture();
  const auto first = draw();

  torch::manual_seed(1234);
  torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
  torch::set_num_threads(3);
  torch::autograd::GradMode::set_enabled(false);
  torch::autograd::AnomalyMode::set_enabled(true);
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  auto& ctx = at::globalContext();
  ctx.setBenchmarkCuDNN(!ctx.benchmarkCuDNN());
  ctx.setDeterministicCuDNN(!ctx.deterministicCuDNN());
  ctx.setUserEnabledMkldnn(!ctx.userEnabledMkldnn());
  ctx.setDeterministicAlgorithms(true, true);
  ctx.setAllowTF32CuBLAS(!ctx.allowTF32CuBLAS());
  ctx.setAllowTF32CuDNN(!ctx.allowTF32CuDNN());
  ctx.setFloat32MatmulPrecision(at::Float32MatmulPrecision::MEDIUM);
  ctx.setDisplayVmapFallbackWarnings(!ctx.areVmapFallbackWarningsEnabled());
  REQUIRE(ctx.setFlushDenormal(true));
  CHECK(flushes_denormals());
  c10::Warning::set_warnAlways(true);

  const std::vector<std::string> changed = start_rng.differences(TorchState::capture());
  for (const char* setting : {"default dtype", "RNG state", "intra-op threads", "grad mode", "dispatch key TLS",
                              "anomaly mode", "autocast", "cuDNN benchmark", "cuDNN deterministic", "oneDNN enabled",
                              "deterministic algorithms", "TF32", "float32 matmul precision", "vmap fallback warnings",
                              "warning handler",
                              "floating-point control (flush-to-zero, denormals, rounding)"}) {
    INFO(setting);
    CHECK(std::count(changed.begin(), changed.end(), setting) == 1);
  }

  CHECK(start_rng.restore().empty());
  CHECK(c10::get_default_dtype() == caffe2::TypeMeta::Make<float>());
  CHECK(torch::get_num_threads() == 1);
  CHECK(torch::autograd::GradMode::is_enabled());
  CHECK_FALSE(torch::autograd::AnomalyMode::is_enabled());
  CHECK_FALSE(at::autocast::is_cpu_enabled());
  CHECK_FALSE(ctx.deterministicAlgorithms());
  CHECK_FALSE(flushes_denormals());
  CHECK_FALSE(c10::Warning::get_warnAlways());
  CHECK(torch::equal(draw(), first));  // the generator is where it was
  CHECK(start.differences(TorchState::capture()) == std::vector<std::string>{"RNG state"});
}

TEST_CASE("torch state: a setting that cannot be put back is reported", "[torch_state]") {
  const auto start = TorchState::capture();
  at::globalContext().setDefaultMobileCPUAllocator();
  CHECK(start.restore() == std::vector<std::string>{"CPU allocator"});
  at::globalContext().unsetDefaultMobileCPUAllocator();
  CHECK(start.restore().empty());
}
