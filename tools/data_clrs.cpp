#include "data_clrs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "clrs/samplers.hpp"
#include "clrs/spec.hpp"
#include "cli.hpp"

namespace evoprompt::cli {

namespace fs = std::filesystem;
using namespace evoprompt::clrs;

namespace {

// The on-disk dtype of a probe (the golden set's rule, by type, never by
// value): int64 -> int32; float64 scalar -> float64; other float64 -> float32.
const char* disk_dtype(const DataPoint& dp) {
  if (dp.data.dtype == DType::int64) return "int32";
  return dp.spec.type == Type::scalar ? "float64" : "float32";
}

std::string shape_tuple(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

// NumPy format 1.0, little-endian, C order, header padded to 64 bytes.
void write_array(const fs::path& path, const Array& a, const std::string& dtype) {
  const char* descr = dtype == "int32" ? "<i4" : dtype == "float32" ? "<f4" : "<f8";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " +
                       shape_tuple(a.shape) + ", }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out.write("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (double v : a.values) {
    if (dtype == "int32") {
      const auto x = static_cast<std::int32_t>(v);
      if (static_cast<double>(x) != v) throw std::runtime_error(path.string() + ": value does not fit int32");
      out.write(reinterpret_cast<const char*>(&x), 4);
    } else if (dtype == "float32") {
      const auto x = static_cast<float>(v);
      if (static_cast<double>(x) != v) throw std::runtime_error(path.string() + ": value does not fit float32");
      out.write(reinterpret_cast<const char*>(&x), 4);
    } else {
      out.write(reinterpret_cast<const char*>(&v), 8);
    }
  }
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_sample(const fs::path& dir, const Sample& s, const DataClrsOptions& o, std::uint32_t seed,
                  std::int64_t index) {
  const auto& spec = builtin_spec(o.algorithm);
  fs::create_directories(dir);
  nlohmann::ordered_json probes = nlohmann::ordered_json::object();
  for (const auto& p : spec.probes) {
    const auto& dp = s.get(p.name);
    const std::string dtype = disk_dtype(dp);
    const std::string file = p.name + ".npy";
    write_array(dir / file, dp.data, dtype);
    probes[p.name] = {{"stage", to_string(p.stage)},   {"location", to_string(p.location)},
                      {"type", to_string(p.type)},     {"shape", dp.data.shape},
                      {"orig_dtype", to_string(dp.data.dtype)}, {"dtype", dtype},
                      {"stored", true},                {"file", file}};
  }
  const nlohmann::ordered_json meta = {
      {"algorithm", o.algorithm},
      {"split", o.split},
      {"n", o.n},
      {"sample_index_in_stream", index},
      {"seed", seed},
      {"sampler_class", spec.sampler_class},
      {"sampler_kwargs", {{"length", o.n}}},
      {"sampler_default_kwargs", spec.sampler_default_kwargs},
      {"split_num_samples", clrs30_num_samples(o.split, o.algorithm)},
      {"num_nodes", s.num_nodes()},
      {"trajectory_length", s.length},
      {"hints_stored", true},
      {"probes", probes},
  };
  std::ofstream out(dir / "meta.json");
  out << meta.dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + (dir / "meta.json").string());
}

}  // namespace

std::int64_t write_clrs_samples(const DataClrsOptions& in) {
  DataClrsOptions o = in;
  const auto& algos = clrs30_algorithms();
  if (std::find(algos.begin(), algos.end(), o.algorithm) == algos.end()) {
    std::string list;
    for (const auto& a : algos) list += (list.empty() ? "" : ", ") + a;
    throw UsageError("unknown CLRS-30 algorithm '" + o.algorithm + "' (available: " + list + ")");
  }
  if (o.split != "train" && o.split != "val" && o.split != "test")
    throw UsageError("--split must be train, val or test, not '" + o.split + "'");
  const auto cfg = clrs30_split(o.split);
  if (!o.n_given) o.n = cfg.length;
  if (o.n < 1) throw UsageError("--n must be >= 1");
  if (o.count < 1) throw UsageError("--count must be >= 1");
  if (o.start < 0) throw UsageError("--start must be >= 0");
  if (o.seed > 0xFFFFFFFFLL) throw UsageError("--seed must be in [0, 2^32)");
  if (o.out.empty()) throw UsageError("--out is required");
  const auto seed = o.seed < 0 ? cfg.seed : static_cast<std::uint32_t>(o.seed);

  const fs::path out = fs::absolute(o.out);
  if (fs::exists(out) && !fs::is_directory(out)) throw UsageError(out.string() + " exists and is not a folder");
  fs::create_directories(out.parent_path());
  const fs::path tmp = out.parent_path() / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  std::vector<std::string> names;
  try {
    Sampler sampler(o.algorithm, seed, o.n);
    for (std::int64_t i = 0; i < o.start; ++i) sampler.next();
    for (std::int64_t i = o.start; i < o.start + o.count; ++i) {
      const auto name = o.split + "_n" + std::to_string(o.n) + "_" + std::to_string(i);
      write_sample(tmp / name, sampler.next(), o, seed, i);
      names.push_back(name);
    }
    if (!fs::exists(out)) {
      fs::rename(tmp, out);
    } else {
      for (const auto& name : names) {
        fs::remove_all(out / name);
        fs::rename(tmp / name, out / name);
      }
      fs::remove_all(tmp);
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  return static_cast<std::int64_t>(names.size());
}

void add_data_clrs_command(CLI::App* data_group) {
  auto options = std::make_shared<DataClrsOptions>();
  auto* cmd = data_group->add_subcommand(
      "clrs", "Generate CLRS-30 samples (.npy + meta.json per sample, the reference dataset's layout)");
  cmd->add_option("algorithm", options->algorithm, "One of the 30 CLRS-30 algorithms")->required();
  cmd->add_option("--split", options->split, "train, val or test (its seed and default n)")->capture_default_str();
  cmd->add_option("--n", options->n, "Sampler length (nodes); default: the split's, 16 or 64");
  cmd->add_option("--seed", options->seed, "Sampler seed; default: the split's official seed (1, 2, 3)");
  cmd->add_option("--count", options->count, "Number of samples")->capture_default_str();
  cmd->add_option("--start", options->start, "Index in the stream of the first sample written")
      ->capture_default_str();
  cmd->add_option("--out", options->out, "Output folder: <out>/<split>_n<N>_<i>/")->required();
  cmd->callback([options, cmd] {
    options->n_given = cmd->count("--n") > 0;
    const auto written = write_clrs_samples(*options);
    std::cout << "wrote " << written << " " << options->algorithm << " sample" << (written == 1 ? "" : "s")
              << " to " << options->out << "\n";
  });
}

}  // namespace evoprompt::cli
