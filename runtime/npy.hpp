// Reader and writer for NumPy .npy files (format 1.0-3.0, little-endian,
// C order). Values are widened to double or int64 on read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace evoprompt {

enum class NpyDtype { float32, float64, int32, int64 };

// An array read from disk. Exactly one of `f64` / `i64` holds data,
// according to whether the stored dtype is floating or integral.
struct NpyArray {
  NpyDtype dtype = NpyDtype::float64;
  std::vector<std::int64_t> shape;
  std::vector<double> f64;
  std::vector<std::int64_t> i64;

  std::int64_t size() const;
  bool is_floating() const { return dtype == NpyDtype::float32 || dtype == NpyDtype::float64; }
};

// Throws std::runtime_error with a one-line reason naming the file.
NpyArray read_npy(const std::string& path);

// Writes atomically (temp file + rename), so a failure leaves no partial file.
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape,
               const std::vector<double>& data);
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape,
               const std::vector<std::int64_t>& data);

}  // namespace evoprompt
