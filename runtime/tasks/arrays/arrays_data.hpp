// A user's data folder for the arrays task: x.npy [N, ...] (float32/64) and
// y.npy [N] (integer labels 0..C-1), optionally x_test.npy/y_test.npy and a
// task.toml (description, val_size, classes). Torch-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "npy.hpp"

namespace evoprompt::tasks {

// What the folder holds, checked. Every problem is a std::invalid_argument
// of one line naming the file, e.g. "DIR/y.npy: label 7 at row 3 is out of
// range 0..3 (task.toml classes = 4)".
struct ArraysSummary {
  std::vector<std::int64_t> input_shape;  // per row
  std::int64_t rows = 0;                  // of x.npy
  std::int64_t test_rows = 0;             // of x_test.npy; 0: none (a seeded split)
  std::int64_t classes = 0;
  std::string description;                // task.toml's, else ""
  std::optional<std::int64_t> val_size;   // task.toml's
};

// Reads and checks everything once per folder state (cached by file sizes
// and times), so every caller sees the same verdict.
ArraysSummary inspect_arrays(const std::string& dir);

struct ArraysFiles {
  NpyArray x, y, x_test, y_test;  // x_test/y_test empty when absent
};
// The checked arrays themselves.
ArraysFiles read_arrays(const std::string& dir);

// The rows of each split: `test` from x.npy when the folder has no test files.
struct ArraysSplit {
  std::vector<std::int64_t> train, val, test;
};
// Seeded and sorted; throws std::invalid_argument when there are too few rows.
ArraysSplit split_arrays(const ArraysSummary& data, std::int64_t val_size, std::int64_t test_size,
                         std::uint32_t seed);

}  // namespace evoprompt::tasks
