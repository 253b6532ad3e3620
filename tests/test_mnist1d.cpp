#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <numeric>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/SHA256.h>

#include "canonical_mnist1d.hpp"
#include "mnist1d.hpp"
#include "npy.hpp"

using namespace evoprompt;

namespace {

// The digests of tests/data/mnist1d.sha256: "FILE" or "FILE:float32" -> hex.
std::map<std::string, std::string> canonical_digests() {
  const std::string path = std::string(EVOPROMPT_TEST_DATA_DIR) + "/mnist1d.sha256";
  std::ifstream in(path);
  REQUIRE(in);
  std::map<std::string, std::string> digests;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string hex, name;
    fields >> hex >> name;
    digests[name] = hex;
  }
  return digests;
}

std::string sha256_hex(llvm::ArrayRef<std::uint8_t> bytes) { return llvm::toHex(llvm::SHA256::hash(bytes), true); }

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return sha256_hex(llvm::arrayRefFromStringRef(bytes));
}

std::string float32_sha256(const std::vector<double>& values) {
  std::vector<float> f(values.begin(), values.end());  // little-endian on every supported host
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(f.data()), f.size() * sizeof(float)});
}

const Mnist1d& generated_default() { return testing::canonical_mnist1d(); }

}  // namespace

TEST_CASE("the native generator reproduces the canonical MNIST-1D arrays", "[mnist1d]") {
  const auto digests = canonical_digests();
  REQUIRE(digests.size() == 8);
  // Labels, positions and templates: the written .npy files, byte for byte.
  const std::string dir = testing::canonical_mnist1d_dir();
  for (const char* file : {"y.npy", "y_test.npy", "t.npy", "templates_x.npy", "templates_t.npy", "templates_y.npy"}) {
    INFO(file);
    CHECK(file_sha256(dir + "/" + file) == digests.at(file));
  }
  // The inputs: bit for bit what training reads (float32). In float64 they
  // differ from numpy's in the last bits (at most 8.9e-16).
  const auto& gen = generated_default();
  CHECK(float32_sha256(gen.x) == digests.at("x.npy:float32"));
  CHECK(float32_sha256(gen.x_test) == digests.at("x_test.npy:float32"));
  // A one-ulp change of one input is seen.
  auto nudged = gen.x;
  nudged[1234] = static_cast<double>(std::nextafter(static_cast<float>(nudged[1234]), 10.0f));
  CHECK(float32_sha256(nudged) != digests.at("x.npy:float32"));
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
