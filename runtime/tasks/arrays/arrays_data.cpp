#include "tasks/arrays/arrays_data.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

#include "mnist1d.hpp"  // holdout_split

namespace evoprompt::tasks {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const std::string& where, const std::string& why) {
  throw std::invalid_argument(where + ": " + why);
}

NpyArray read_checked(const std::string& path) {
  try {
    return read_npy(path);
  } catch (const std::exception& e) {
    throw std::invalid_argument(e.what());  // read_npy names the file
  }
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void check_inputs(const std::string& path, const NpyArray& x) {
  if (!x.is_floating())
    refuse(path, "inputs must be float32 or float64, not integers (cast them: x.astype('float32'))");
  if (x.shape.size() < 2) refuse(path, "inputs must be [N, ...] with at least one value per row, not " + shape_text(x.shape));
  if (x.size() == 0) refuse(path, "empty (shape " + shape_text(x.shape) + ")");
  const std::int64_t per_row = x.size() / x.shape[0];
  for (std::size_t i = 0; i < x.f64.size(); ++i)
    if (!std::isfinite(x.f64[i]))
      refuse(path, std::string(std::isnan(x.f64[i]) ? "NaN" : "Inf") + " at row " +
                       std::to_string(static_cast<std::int64_t>(i) / per_row));
}

void check_labels(const std::string& path, const NpyArray& y, std::int64_t rows, const std::string& x_name) {
  if (y.is_floating()) refuse(path, "labels must be integers (int64), not floating point");
  if (y.shape.size() != 1) refuse(path, "labels must be [N], not " + shape_text(y.shape));
  if (y.size() == 0) refuse(path, "empty");
  if (y.shape[0] != rows)
    refuse(path, std::to_string(y.shape[0]) + " labels for the " + std::to_string(rows) + " rows of " + x_name);
}

ArraysSummary inspect_uncached(const std::string& dir) {
  if (!fs::is_directory(dir)) refuse(dir, "no such folder");
  const fs::path d(dir);
  for (const char* name : {"x.npy", "y.npy"})
    if (!fs::is_regular_file(d / name))
      refuse(dir, std::string("no ") + name + " (an arrays task needs x.npy [N, ...] and y.npy [N])");
  const bool x_test = fs::is_regular_file(d / "x_test.npy"), y_test = fs::is_regular_file(d / "y_test.npy");
  if (x_test != y_test) refuse(dir, std::string("has ") + (x_test ? "x_test.npy but no y_test.npy" : "y_test.npy but no x_test.npy"));

  ArraysSummary s;
  std::optional<std::int64_t> classes;
  if (fs::exists(d / "task.toml")) {
    const std::string path = (d / "task.toml").string();
    toml::table t;
    try {
      t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      refuse(path, std::string(e.description()) + " (line " + std::to_string(e.source().begin.line) + ")");
    }
    for (const auto& [key, value] : t) {
      const std::string k(key.str());
      if (k == "description" && value.is_string()) {
        s.description = *value.value<std::string>();
        if (s.description.find('\n') != std::string::npos) refuse(path, "description must be one line");
      } else if ((k == "val_size" || k == "classes") && value.is_integer()) {
        const auto v = *value.value<std::int64_t>();
        if (v < 1) refuse(path, k + " must be >= 1");
        (k == "val_size" ? s.val_size : classes) = v;
      } else {
        refuse(path, "unknown or mistyped key '" + k + "' (description = \"...\", val_size = N, classes = N)");
      }
    }
  }

  const ArraysFiles f = [&] {
    ArraysFiles a;
    a.x = read_checked((d / "x.npy").string());
    a.y = read_checked((d / "y.npy").string());
    if (x_test) {
      a.x_test = read_checked((d / "x_test.npy").string());
      a.y_test = read_checked((d / "y_test.npy").string());
    }
    return a;
  }();
  check_inputs((d / "x.npy").string(), f.x);
  check_labels((d / "y.npy").string(), f.y, f.x.shape[0], "x.npy");
  s.rows = f.x.shape[0];
  s.input_shape.assign(f.x.shape.begin() + 1, f.x.shape.end());
  if (x_test) {
    check_inputs((d / "x_test.npy").string(), f.x_test);
    const std::vector<std::int64_t> test_shape(f.x_test.shape.begin() + 1, f.x_test.shape.end());
    if (test_shape != s.input_shape)
      refuse((d / "x_test.npy").string(),
             "rows of " + shape_text(test_shape) + ", but x.npy's are " + shape_text(s.input_shape));
    check_labels((d / "y_test.npy").string(), f.y_test, f.x_test.shape[0], "x_test.npy");
    s.test_rows = f.x_test.shape[0];
  }

  std::int64_t top = 0;
  for (std::int64_t v : f.y.i64) top = std::max(top, v);
  s.classes = classes ? *classes : top + 1;
  const std::string range = "0.." + std::to_string(s.classes - 1) +
                            (classes ? " (task.toml classes = " + std::to_string(*classes) + ")" : "");
  auto check_range = [&](const NpyArray& y, const std::string& name) {
    for (std::size_t i = 0; i < y.i64.size(); ++i)
      if (y.i64[i] < 0 || y.i64[i] >= s.classes)
        refuse((d / name).string(), "label " + std::to_string(y.i64[i]) + " at row " + std::to_string(i) +
                                        " is out of range " + range);
  };
  check_range(f.y, "y.npy");
  if (x_test) check_range(f.y_test, "y_test.npy");
  if (s.classes < 2) refuse((d / "y.npy").string(), "fewer than 2 classes (every label is 0)");
  return s;
}

// What a folder's state is, for the cache: each file's size and time.
std::string folder_state(const std::string& dir) {
  std::string key = dir;
  for (const char* name : {"x.npy", "y.npy", "x_test.npy", "y_test.npy", "task.toml"}) {
    std::error_code ec;
    const fs::path p = fs::path(dir) / name;
    const auto size = fs::file_size(p, ec);
    if (ec) continue;
    key += std::string("|") + name + ":" + std::to_string(size) + ":" +
           std::to_string(fs::last_write_time(p, ec).time_since_epoch().count());
  }
  return key;
}

}  // namespace

