#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "mnist1d.hpp"
#include "npy.hpp"

using namespace evoprompt;

namespace {

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

const Mnist1d& generated_default() {
  static const Mnist1d data = generate_mnist1d(Mnist1dArgs{});
  return data;
}

}  // namespace

TEST_CASE("the native generator reproduces the canonical MNIST-1D arrays", "[mnist1d]") {
  const auto canonical = load_mnist1d(EVOPROMPT_MNIST1D_DIR);
  const auto& gen = generated_default();
  CHECK(gen.y == canonical.y);
  CHECK(gen.y_test == canonical.y_test);
  CHECK(max_abs_diff(gen.x, canonical.x) < 1e-9);
  CHECK(max_abs_diff(gen.x_test, canonical.x_test) < 1e-9);
  CHECK(max_abs_diff(gen.t, canonical.t) < 1e-9);
  const std::string dir = EVOPROMPT_MNIST1D_DIR;
  CHECK(gen.templates_x == read_npy(dir + "/templates_x.npy").f64);
  CHECK(gen.templates_t == read_npy(dir + "/templates_t.npy").f64);
}

TEST_CASE("generated MNIST-1D has the reference golden values", "[mnist1d]") {
  const auto& gen = generated_default();
  CHECK(gen.num_train() == 4000);
  CHECK(gen.num_test() == 1000);
  CHECK(std::vector<std::int64_t>(gen.y_test.begin(), gen.y_test.begin() + 8) ==
        std::vector<std::int64_t>{2, 6, 3, 9, 4, 3, 1, 9});
  CHECK(gen.x_test[999 * 40] == Approx(-0.5193287078205188).margin(1e-12));
  CHECK(gen.t[0] == Approx(-5.38753506670427).margin(1e-12));
  std::vector<std::int64_t> counts(10, 0);
  for (auto v : gen.y) ++counts[v];
  CHECK(counts == std::vector<std::int64_t>{398, 396, 411, 394, 394, 402, 401, 404, 402, 398});
  const double sum = std::accumulate(gen.x.begin(), gen.x.end(), 0.0);
  CHECK(sum == Approx(-51.787467875095615).margin(1e-9));
}

TEST_CASE("generator variants follow their arguments", "[mnist1d]") {
  Mnist1dArgs args;
  args.num_samples = 200;
  args.final_seq_length = 24;
  args.train_split = 0.75;
  args.shuffle_seq = true;
  args.seed = 3;
  const auto a = generate_mnist1d(args);
  CHECK(a.num_train() == 150);
  CHECK(a.num_test() == 50);
  CHECK(a.seq_len == 24);
  CHECK(a.x.size() == 150u * 24u);
  // The whole set is standardised: mean 0 and std 1 over train and test.
  std::vector<double> all(a.x);
  all.insert(all.end(), a.x_test.begin(), a.x_test.end());
  const double mean = std::accumulate(all.begin(), all.end(), 0.0) / static_cast<double>(all.size());
  double var = 0.0;
  for (double v : all) var += (v - mean) * (v - mean);
  CHECK(mean == Approx(0.0).margin(1e-12));
  CHECK(std::sqrt(var / static_cast<double>(all.size())) == Approx(1.0).epsilon(1e-12));
  const auto again = generate_mnist1d(args);
  CHECK(again.x == a.x);
  args.seed = 4;
  CHECK(generate_mnist1d(args).y != a.y);
}

TEST_CASE("generator arguments are validated", "[mnist1d]") {
  Mnist1dArgs args;
  args.num_samples = 5;
  CHECK_THROWS_AS(generate_mnist1d(args), std::invalid_argument);
  args = Mnist1dArgs{};
  args.padding_min = 61;
  CHECK_THROWS_WITH(generate_mnist1d(args), Catch::Contains("padding"));
  args = Mnist1dArgs{};
  args.train_split = 1.0;
  CHECK_THROWS_WITH(generate_mnist1d(args), Catch::Contains("train_split"));
}

TEST_CASE("save_mnist1d writes a folder that load_mnist1d reads back", "[mnist1d]") {
  Mnist1dArgs args;
  args.num_samples = 100;
  const auto data = generate_mnist1d(args);
  const auto dir = (std::filesystem::temp_directory_path() / "evoprompt_test_mnist1d").string();
  std::filesystem::remove_all(dir);
  save_mnist1d(data, dir);
  const auto back = load_mnist1d(dir);
  CHECK(back.x == data.x);
  CHECK(back.y == data.y);
  CHECK(back.x_test == data.x_test);
  CHECK(back.t == data.t);
  CHECK(std::filesystem::exists(dir + "/templates_y.npy"));
  CHECK_THROWS_WITH(load_mnist1d(dir + "/missing"), Catch::Contains("data folder not found"));
  std::filesystem::remove(dir + "/y_test.npy");
  CHECK_THROWS_WITH(load_mnist1d(dir), Catch::Contains("y_test.npy"));
}

TEST_CASE("the validation split is a seeded, disjoint 500 of 4000", "[mnist1d][split]") {
  const auto a = holdout_split(4000, 500, 42);
  CHECK(a.val.size() == 500);
  CHECK(a.train.size() == 3500);
  CHECK(std::is_sorted(a.val.begin(), a.val.end()));
  std::vector<std::int64_t> all(a.train);
  all.insert(all.end(), a.val.begin(), a.val.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(4000);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(all == expected);
  // numpy: RandomState(42).permutation(4000)[:5] == [555, 3491, 527, 3925, 2989]
  for (std::int64_t row : {555, 3491, 527, 3925, 2989})
    CHECK(std::binary_search(a.val.begin(), a.val.end(), row));

  const auto b = holdout_split(4000, 500, 42);
  CHECK(b.val == a.val);
  CHECK(b.train == a.train);
  CHECK(holdout_split(4000, 500, 43).val != a.val);
  CHECK_THROWS_AS(holdout_split(4000, 4000, 1), std::invalid_argument);
  CHECK_THROWS_AS(holdout_split(4000, 0, 1), std::invalid_argument);
}
