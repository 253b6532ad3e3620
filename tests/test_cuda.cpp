// The CUDA path, on a GPU. Built only against a CUDA libtorch
// (tests/CMakeLists.txt), where it is one more test binary that must pass:
// scripts/gpu-check.sh runs it on the device machine. Each CPU-testable
// piece also has a CPU test (test_flat_adamw, test_trainer, test_gpu_devices).
#include "torch_catch.hpp"

#include <cuda_runtime_api.h>

#include "canonical_mnist1d.hpp"
#include "mnist1d.hpp"
#include "seeds.hpp"
#include "trainer.hpp"

using namespace evoprompt;

namespace {

const torch::Device kGpu(torch::kCUDA, 0);

const ClassificationData& gpu_data() {
  static const ClassificationData data = [] {
    const auto& d = testing::canonical_mnist1d();
    return make_classification_data(d, holdout_split(d.num_train(), 500, 42), kGpu);
  }();
  return data;
}

const Seed& seed(const std::string& name) {
  for (const auto& s : mnist1d_seeds())
    if (s.name == name) return s;
  throw std::logic_error("no seed " + name);
}

TrainOptions gpu_options(std::int64_t steps, bool graph) {
  TrainOptions o;
  o.steps = steps;
  o.eval_every = 100;
  o.device = kGpu;
  o.cuda_graph = graph;
  return o;
}

// A forward that reads a value back to the host each step: legal eagerly,
// impossible inside a graph capture.
struct SyncingModel : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  SyncingModel() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(const torch::Tensor& x) {
    const double scale = x.abs().max().item<double>() > 0.0 ? 1.0 : 0.0;
    return fc(x) * scale;
  }
};

}  // namespace

TEST_CASE("cuda: the CNN seed's step is captured as a CUDA graph and trains as eagerly", "[cuda]") {
  REQUIRE(torch::cuda::is_available());
  const auto graph = train_classifier(seed("cnn").factory, gpu_data(), gpu_options(1000, true));
  const auto eager = train_classifier(seed("cnn").factory, gpu_data(), gpu_options(1000, false));
  CHECK(graph.step_path == "cuda_graph");
  CHECK(eager.step_path == "eager (--cuda-graph off)");
  CHECK(graph.params.used == 5210);
  CHECK(graph.best_val_acc >= 0.6);
  CHECK(eager.best_val_acc >= 0.6);
  // Same data, init and update; only kernel-level rounding may differ.
  CHECK(std::abs(graph.best_val_acc - eager.best_val_acc) <= 0.05);
  CHECK(std::abs(graph.final_train_loss - eager.final_train_loss) <= 0.2);
}

TEST_CASE("cuda: every seed trains through a graph, GRU and BatchNorm included", "[cuda]") {
  for (const auto& s : mnist1d_seeds()) {
    INFO(s.name);
    const auto r = train_classifier(s.factory, gpu_data(), gpu_options(300, true));
    CHECK(r.step_path == "cuda_graph");
    CHECK(r.best_val_acc > 0.2);
  }
}

TEST_CASE("cuda: a step that cannot be captured runs eagerly and says why", "[cuda]") {
  const ModelFactory factory = [] {
    auto m = std::make_shared<SyncingModel>();
    return ModelInstance{m, [m](const torch::Tensor& x) { return m->forward(x); }};
  };
  const auto r = train_classifier(factory, gpu_data(), gpu_options(300, true));
  CHECK(r.step_path.rfind("eager (capture failed: ", 0) == 0);
  CHECK(r.steps == 300);
  CHECK(r.best_val_acc > 0.3);
  // The failed capture leaves the device usable: the next child is graphed.
  CHECK(train_classifier(seed("cnn").factory, gpu_data(), gpu_options(200, true)).step_path == "cuda_graph");
}

TEST_CASE("cuda: parameters are counted by a forward on the training device", "[cuda]") {
  // A forward that makes a CPU tensor passes on the CPU and fails on the GPU,
  // so the count must fail there too, before any training.
  struct CpuTensorModel : torch::nn::Module {
    torch::nn::Linear fc{nullptr};
    CpuTensorModel() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  };
  auto m = std::make_shared<CpuTensorModel>();
  ModelInstance model{m, [m](const torch::Tensor& x) { return m->fc(x) + torch::zeros({10}); }};
  CHECK(count_params(model, 40, 10, torch::kCPU).used == 410);
  CHECK_THROWS(count_params(model, 40, 10, kGpu));
}

TEST_CASE("cuda: a worker's memory cap is enforced by the caching allocator", "[cuda]") {
  claim_compute(kGpu, 0, 0.05);
  std::size_t free_bytes = 0, total_bytes = 0;
  REQUIRE(cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess);
  const auto over = static_cast<std::int64_t>(0.10 * static_cast<double>(total_bytes) / 4);  // floats: 10% of the GPU
  CHECK_THROWS(torch::empty({over}, torch::TensorOptions().dtype(torch::kFloat32).device(kGpu)));
  const auto under = static_cast<std::int64_t>(0.02 * static_cast<double>(total_bytes) / 4);
  CHECK_NOTHROW(torch::empty({under}, torch::TensorOptions().dtype(torch::kFloat32).device(kGpu)));
  claim_compute(kGpu, 0, 1.0);
}
