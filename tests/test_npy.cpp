#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "canonical_mnist1d.hpp"
#include "npy.hpp"

using namespace evoprompt;
namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) {
  const auto dir = fs::temp_directory_path() / "evoprompt_test_npy";
  fs::create_directories(dir);
  return (dir / name).string();
}

// Writes a hand-made .npy file (version 1.0) with the given header and payload.
std::string write_raw(const std::string& name, const std::string& header, const std::string& payload) {
  std::string h = header;
  while ((10 + h.size() + 1) % 64 != 0) h.push_back(' ');
  h.push_back('\n');
  const auto path = temp_path(name);
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(h.size() & 0xff), static_cast<char>(h.size() >> 8)};
  out.write(len, 2);
  out << h << payload;
  return path;
}

std::string message_of(const std::string& path) {
  try {
    read_npy(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("read_npy reads the canonical float64 and int64 arrays", "[npy]") {
  const std::string dir = testing::canonical_mnist1d_dir();
  const auto x = read_npy(dir + "/x.npy");
  CHECK(x.dtype == NpyDtype::float64);
  CHECK(x.shape == std::vector<std::int64_t>{4000, 40});
  REQUIRE(x.f64.size() == 160000);
  CHECK(x.f64[0] == Approx(-0.3320056673693902).margin(1e-15));
  CHECK(x.f64[4] == Approx(-0.8823525654053074).margin(1e-15));
  const auto y = read_npy(dir + "/y.npy");
  CHECK(y.dtype == NpyDtype::int64);
  CHECK(y.shape == std::vector<std::int64_t>{4000});
  CHECK(std::vector<std::int64_t>(y.i64.begin(), y.i64.begin() + 10) ==
        std::vector<std::int64_t>{2, 6, 4, 5, 6, 6, 6, 0, 3, 1});
}

TEST_CASE("write_npy round-trips float64 and int64 of any rank", "[npy]") {
  const auto p = temp_path("roundtrip_f8.npy");
  write_npy(p, {2, 3}, std::vector<double>{1.5, -2, 3, 4, 5e-300, 6});
  auto a = read_npy(p);
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});
  CHECK(a.f64 == std::vector<double>{1.5, -2, 3, 4, 5e-300, 6});

  const auto q = temp_path("roundtrip_i8.npy");
  write_npy(q, {3}, std::vector<std::int64_t>{-1, 0, 1LL << 40});
  auto b = read_npy(q);
  CHECK(b.dtype == NpyDtype::int64);
  CHECK(b.i64 == std::vector<std::int64_t>{-1, 0, 1LL << 40});

  const auto s = temp_path("scalar.npy");
  write_npy(s, {}, std::vector<double>{7.25});
  CHECK(read_npy(s).shape.empty());
  CHECK(read_npy(s).f64 == std::vector<double>{7.25});
  CHECK_FALSE(fs::exists(s + ".tmp"));
}

TEST_CASE("read_npy widens float32 and int32", "[npy]") {
  const float f[3] = {0.5f, -1.25f, 3.0f};
  const auto p = write_raw("f4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                           std::string(reinterpret_cast<const char*>(f), sizeof f));
  const auto a = read_npy(p);
  CHECK(a.dtype == NpyDtype::float32);
  CHECK(a.f64 == std::vector<double>{0.5, -1.25, 3.0});
  const std::int32_t i[2] = {-7, 9};
  const auto q = write_raw("i4.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }",
                           std::string(reinterpret_cast<const char*>(i), sizeof i));
  CHECK(read_npy(q).i64 == std::vector<std::int64_t>{-7, 9});
}

TEST_CASE("read_npy rejects bad files with a reason that names the file", "[npy]") {
  const auto fortran = write_raw("fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }",
                                 std::string(8, '\0'));
  CHECK_THAT(message_of(fortran), Catch::Contains("fortran.npy") && Catch::Contains("Fortran-order"));
  const auto dtype = write_raw("u2.npy", "{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }",
                               std::string(2, '\0'));
  CHECK_THAT(message_of(dtype), Catch::Contains("unsupported dtype '<u2'"));
  const auto truncated = write_raw("short.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                                   std::string(8, '\0'));
  CHECK_THAT(message_of(truncated), Catch::Contains("truncated data"));
  const auto bad = temp_path("bad_magic.npy");
  std::ofstream(bad) << "PK\x03\x04 not numpy";
  CHECK_THAT(message_of(bad), Catch::Contains("bad magic"));
  CHECK_THAT(message_of(temp_path("does_not_exist.npy")), Catch::Contains("cannot open"));
}
