#include "torch_state.hpp"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/AutogradState.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/DefaultDtype.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/anomaly_mode.h>
#include <torch/torch.h>

#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define EVOPROMPT_HAS_MXCSR 1
#endif

namespace evoprompt {

struct TorchState::Values {
  caffe2::TypeMeta default_dtype;
  // The CPU generator (device -1), then that of each CUDA device this
  // process has a context on. A child that brings up a new one changes this.
  std::vector<std::pair<int, at::Tensor>> rng;
  int intra_op_threads = 0;
  int inter_op_threads = 0;
  c10::AutogradState autograd{false, false, false};  // grad, inference, forward-grad modes
  c10::impl::LocalDispatchKeySet dispatch_keys{c10::impl::PODLocalDispatchKeySet{}};
  bool anomaly = false, anomaly_nan = false;
  bool autocast_gpu = false, autocast_cpu = false, autocast_cache = false;
  at::ScalarType autocast_gpu_dtype{}, autocast_cpu_dtype{};
  // at::globalContext()
  bool cudnn = false, mkldnn = false, cudnn_benchmark = false, cudnn_deterministic = false;
  int cudnn_benchmark_limit = 0;
  bool flash_sdp = false, math_sdp = false;
  at::LinalgBackend linalg{};
  bool deterministic = false, deterministic_warn_only = false;
  bool tf32_cudnn = false, tf32_cublas = false, fp16_reduction_cublas = false;
  at::Float32MatmulPrecision matmul_precision{};
  at::QEngine qengine{};
  bool release_prepacked = false, vmap_warnings = false;
  c10::Allocator* cpu_allocator = nullptr;
  bool warn_always = false;
  c10::WarningHandler* warning_handler = nullptr;
  unsigned mxcsr = 0;  // control bits only: flush-to-zero, denormals-are-zero, rounding, masks
};

namespace {

at::Generator generator(int device) {
  return device < 0 ? at::detail::getDefaultCPUGenerator()
                    : at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device)));
}

std::vector<std::pair<int, at::Tensor>> rng_states() {
  std::vector<int> devices = {-1};
  // Only devices with a context: asking for the generator of another would
  // bring up CUDA in a worker that trains on the CPU.
  if (at::globalContext().hasCUDA())
    for (int i = 0; i < at::detail::getCUDAHooks().getNumGPUs(); ++i)
      if (at::detail::getCUDAHooks().hasPrimaryContext(i)) devices.push_back(i);
  std::vector<std::pair<int, at::Tensor>> states;
  for (int device : devices) {
    auto gen = generator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    states.emplace_back(device, gen.get_state());
  }
  return states;
}

void set_rng_states(const std::vector<std::pair<int, at::Tensor>>& states) {
  for (const auto& [device, state] : states) {
    auto gen = generator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
}

unsigned mxcsr_control() {
#ifdef EVOPROMPT_HAS_MXCSR
  return _mm_getcsr() & ~0x3Fu;  // bits 0-5 are the exception flags, which computing sets
#else
  return 0;
#endif
}

}  // namespace

TorchState::TorchState(std::unique_ptr<Values> values) : values_(std::move(values)) {}
TorchState::~TorchState() = default;
TorchState::TorchState(TorchState&&) noexcept = default;
TorchState& TorchState::operator=(TorchState&&) noexcept = default;