ArraysSummary inspect_arrays(const std::string& dir) {
  static std::mutex lock;
  static std::map<std::string, ArraysSummary> seen;
  const std::string key = folder_state(dir);
  {
    std::lock_guard<std::mutex> g(lock);
    if (auto it = seen.find(key); it != seen.end()) return it->second;
  }
  ArraysSummary s = inspect_uncached(dir);
  std::lock_guard<std::mutex> g(lock);
  return seen.emplace(key, std::move(s)).first->second;
}

ArraysFiles read_arrays(const std::string& dir) {
  const ArraysSummary s = inspect_arrays(dir);
  const fs::path d(dir);
  ArraysFiles f;
  f.x = read_checked((d / "x.npy").string());
  f.y = read_checked((d / "y.npy").string());
  if (s.test_rows > 0) {
    f.x_test = read_checked((d / "x_test.npy").string());
    f.y_test = read_checked((d / "y_test.npy").string());
  }
  return f;
}

ArraysSplit split_arrays(const ArraysSummary& data, std::int64_t val_size, std::int64_t test_size,
                         std::uint32_t seed) {
  const std::int64_t held = val_size + (data.test_rows > 0 ? 0 : test_size);
  if (val_size < 1 || (data.test_rows == 0 && test_size < 1) || data.rows - held < 2)
    throw std::invalid_argument(
        std::to_string(data.rows) + " rows are too few for a validation split of " + std::to_string(val_size) +
        (data.test_rows > 0 ? "" : " and a test split of " + std::to_string(test_size)) +
        " (at least 2 rows must be left to train on)");
  ArraysSplit s;
  std::vector<std::int64_t> rest(static_cast<std::size_t>(data.rows));
  for (std::int64_t i = 0; i < data.rows; ++i) rest[static_cast<std::size_t>(i)] = i;
  if (data.test_rows == 0) {
    // The test rows first, by a seed of their own, so --val-size never moves them.
    const HoldoutSplit t = holdout_split(data.rows, test_size, seed ^ 0x7e57u);
    s.test = t.val;
    rest = t.train;
  }
  const HoldoutSplit v = holdout_split(static_cast<std::int64_t>(rest.size()), val_size, seed);
  for (auto i : v.train) s.train.push_back(rest[static_cast<std::size_t>(i)]);
  for (auto i : v.val) s.val.push_back(rest[static_cast<std::size_t>(i)]);
  return s;
}

}  // namespace evoprompt::tasks
