// GPU discovery and each worker's CUDA_VISIBLE_DEVICES, simulated: the mask
// as CUDA reads it, and a worker never sees a GPU the user hid.
#include <catch2/catch.hpp>

#include <map>

#include "gpu_devices.hpp"
#include "worker_pool.hpp"

using evoprompt::GpuMask;
using List = std::vector<std::string>;

TEST_CASE("gpu mask: CUDA_VISIBLE_DEVICES decides which GPUs are visible", "[gpu]") {
  CHECK(GpuMask{std::nullopt, 2}.visible() == List{"0", "1"});
  CHECK(GpuMask{std::nullopt, 0}.visible().empty());
  CHECK(GpuMask{std::string("1"), 2}.visible() == List{"1"});
  CHECK(GpuMask{std::string("1, 0"), 2}.visible() == List{"1", "0"});
  CHECK(GpuMask{std::string(""), 4}.visible().empty());
  CHECK(GpuMask{std::string("-1"), 4}.visible().empty());
  // The list ends at its first invalid entry: negative, out of range, repeated, not a number.
  CHECK(GpuMask{std::string("0,-1,1"), 2}.visible() == List{"0"});
  CHECK(GpuMask{std::string("0,5,1"), 2}.visible() == List{"0"});
  CHECK(GpuMask{std::string("1,1"), 2}.visible() == List{"1"});
  CHECK(GpuMask{std::string("0,x"), 2}.visible() == List{"0"});
  // UUIDs of GPUs and of MIG instances: one device each.
  CHECK(GpuMask{std::string("MIG-5c3b,MIG-77a0"), 1}.visible() == List{"MIG-5c3b", "MIG-77a0"});
  CHECK(GpuMask{std::string("GPU-9f1e"), 8}.visible() == List{"GPU-9f1e"});
}

TEST_CASE("gpu mask: each worker gets one visible GPU, unless the device names one", "[gpu]") {
  const GpuMask all{std::nullopt, 2};
  CHECK(all.for_worker(0, "auto") == std::optional<std::string>("0"));
  CHECK(all.for_worker(1, "cuda") == std::optional<std::string>("1"));
  CHECK(all.for_worker(2, "auto") == std::optional<std::string>("0"));  // several workers per GPU
  CHECK(all.for_worker(0, "cpu") == std::nullopt);
  CHECK(all.for_worker(1, "cuda:1") == std::nullopt);  // --device cuda:1: the user's mask stays
  // The user's own mask is kept: workers share out its GPUs, in its order.
  const GpuMask user{std::string("3,1"), 4};
  CHECK(user.for_worker(0, "auto") == std::optional<std::string>("3"));
  CHECK(user.for_worker(1, "auto") == std::optional<std::string>("1"));
  CHECK(GpuMask{std::string("MIG-a,MIG-b"), 1}.for_worker(1, "cuda") == std::optional<std::string>("MIG-b"));
  // One visible GPU (or none): nothing to split, the environment stays.
  CHECK(GpuMask{std::string("1"), 2}.for_worker(0, "auto") == std::nullopt);
  CHECK(GpuMask{std::nullopt, 0}.for_worker(0, "auto") == std::nullopt);
}

TEST_CASE("workers per GPU: the default count, each GPU's share of them and of its memory", "[gpu]") {
  const GpuMask two{std::nullopt, 2};
  CHECK(evoprompt::default_worker_count(two) == 2);
  CHECK(evoprompt::default_worker_count(two, 4) == 8);
  // Slots take the GPUs in turn: 4 workers on each.
  std::map<std::string, int> on_gpu;
  for (int slot = 0; slot < 8; ++slot) ++on_gpu[*two.for_worker(slot, "auto")];
  CHECK(on_gpu == std::map<std::string, int>{{"0", 4}, {"1", 4}});
  CHECK(evoprompt::default_gpu_memory_fraction(0, 8, two) == Approx(0.225));
  CHECK(evoprompt::default_gpu_memory_fraction(1, 2, two) == Approx(0.9));
  // 3 workers: GPU 0 holds slots 0 and 2, GPU 1 slot 1 alone.
  CHECK(evoprompt::default_gpu_memory_fraction(0, 3, two) == Approx(0.45));
  CHECK(evoprompt::default_gpu_memory_fraction(2, 3, two) == Approx(0.45));
  CHECK(evoprompt::default_gpu_memory_fraction(1, 3, two) == Approx(0.9));
  // An explicit GPU takes every worker.
  CHECK(evoprompt::default_gpu_memory_fraction(1, 4, two, "cuda:1") == Approx(0.225));
  CHECK(evoprompt::default_gpu_memory_fraction(0, 4, two, "cpu") == 0.0);
  // Without a GPU: one worker per core, whatever the setting, and no cap.
  const GpuMask none{std::nullopt, 0};
  CHECK(evoprompt::default_worker_count(none, 4) == evoprompt::default_worker_count(none));
  CHECK(evoprompt::default_gpu_memory_fraction(0, 4, none) == 0.0);
  CHECK(evoprompt::default_threads_per_worker(4, none) == 1);
}

TEST_CASE("workers per GPU: the embedded LM's share of cuda:0 is left to it", "[gpu]") {
  const GpuMask two{std::nullopt, 2};
  // 4 workers per GPU and an LM holding 0.25 of the first GPU: its workers
  // split 0.65, the other GPU's split 0.9, and no GPU is promised over 0.9.
  double first = 0.25, second = 0.0;
  for (int slot = 0; slot < 8; ++slot) {
    const double f = evoprompt::default_gpu_memory_fraction(slot, 8, two, "auto", 0.25);
    CHECK(f == Approx(slot % 2 == 0 ? 0.1625 : 0.225));
    (slot % 2 == 0 ? first : second) += f;
  }
  CHECK(first == Approx(0.9));
  CHECK(second == Approx(0.9));
  // The user's GPU 1 is not the LM's: nothing is taken off it.
  CHECK(evoprompt::default_gpu_memory_fraction(0, 2, two, "cuda:1", 0.25) == Approx(0.45));
  CHECK(evoprompt::default_gpu_memory_fraction(0, 2, two, "cuda:0", 0.25) == Approx(0.325));
  // One GPU, no mask: every worker shares the LM's GPU.
  const GpuMask one{std::nullopt, 1};
  CHECK(evoprompt::default_gpu_memory_fraction(3, 4, one, "auto", 0.5) == Approx(0.1));
  // An LM that leaves its GPU's workers under 5% is refused, in one line.
  CHECK_THROWS_WITH(evoprompt::default_gpu_memory_fraction(0, 4, one, "auto", 0.88),
                    Catch::Contains("leaves the workers on its GPU less than 5%"));
  // Without a GPU there is nothing to share.
  CHECK(evoprompt::default_gpu_memory_fraction(0, 4, GpuMask{std::nullopt, 0}, "auto", 0.25) == 0.0);
}
