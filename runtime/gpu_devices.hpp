// Which NVIDIA GPUs this process may use, and which one each worker gets.
// CUDA_VISIBLE_DEVICES decides, as it does for CUDA itself: a comma-separated
// list of indices or UUIDs (GPU-..., MIG-...), read up to its first invalid
// entry; empty or "-1" hides every GPU. Unset, every GPU the driver lists is
// visible. A worker is given one entry of that list, never a GPU the user hid;
// with an explicit --device cuda:N the user's mask is left as it is.
// Torch-free: the driver decides before any CUDA library is loaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace evoprompt {

struct GpuMask {
  std::optional<std::string> cuda_visible_devices;  // the variable's value; nullopt: unset
  int driver_gpus = 0;                              // GPUs the driver lists

  // The visible GPUs, as CUDA_VISIBLE_DEVICES entries ("0", "GPU-...", "MIG-...").
  std::vector<std::string> visible() const;
  // The CUDA_VISIBLE_DEVICES a worker in `slot` gets for `device` ("auto",
  // "cuda", "cuda:N", "cpu"); nullopt: it keeps the driver's environment.
  std::optional<std::string> for_worker(int slot, const std::string& device) const;

  // This process's: $CUDA_VISIBLE_DEVICES, and the GPUs under
  // /proc/driver/nvidia/gpus, else the /dev/nvidiaN device nodes (containers).
  static GpuMask of_this_process();
};

}  // namespace evoprompt
