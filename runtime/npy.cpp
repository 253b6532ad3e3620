#include "npy.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace evoprompt {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error(path + ": " + why);
}

NpyDtype parse_dtype(const std::string& path, const std::string& descr) {
  if (descr == "<f8") return NpyDtype::float64;
  if (descr == "<f4") return NpyDtype::float32;
  if (descr == "<i8") return NpyDtype::int64;
  if (descr == "<i4") return NpyDtype::int32;
  fail(path, "unsupported dtype '" + descr + "' (supported: <f8 <f4 <i8 <i4)");
}

std::vector<std::int64_t> parse_shape(const std::string& path, const std::string& text) {
  std::vector<std::int64_t> shape;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;  // trailing comma of "(5,)"
    try {
      std::size_t used = 0;
      const long long v = std::stoll(item.substr(first), &used);
      if (v < 0) fail(path, "negative dimension in shape");
      shape.push_back(v);
    } catch (const std::logic_error&) {
      fail(path, "malformed shape '(" + text + ")'");
    }
  }
  return shape;
}

std::size_t element_size(NpyDtype d) {
  return (d == NpyDtype::float32 || d == NpyDtype::int32) ? 4 : 8;
}

template <typename T>
void write_impl(const std::string& path, const char* descr,
                const std::vector<std::int64_t>& shape, const std::vector<T>& data) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  if (n != static_cast<std::int64_t>(data.size()))
    fail(path, "shape does not match the number of values");

  std::string dims;
  for (auto d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() == 1) dims.pop_back();           // "(5,)"
  else if (!shape.empty()) dims.resize(dims.size() - 2);  // "(4, 40)"
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so that magic + lengths + header is a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot open for writing");
    out.write(kMagic, 6);
    const char version[2] = {1, 0};
    out.write(version, 2);
    const std::uint16_t hlen = static_cast<std::uint16_t>(header.size());
    const char len_bytes[2] = {static_cast<char>(hlen & 0xff), static_cast<char>(hlen >> 8)};
    out.write(len_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size() * sizeof(T)));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      fail(path, "write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename temporary file into place");
  }
}

}  // namespace

std::int64_t NpyArray::size() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open (missing file?)");

  char magic[6];
  unsigned char version[2];
  in.read(magic, 6);
  in.read(reinterpret_cast<char*>(version), 2);
  if (!in || std::memcmp(magic, kMagic, 6) != 0) fail(path, "not a .npy file (bad magic)");

  std::size_t header_len = 0;
  if (version[0] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::size_t>(b[3]) << 24);
  } else {
    fail(path, "unsupported .npy format version " + std::to_string(version[0]));
  }
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (!in) fail(path, "truncated header");

  static const std::regex descr_re(R"('descr'\s*:\s*'([^']*)')");
  static const std::regex order_re(R"('fortran_order'\s*:\s*(True|False))");
  static const std::regex shape_re(R"('shape'\s*:\s*\(([^)]*)\))");
  std::smatch m;
  if (!std::regex_search(header, m, descr_re)) fail(path, "header has no 'descr'");
  NpyArray arr;
  arr.dtype = parse_dtype(path, m[1]);
  if (!std::regex_search(header, m, order_re)) fail(path, "header has no 'fortran_order'");
  if (m[1] == "True") fail(path, "Fortran-order arrays are not supported (save with C order)");
  if (!std::regex_search(header, m, shape_re)) fail(path, "header has no 'shape'");
  arr.shape = parse_shape(path, m[1]);

  const std::int64_t n = arr.size();
  std::vector<char> raw(static_cast<std::size_t>(n) * element_size(arr.dtype));
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  if (in.gcount() != static_cast<std::streamsize>(raw.size()))
    fail(path, "truncated data: expected " + std::to_string(n) + " values");

  auto load = [&](auto tag, auto& out) {
    using T = decltype(tag);
    out.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
      out[i] = static_cast<typename std::decay_t<decltype(out)>::value_type>(v);
    }
  };
  switch (arr.dtype) {
    case NpyDtype::float64: load(double{}, arr.f64); break;
    case NpyDtype::float32: load(float{}, arr.f64); break;
    case NpyDtype::int64: load(std::int64_t{}, arr.i64); break;
    case NpyDtype::int32: load(std::int32_t{}, arr.i64); break;
  }
  return arr;
}

void write_npy(const std::string& path, const std::vector<std::int64_t>& shape,
               const std::vector<double>& data) {
  write_impl(path, "<f8", shape, data);
}

void write_npy(const std::string& path, const std::vector<std::int64_t>& shape,
               const std::vector<std::int64_t>& data) {
  write_impl(path, "<i8", shape, data);
}

}  // namespace evoprompt
