// `evoprompt data clrs ALGO`: CLRS-30 samples as .npy files, in the layout of
// the golden reference set (tests/data/clrs_golden.tar.xz): one folder
// <split>_n<N>_<i> per sample with one <probe>.npy per probe and meta.json.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace evoprompt::cli {

// Adds the `clrs` subcommand to the `data` group.
void add_data_clrs_command(CLI::App* data_group);

struct DataClrsOptions {
  std::string algorithm;
  std::string split = "train";
  std::int64_t n = 0;       // the sampler's length (>= 1)
  bool n_given = false;     // otherwise the split's, 16 or 64
  std::int64_t seed = -1;   // -1: the split's official seed
  std::int64_t count = 1;   // samples written
  std::int64_t start = 0;   // index in the stream of the first one
  std::string out;
};

// Writes the samples (usage errors throw UsageError before anything is
// written; a failure later leaves the output folder as it was). Returns the
// number of sample folders written.
std::int64_t write_clrs_samples(const DataClrsOptions& options);

}  // namespace evoprompt::cli