TorchState TorchState::capture() {
  auto v = std::make_unique<Values>();
  auto& ctx = at::globalContext();
  v->default_dtype = c10::get_default_dtype();
  v->rng = rng_states();
  v->intra_op_threads = at::get_num_threads();
  v->inter_op_threads = at::get_num_interop_threads();
  v->autograd = c10::AutogradState::get_tls_state();
  v->dispatch_keys = c10::impl::tls_local_dispatch_key_set();
  v->anomaly = torch::autograd::AnomalyMode::is_enabled();
  v->anomaly_nan = torch::autograd::AnomalyMode::should_check_nan();
  v->autocast_gpu = at::autocast::is_enabled();
  v->autocast_cpu = at::autocast::is_cpu_enabled();
  v->autocast_cache = at::autocast::is_autocast_cache_enabled();
  v->autocast_gpu_dtype = at::autocast::get_autocast_gpu_dtype();
  v->autocast_cpu_dtype = at::autocast::get_autocast_cpu_dtype();
  v->cudnn = ctx.userEnabledCuDNN();
  v->mkldnn = ctx.userEnabledMkldnn();
  v->cudnn_benchmark = ctx.benchmarkCuDNN();
  v->cudnn_deterministic = ctx.deterministicCuDNN();
  v->cudnn_benchmark_limit = ctx.benchmarkLimitCuDNN();
  v->flash_sdp = ctx.userEnabledFlashSDP();
  v->math_sdp = ctx.userEnabledMathSDP();
  v->linalg = ctx.linalgPreferredBackend();
  v->deterministic = ctx.deterministicAlgorithms();
  v->deterministic_warn_only = ctx.deterministicAlgorithmsWarnOnly();
  v->tf32_cudnn = ctx.allowTF32CuDNN();
  v->tf32_cublas = ctx.allowTF32CuBLAS();
  v->fp16_reduction_cublas = ctx.allowFP16ReductionCuBLAS();
  v->matmul_precision = ctx.float32MatmulPrecision();
  v->qengine = ctx.qEngine();
  v->release_prepacked = ctx.releaseWeightsWhenPrepacking();
  v->vmap_warnings = ctx.areVmapFallbackWarningsEnabled();
  v->cpu_allocator = c10::GetCPUAllocator();
  v->warn_always = c10::Warning::get_warnAlways();
  v->warning_handler = c10::Warning::get_warning_handler();
  v->mxcsr = mxcsr_control();
  return TorchState(std::move(v));
}

std::vector<std::string> TorchState::differences(const TorchState& other) const {
  const Values& a = *values_;
  const Values& b = *other.values_;
  std::vector<std::string> out;
  auto differ = [&](bool different, const char* name) {
    if (different) out.emplace_back(name);
  };
  differ(a.default_dtype != b.default_dtype, "default dtype");
  bool rng_same = a.rng.size() == b.rng.size();
  for (std::size_t i = 0; rng_same && i < a.rng.size(); ++i)
    rng_same = a.rng[i].first == b.rng[i].first && torch::equal(a.rng[i].second, b.rng[i].second);
  differ(!rng_same, "RNG state");
  differ(a.intra_op_threads != b.intra_op_threads, "intra-op threads");
  differ(a.inter_op_threads != b.inter_op_threads, "inter-op threads");
  differ(a.autograd.get_grad_mode() != b.autograd.get_grad_mode(), "grad mode");
  differ(a.autograd.get_inference_mode() != b.autograd.get_inference_mode(), "inference mode");
  differ(a.autograd.get_fw_grad_mode() != b.autograd.get_fw_grad_mode(), "forward grad mode");
  differ(a.dispatch_keys.included_ != b.dispatch_keys.included_ || a.dispatch_keys.excluded_ != b.dispatch_keys.excluded_,
         "dispatch key TLS");
  differ(a.anomaly != b.anomaly || a.anomaly_nan != b.anomaly_nan, "anomaly mode");
  differ(a.autocast_gpu != b.autocast_gpu || a.autocast_cpu != b.autocast_cpu || a.autocast_cache != b.autocast_cache ||
             a.autocast_gpu_dtype != b.autocast_gpu_dtype || a.autocast_cpu_dtype != b.autocast_cpu_dtype,
         "autocast");
  differ(a.cudnn != b.cudnn, "cuDNN enabled");
  differ(a.mkldnn != b.mkldnn, "oneDNN enabled");
  differ(a.cudnn_benchmark != b.cudnn_benchmark || a.cudnn_benchmark_limit != b.cudnn_benchmark_limit, "cuDNN benchmark");
  differ(a.cudnn_deterministic != b.cudnn_deterministic, "cuDNN deterministic");
  differ(a.flash_sdp != b.flash_sdp || a.math_sdp != b.math_sdp, "SDP kernels");
  differ(a.linalg != b.linalg, "linalg backend");
  differ(a.deterministic != b.deterministic || a.deterministic_warn_only != b.deterministic_warn_only,
         "deterministic algorithms");
  differ(a.tf32_cudnn != b.tf32_cudnn || a.tf32_cublas != b.tf32_cublas, "TF32");
  differ(a.fp16_reduction_cublas != b.fp16_reduction_cublas, "FP16 reduction");
  differ(a.matmul_precision != b.matmul_precision, "float32 matmul precision");
  differ(a.qengine != b.qengine, "quantized engine");
  differ(a.release_prepacked != b.release_prepacked, "release weights when prepacking");
  differ(a.vmap_warnings != b.vmap_warnings, "vmap fallback warnings");
  differ(a.cpu_allocator != b.cpu_allocator, "CPU allocator");
  differ(a.warn_always != b.warn_always || a.warning_handler != b.warning_handler, "warning handler");
  differ(a.mxcsr != b.mxcsr, "floating-point control (flush-to-zero, denormals, rounding)");
  return out;
}

