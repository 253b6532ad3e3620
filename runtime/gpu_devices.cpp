#include "gpu_devices.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

namespace evoprompt {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

int count_entries(const std::filesystem::path& dir, const std::regex& name) {
  std::error_code ec;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (std::regex_match(e.path().filename().string(), name)) ++n;
  return n;
}

}  // namespace

std::vector<std::string> GpuMask::visible() const {
  std::vector<std::string> out;
  if (!cuda_visible_devices) {
    for (int i = 0; i < driver_gpus; ++i) out.push_back(std::to_string(i));
    return out;
  }
  std::stringstream list(*cuda_visible_devices);
  for (std::string entry; std::getline(list, entry, ',');) {
    entry = trim(entry);
    if (entry.rfind("GPU-", 0) == 0 || entry.rfind("MIG-", 0) == 0) {
      out.push_back(entry);
      continue;
    }
    // An index: digits only, one the driver has, not seen before; anything
    // else ends the list (as CUDA reads it: "-1" hides all).
    if (entry.empty() || entry.find_first_not_of("0123456789") != std::string::npos) break;
    const int index = std::atoi(entry.c_str());
    if (index >= driver_gpus) break;
    bool repeated = false;
    for (const auto& e : out) repeated |= e == entry;
    if (repeated) break;
    out.push_back(entry);
  }
  return out;
}

std::optional<std::string> GpuMask::for_worker(int slot, const std::string& device) const {
  if (device == "cpu" || device.rfind("cuda:", 0) == 0) return std::nullopt;
  const auto gpus = visible();
  if (gpus.size() <= 1) return std::nullopt;
  return gpus[static_cast<std::size_t>(slot) % gpus.size()];
}

GpuMask GpuMask::of_this_process() {
  GpuMask m;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) m.cuda_visible_devices = v;
  m.driver_gpus = count_entries("/proc/driver/nvidia/gpus", std::regex(".+"));
  if (m.driver_gpus == 0) m.driver_gpus = count_entries("/dev", std::regex("nvidia[0-9]+"));
  return m;
}

}  // namespace evoprompt
