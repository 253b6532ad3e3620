#include "mnist1d.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "npy.hpp"
#include "numpy_random.hpp"

namespace evoprompt {
namespace {

constexpr std::int64_t kTemplateLen = 12;

// numpy.linspace(start, stop, num): start + i*step, last point forced to stop.
std::vector<double> linspace(double start, double stop, std::int64_t num) {
  std::vector<double> out(static_cast<std::size_t>(num));
  if (num == 1) {
    out[0] = start;
    return out;
  }
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (std::int64_t i = 0; i < num; ++i) out[i] = static_cast<double>(i) * step + start;
  out[num - 1] = stop;
  return out;
}

// scipy interp1d(kind='linear') over linspace(0,1,len(y)) evaluated at
// linspace(0,1,n), with np.interp's exact arithmetic.
std::vector<double> interpolate(const std::vector<double>& y, std::int64_t n) {
  const auto m = static_cast<std::int64_t>(y.size());
  const auto xs = linspace(0.0, 1.0, m);
  const auto qs = linspace(0.0, 1.0, n);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double q = qs[i];
    if (q >= xs[m - 1]) {
      out[i] = y[m - 1];
    } else if (q <= xs[0]) {
      out[i] = y[0];
    } else {
      const auto j = static_cast<std::int64_t>(std::upper_bound(xs.begin(), xs.end(), q) - xs.begin()) - 1;
      if (xs[j] == q) {
        out[i] = y[j];
      } else {
        const double slope = (y[j + 1] - y[j]) / (xs[j + 1] - xs[j]);
        out[i] = slope * (q - xs[j]) + y[j];
      }
    }
  }
  return out;
}

// scipy.ndimage.gaussian_filter1d(x, sigma, mode='reflect', truncate=4.0).
std::vector<double> gaussian_filter(const std::vector<double>& x, double sigma) {
  const auto radius = static_cast<std::int64_t>(4.0 * sigma + 0.5);
  std::vector<double> w(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0.0;
  for (std::int64_t k = -radius; k <= radius; ++k) {
    w[k + radius] = std::exp(-0.5 / (sigma * sigma) * static_cast<double>(k * k));
    sum += w[k + radius];
  }
  for (auto& v : w) v /= sum;

  const auto n = static_cast<std::int64_t>(x.size());
  auto reflect = [n](std::int64_t i) {  // half-sample symmetric: -1 -> 0, n -> n-1
    const std::int64_t period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
  };
  std::vector<double> out(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    double acc = w[radius] * x[i];
    for (std::int64_t k = 1; k <= radius; ++k) acc += w[radius + k] * (x[reflect(i + k)] + x[reflect(i - k)]);
    out[i] = acc;
  }
  return out;
}

// The reference `transform`: one sample from one template, drawing from rng
// in exactly the reference order.
std::vector<double> transform(const double* tmpl, const Mnist1dArgs& a, NumpyRandom& rng) {
  constexpr double eps = 1e-8;
  std::vector<double> x(tmpl, tmpl + kTemplateLen);
  for (auto& v : x) v += eps;

  const std::int64_t span = a.padding_max - a.padding_min + 1;
  const auto pad = a.padding_min + static_cast<std::int64_t>(rng.rand() * static_cast<double>(span));
  x.resize(x.size() + static_cast<std::size_t>(pad), 0.0);

  const std::int64_t work_len = a.template_len + a.padding_max;
  x = interpolate(x, work_len);

  const double scale = 1.0 + a.scale_coeff * (rng.rand() - 0.5);
  for (auto& v : x) v *= scale;

  const auto shift = rng.randint(a.max_translation);
  std::rotate(x.rbegin(), x.rbegin() + (shift % work_len), x.rend());  // np.roll(x, shift)

  std::vector<double> noise(x.size());
  for (auto& v : noise) v = a.corr_noise_scale * rng.randn();
  const auto corr = gaussian_filter(noise, 2.0);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i] == 0.0) x[i] = corr[i];

  for (auto& v : x) v += a.iid_noise_scale * rng.randn();

  const double shear = a.shear_scale * (rng.rand() - 0.5);
  const auto ramp = linspace(-0.5, 0.5, work_len);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] -= shear * ramp[i];

  return interpolate(x, a.final_seq_length);
}

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

void Mnist1dArgs::validate() const {
  require(num_samples >= kMnist1dClasses, "num_samples must be at least 10");
  require(train_split > 0.0 && train_split < 1.0, "train_split must be in (0, 1)");
  require(template_len >= 1, "template_len must be >= 1");
  require(padding_min >= 0 && padding_max >= padding_min, "padding must satisfy 0 <= min <= max");
  require(scale_coeff >= 0.0, "scale_coeff must be >= 0");
  require(max_translation >= 1, "max_translation must be >= 1");
  require(corr_noise_scale >= 0.0 && iid_noise_scale >= 0.0, "noise scales must be >= 0");
  require(shear_scale >= 0.0, "shear_scale must be >= 0");
  require(final_seq_length >= 2, "final_seq_length must be >= 2");
}