std::vector<std::string> TorchState::restore() const {
  const Values& v = *values_;
  auto& ctx = at::globalContext();
  // Each setter is guarded: one that throws leaves its setting differing,
  // which the final comparison reports.
  auto attempt = [](auto&& set) {
    try {
      set();
    } catch (const std::exception&) {
    }
  };
  attempt([&] { c10::set_default_dtype(v.default_dtype); });
  attempt([&] { set_rng_states(v.rng); });
  attempt([&] {
    if (at::get_num_threads() != v.intra_op_threads) at::set_num_threads(v.intra_op_threads);
  });
  // Inter-op threads cannot be set once the pool exists: a change stays, and retires the worker.
  c10::AutogradState::set_tls_state(v.autograd);
  c10::impl::_force_tls_local_dispatch_key_set(v.dispatch_keys);
  torch::autograd::AnomalyMode::set_enabled(v.anomaly, v.anomaly_nan);
  at::autocast::set_enabled(v.autocast_gpu);
  at::autocast::set_cpu_enabled(v.autocast_cpu);
  at::autocast::set_autocast_cache_enabled(v.autocast_cache);
  at::autocast::set_autocast_gpu_dtype(v.autocast_gpu_dtype);
  at::autocast::set_autocast_cpu_dtype(v.autocast_cpu_dtype);
  attempt([&] { ctx.setUserEnabledCuDNN(v.cudnn); });
  attempt([&] { ctx.setUserEnabledMkldnn(v.mkldnn); });
  attempt([&] { ctx.setBenchmarkCuDNN(v.cudnn_benchmark); });
  attempt([&] { ctx.setBenchmarkLimitCuDNN(v.cudnn_benchmark_limit); });
  attempt([&] { ctx.setDeterministicCuDNN(v.cudnn_deterministic); });
  attempt([&] { ctx.setSDPUseFlash(v.flash_sdp); });
  attempt([&] { ctx.setSDPUseMath(v.math_sdp); });
  attempt([&] { ctx.setLinalgPreferredBackend(v.linalg); });
  attempt([&] { ctx.setDeterministicAlgorithms(v.deterministic, v.deterministic_warn_only); });
  attempt([&] { ctx.setAllowTF32CuDNN(v.tf32_cudnn); });
  attempt([&] { ctx.setAllowTF32CuBLAS(v.tf32_cublas); });
  attempt([&] { ctx.setAllowFP16ReductionCuBLAS(v.fp16_reduction_cublas); });
  attempt([&] { ctx.setFloat32MatmulPrecision(v.matmul_precision); });
  attempt([&] { ctx.setQEngine(v.qengine); });
  attempt([&] { ctx.setReleaseWeightsWhenPrepacking(v.release_prepacked); });
  attempt([&] { ctx.setDisplayVmapFallbackWarnings(v.vmap_warnings); });
  // The CPU allocator is registered with a priority: a child's replacement
  // cannot be undone here, and retires the worker.
  c10::Warning::set_warnAlways(v.warn_always);
  c10::Warning::set_warning_handler(v.warning_handler);
#ifdef EVOPROMPT_HAS_MXCSR
  _mm_setcsr((_mm_getcsr() & 0x3Fu) | v.mxcsr);
#endif
  return differences(capture());
}

}  // namespace evoprompt
