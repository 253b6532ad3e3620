// MNIST-1D (Greydanus 2020): the canonical arrays, a native generator that
// reproduces them (numpy-legacy RNG parity), and the seeded validation split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace evoprompt {

// Every argument of the reference generator (`get_dataset_args`).
struct Mnist1dArgs {
  std::int64_t num_samples = 5000;
  double train_split = 0.8;
  std::int64_t template_len = 12;
  std::int64_t padding_min = 36;  // padding = [min, max], both inclusive
  std::int64_t padding_max = 60;
  double scale_coeff = 0.4;
  std::int64_t max_translation = 48;
  double corr_noise_scale = 0.25;
  double iid_noise_scale = 0.02;
  double shear_scale = 0.75;
  bool shuffle_seq = false;
  std::int64_t final_seq_length = 40;
  std::uint32_t seed = 42;

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
};

// Row-major arrays, as in the canonical .npy files.
struct Mnist1d {
  std::int64_t seq_len = 40;
  std::vector<double> x, x_test;         // [n_train, seq_len], [n_test, seq_len]
  std::vector<std::int64_t> y, y_test;   // labels 0..9
  std::vector<double> t;                 // [seq_len] sample positions
  std::vector<double> templates_x;       // [10, 12]
  std::vector<double> templates_t;       // [12]
  std::vector<std::int64_t> templates_y; // [10]

  std::int64_t num_train() const { return static_cast<std::int64_t>(y.size()); }
  std::int64_t num_test() const { return static_cast<std::int64_t>(y_test.size()); }
};

constexpr std::int64_t kMnist1dClasses = 10;

// The ten normalised digit templates (12 samples each) and their time axis.
const std::vector<double>& mnist1d_templates_x();
std::vector<double> mnist1d_templates_t();

Mnist1d generate_mnist1d(const Mnist1dArgs& args);

// Reads x/y/x_test/y_test(/t) .npy files from `dir`. Throws
// std::runtime_error with a one-line reason on a missing or bad file.
Mnist1d load_mnist1d(const std::string& dir);

// The canonical arrays: read from `dir` when given, else from
// $EVOPROMPT_MNIST1D_DIR, else made by the generator (seed 42). The generator
// reproduces them: labels, positions and templates byte for byte, the inputs
// bit for bit as float32 (what training reads; float64 within 9e-16).
Mnist1d load_canonical_mnist1d(const std::string& dir);

// Writes every array as <name>.npy into `dir` (created if missing).
void save_mnist1d(const Mnist1d& data, const std::string& dir);

// Holds out `num_val` of `num_examples` training rows, chosen by `seed`.
// Both index lists are sorted; the same seed always gives the same split.
struct HoldoutSplit {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> val;
};
HoldoutSplit holdout_split(std::int64_t num_examples, std::int64_t num_val, std::uint32_t seed);

}  // namespace evoprompt