const std::vector<double>& mnist1d_templates_x() {
  // Normalised templates of the reference run, hard-coded to the last bit
  // (numpy's pairwise mean/std cannot be reproduced exactly by a naive loop).
  static const std::vector<double> values = {
      0, 0.23693955110363696, 0.35540932665545544, 0.41464421443136468, 0.47387910220727392, 0.47387910220727392,
      0.47387910220727392, 0.47387910220727392, 0.41464421443136468, 0.35540932665545544, 0.23693955110363696, 0,
      0, -0.36986336072765463, -0.36986336072765463, -0.2958906885821237, -0.22191801643659279, -0.14794534429106179,
      -0.073972672145530979, 0, 0.073972672145530979, 0.14794534429106179, 0, 0,
      0, 0.15936381457791915, 0.2390457218668787, 0.2390457218668787, 0.15936381457791915, 0.039840953644479787,
      -0.039840953644479787, -0.15936381457791915, -0.2390457218668787, -0.2390457218668787, -0.15936381457791915, 0,
      0, 0.26726124191242445, 0.40089186286863665, 0.40089186286863665, 0.26726124191242445, 0,
      0, 0.26726124191242445, 0.40089186286863665, 0.40089186286863665, 0.26726124191242445, 0,
      0, -0.10599978800063593, -0.21199957600127206, -0.31799936400190798, -0.42399915200254396, -0.42399915200254396,
      0, 0, 0, 0, 0, 0,
      0, -0.247712448889053, -0.247712448889053, -0.247712448889053, -0.247712448889053, 0,
      0.1238562244445265, 0.18578433666678976, 0.18578433666678976, 0.1238562244445265, -0.06192811222226325, 0,
      0, -0.23693955110363696, -0.35540932665545544, -0.41464421443136468, -0.47387910220727392, -0.47387910220727392,
      -0.47387910220727392, -0.47387910220727392, -0.41464421443136468, -0.35540932665545544, -0.23693955110363696, 0,
      0, 0.36986336072765463, 0.36986336072765463, 0.29589068858212358, 0.22191801643659279, 0.14794534429106179,
      0.073972672145530979, 0, -0.073972672145530979, -0.14794534429106179, 0, 0,
      0, -0.26726124191242445, -0.40089186286863665, -0.40089186286863665, -0.26726124191242445, 0,
      0, -0.26726124191242445, -0.40089186286863665, -0.40089186286863665, -0.26726124191242445, 0,
      0, -0.28583097523751472, -0.42874646285627205, -0.42874646285627205, -0.28583097523751472, 0,
      0, 0, 0, -0.085749292571254354, -0.20008168266626036, 0,
  };
  return values;
}

std::vector<double> mnist1d_templates_t() {
  auto t = linspace(-5.0, 5.0, kTemplateLen);
  for (auto& v : t) v /= 6.0;
  return t;
}

Mnist1d generate_mnist1d(const Mnist1dArgs& args) {
  args.validate();
  NumpyRandom rng(args.seed);
  const auto& templates = mnist1d_templates_x();
  const std::int64_t per_class = args.num_samples / kMnist1dClasses;
  const std::int64_t total = per_class * kMnist1dClasses;
  const std::int64_t len = args.final_seq_length;

  std::vector<double> xs;
  xs.reserve(static_cast<std::size_t>(total * len));
  std::vector<std::int64_t> ys;
  ys.reserve(static_cast<std::size_t>(total));
  for (std::int64_t label = 0; label < kMnist1dClasses; ++label) {
    for (std::int64_t i = 0; i < per_class; ++i) {
      const auto sample = transform(templates.data() + label * kTemplateLen, args, rng);
      xs.insert(xs.end(), sample.begin(), sample.end());
      ys.push_back(label);
    }
  }

  const auto order = rng.permutation(total);
  std::vector<std::int64_t> columns(static_cast<std::size_t>(len));
  for (std::int64_t j = 0; j < len; ++j) columns[j] = j;
  if (args.shuffle_seq) columns = rng.permutation(len);

  std::vector<double> shuffled(xs.size());
  std::vector<std::int64_t> labels(ys.size());
  for (std::int64_t r = 0; r < total; ++r) {
    labels[r] = ys[order[r]];
    for (std::int64_t j = 0; j < len; ++j) shuffled[r * len + j] = xs[order[r] * len + columns[j]];
  }

  // Standardise with the global mean and population std (long double sums
  // stay within 1e-16 of numpy's pairwise summation).
  long double sum = 0.0L;
  for (double v : shuffled) sum += v;
  const double mean = static_cast<double>(sum / static_cast<long double>(shuffled.size()));
  long double sq = 0.0L;
  for (double v : shuffled) sq += static_cast<long double>(v - mean) * (v - mean);
  const double stddev = std::sqrt(static_cast<double>(sq / static_cast<long double>(shuffled.size())));

  Mnist1d out;
  out.seq_len = len;
  const auto t_work = interpolate(mnist1d_templates_t(), args.template_len + args.padding_max);
  out.t = interpolate(t_work, len);
  for (auto& v : out.t) v /= stddev;

  const auto n_train = static_cast<std::int64_t>(static_cast<double>(total) * args.train_split);
  for (std::int64_t r = 0; r < total; ++r) {
    auto& xdst = r < n_train ? out.x : out.x_test;
    auto& ydst = r < n_train ? out.y : out.y_test;
    for (std::int64_t j = 0; j < len; ++j) xdst.push_back((shuffled[r * len + j] - mean) / stddev);
    ydst.push_back(labels[r]);
  }
  out.templates_x = mnist1d_templates_x();
  out.templates_t = mnist1d_templates_t();
  for (std::int64_t k = 0; k < kMnist1dClasses; ++k) out.templates_y.push_back(k);
  return out;
}

namespace {

std::vector<double> read_matrix(const std::string& path, std::int64_t& rows, std::int64_t& cols) {
  auto a = read_npy(path);
  if (a.shape.size() != 2 || !a.is_floating())
    throw std::runtime_error(path + ": expected a 2-D float array");
  rows = a.shape[0];
  cols = a.shape[1];
  return std::move(a.f64);
}

std::vector<std::int64_t> read_labels(const std::string& path, std::int64_t rows) {
  auto a = read_npy(path);
  if (a.shape.size() != 1 || a.is_floating())
    throw std::runtime_error(path + ": expected a 1-D integer array");
  if (a.shape[0] != rows)
    throw std::runtime_error(path + ": has " + std::to_string(a.shape[0]) + " labels for " +
                             std::to_string(rows) + " inputs");
  for (auto v : a.i64)
    if (v < 0 || v >= kMnist1dClasses) throw std::runtime_error(path + ": label out of range 0..9");
  return std::move(a.i64);
}

}  // namespace

Mnist1d load_mnist1d(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw std::runtime_error(dir + ": data folder not found");
  const fs::path root(dir);
  Mnist1d d;
  std::int64_t n = 0, n_test = 0, len = 0, len_test = 0;
  d.x = read_matrix((root / "x.npy").string(), n, len);
  d.y = read_labels((root / "y.npy").string(), n);
  d.x_test = read_matrix((root / "x_test.npy").string(), n_test, len_test);
  d.y_test = read_labels((root / "y_test.npy").string(), n_test);
  if (len != len_test) throw std::runtime_error(dir + ": x and x_test have different sequence lengths");
  d.seq_len = len;
  if (fs::exists(root / "t.npy")) d.t = read_npy((root / "t.npy").string()).f64;
  return d;
}

void save_mnist1d(const Mnist1d& d, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path root(dir);
  auto path = [&](const char* name) { return (root / name).string(); };
  write_npy(path("x.npy"), {d.num_train(), d.seq_len}, d.x);
  write_npy(path("y.npy"), {d.num_train()}, d.y);
  write_npy(path("x_test.npy"), {d.num_test(), d.seq_len}, d.x_test);
  write_npy(path("y_test.npy"), {d.num_test()}, d.y_test);
  write_npy(path("t.npy"), {d.seq_len}, d.t);
  write_npy(path("templates_x.npy"), {kMnist1dClasses, kTemplateLen}, d.templates_x);
  write_npy(path("templates_t.npy"), {kTemplateLen}, d.templates_t);
  write_npy(path("templates_y.npy"), {kMnist1dClasses}, d.templates_y);
}

HoldoutSplit holdout_split(std::int64_t num_examples, std::int64_t num_val, std::uint32_t seed) {
  if (num_val < 1 || num_val >= num_examples)
    throw std::invalid_argument("validation size must be in [1, " + std::to_string(num_examples - 1) + "]");
  NumpyRandom rng(seed);
  const auto perm = rng.permutation(num_examples);
  HoldoutSplit s;
  s.val.assign(perm.begin(), perm.begin() + num_val);
  s.train.assign(perm.begin() + num_val, perm.end());
  std::sort(s.val.begin(), s.val.end());
  std::sort(s.train.begin(), s.train.end());
  return s;
}

Mnist1d load_canonical_mnist1d(const std::string& dir) {
  if (!dir.empty()) return load_mnist1d(dir);
  if (const char* env = std::getenv("EVOPROMPT_MNIST1D_DIR"); env && *env) return load_mnist1d(env);
  return generate_mnist1d(Mnist1dArgs{});
}

}  // namespace evoprompt
