#include "safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

namespace evoprompt {

namespace fs = std::filesystem;
using nlohmann::json;

const char* dtype_name(StDType dtype) {
  switch (dtype) {
    case StDType::F32: return "F32";
    case StDType::F16: return "F16";
    case StDType::BF16: return "BF16";
    case StDType::I64: return "I64";
    case StDType::F64: return "F64";
  }
  return "?";
}

std::size_t dtype_size(StDType dtype) {
  switch (dtype) {
    case StDType::F32: return 4;
    case StDType::F16: return 2;
    case StDType::BF16: return 2;
    case StDType::I64: return 8;
    case StDType::F64: return 8;
  }
  return 0;
}

torch::Dtype to_torch(StDType dtype) {
  switch (dtype) {
    case StDType::F32: return torch::kFloat32;
    case StDType::F16: return torch::kFloat16;
    case StDType::BF16: return torch::kBFloat16;
    case StDType::I64: return torch::kInt64;
    case StDType::F64: return torch::kFloat64;
  }
  return torch::kFloat32;
}

MappedFile::MappedFile(const fs::path& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw ModelLoadError(path.string() + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw ModelLoadError(path.string() + ": cannot stat: " + std::strerror(e));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw ModelLoadError(path.string() + ": cannot mmap: " + std::strerror(e));
    }
    data_ = static_cast<const std::uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

namespace {

StDType parse_dtype(const std::string& s, const std::string& where) {
  if (s == "F32") return StDType::F32;
  if (s == "F16") return StDType::F16;
  if (s == "BF16") return StDType::BF16;
  if (s == "I64") return StDType::I64;
  if (s == "F64") return StDType::F64;
  throw ModelLoadError(where + ".dtype: unsupported dtype '" + s +
                       "' (supported: F32, F16, BF16, I64)");
}

}  // namespace

void SafeTensors::add_file(const fs::path& path, const std::string* only_expected) {
  (void)only_expected;
  auto file = std::make_shared<MappedFile>(path);
  const std::string fname = path.string();
  if (file->size() < 8) throw ModelLoadError(fname + ": not a safetensors file (shorter than 8 bytes)");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file->data()[i];
  if (header_len > file->size() - 8) {
    throw ModelLoadError(fname + ": header length " + std::to_string(header_len) +
                         " exceeds the file size " + std::to_string(file->size()));
  }
  const std::uint64_t data_start = 8 + header_len;
  const std::uint64_t data_size = file->size() - data_start;
  json header;
  try {
    header = json::parse(file->data() + 8, file->data() + data_start);
  } catch (const json::exception& e) {
    throw ModelLoadError(fname + ": header is not JSON: " + e.what());
  }
  if (!header.is_object()) throw ModelLoadError(fname + ": header is not a JSON object");

  const std::size_t shard = files_.size();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  std::vector<std::string> range_names;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) throw ModelLoadError(fname + ": __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw ModelLoadError(fname + ": __metadata__." + m.key() + " is not a string");
        metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const std::string where = fname + ": tensor '" + name + "'";
    const json& t = *it;
    if (!t.is_object()) throw ModelLoadError(where + " is not an object");
    if (!t.contains("dtype") || !t["dtype"].is_string()) throw ModelLoadError(where + ".dtype: missing or not a string");
    if (!t.contains("shape") || !t["shape"].is_array()) throw ModelLoadError(where + ".shape: missing or not an array");
    if (!t.contains("data_offsets") || !t["data_offsets"].is_array() || t["data_offsets"].size() != 2) {
      throw ModelLoadError(where + ".data_offsets: missing or not a pair");
    }
    TensorInfo info;
    info.name = name;
    info.dtype = parse_dtype(t["dtype"].get<std::string>(), where);
    std::uint64_t numel = 1;
    for (const json& d : t["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<std::int64_t>() >= 0)) {
        throw ModelLoadError(where + ".shape: not a list of non-negative integers");
      }
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v != 0 && numel > std::numeric_limits<std::uint64_t>::max() / v) {
        throw ModelLoadError(where + ".shape: too many elements");
      }
      numel *= v;
      info.shape.push_back(static_cast<std::int64_t>(v));
    }
    for (const json& o : t["data_offsets"]) {
      if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<std::int64_t>() >= 0)) {
        throw ModelLoadError(where + ".data_offsets: not non-negative integers");
      }
    }
    const std::uint64_t b = t["data_offsets"][0].get<std::uint64_t>();
    const std::uint64_t e = t["data_offsets"][1].get<std::uint64_t>();
    if (e < b || e > data_size) {
      throw ModelLoadError(where + ".data_offsets: [" + std::to_string(b) + ", " + std::to_string(e) +
                           ") lies outside the data (" + std::to_string(data_size) + " bytes)");
    }
    if (numel > std::numeric_limits<std::uint64_t>::max() / dtype_size(info.dtype) ||
        e - b != numel * dtype_size(info.dtype)) {
      throw ModelLoadError(where + ".data_offsets: " + std::to_string(e - b) + " bytes for shape and dtype " +
                           dtype_name(info.dtype) + " needing " +
                           std::to_string(numel * dtype_size(info.dtype)));
    }
    info.begin = data_start + b;
    info.end = data_start + e;
    info.shard = shard;
    if (infos_.count(name) != 0) throw ModelLoadError(where + ": appears in more than one file");
    ranges.emplace_back(b, e);
    range_names.push_back(name);
    infos_.emplace(name, std::move(info));
  }
  // No two tensors may share bytes.
  std::vector<std::size_t> order(ranges.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ranges[a] < ranges[b]; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const auto& prev = ranges[order[i - 1]];
    const auto& cur = ranges[order[i]];
    if (cur.first < prev.second) {
      throw ModelLoadError(fname + ": tensor '" + range_names[order[i]] + "'.data_offsets: overlaps tensor '" +
                           range_names[order[i - 1]] + "'");
    }
  }
  files_.push_back(std::move(file));
}

SafeTensors SafeTensors::open_file(const fs::path& path) {
  SafeTensors st;
  st.add_file(path, nullptr);
  return st;
}

SafeTensors SafeTensors::open_dir(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) return open_file(single);
  if (!fs::exists(index)) {
    throw ModelLoadError(dir.string() + ": neither model.safetensors nor model.safetensors.index.json");
  }
  json j;
  {
    std::ifstream in(index);
    if (!in) throw ModelLoadError(index.string() + ": cannot open");
    try {
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw ModelLoadError(index.string() + ": not JSON: " + e.what());
    }
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
    throw ModelLoadError(index.string() + ": weight_map: missing or not an object");
  }
  std::map<std::string, std::vector<std::string>> by_shard;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it->is_string()) throw ModelLoadError(index.string() + ": weight_map." + it.key() + ": not a string");
    const std::string shard = it->get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      throw ModelLoadError(index.string() + ": weight_map." + it.key() + ": bad shard name '" + shard + "'");
    }
    by_shard[shard].push_back(it.key());
  }
  SafeTensors st;
  for (const auto& [shard, names] : by_shard) {
    st.add_file(dir / shard, nullptr);
    for (const std::string& n : names) {
      auto found = st.infos_.find(n);
      if (found == st.infos_.end() || st.files_[found->second.shard]->path() != dir / shard) {
        throw ModelLoadError(index.string() + ": weight_map." + n + ": not in " + shard);
      }
    }
  }
  return st;
}

std::vector<std::string> SafeTensors::names() const {
  std::vector<std::string> out;
  out.reserve(infos_.size());
  for (const auto& [name, info] : infos_) out.push_back(name);
  return out;
}

const TensorInfo& SafeTensors::info(const std::string& name) const {
  auto it = infos_.find(name);
  if (it == infos_.end()) {
    std::string where = files_.empty() ? std::string("safetensors") : files_.front()->path().parent_path().string();
    throw ModelLoadError(where + ": missing tensor '" + name + "'");
  }
  return it->second;
}

torch::Tensor SafeTensors::view(const std::string& name) const {
  const TensorInfo& info = this->info(name);
  const auto& file = files_[info.shard];
  const std::uint8_t* ptr = file->data() + info.begin;
  const auto options = torch::TensorOptions().dtype(to_torch(info.dtype));
  const std::size_t bytes = info.end - info.begin;
  if (reinterpret_cast<std::uintptr_t>(ptr) % dtype_size(info.dtype) != 0 || bytes == 0) {
    torch::Tensor t = torch::empty(info.shape, options);
    if (bytes != 0) std::memcpy(t.data_ptr(), ptr, bytes);
    return t;
  }
  std::shared_ptr<MappedFile> keep = file;
  return torch::from_blob(const_cast<std::uint8_t*>(ptr), info.shape,
                          [keep](void*) mutable { keep.reset(); }, options);
}

torch::Tensor SafeTensors::get(const std::string& name, torch::Dtype dtype, torch::Device device) const {
  torch::Tensor v = view(name);
  torch::Tensor out = v.to(device, dtype);
  // .to() is a no-op when nothing changes: never hand out the mapping itself.
  if (out.data_ptr() == v.data_ptr()) out = out.clone();
  return out;
}

std::vector<std::pair<std::string, torch::Tensor>> module_weights(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  auto keep = [&](const std::string& name, const torch::Tensor& t) {
    torch::Tensor copy = t.detach().clone();
    if (!copy.is_floating_point()) copy = copy.to(torch::kInt64);
    out.emplace_back(name, std::move(copy));
  };
  for (const auto& p : module.named_parameters(/*recurse=*/true)) keep(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) keep(b.key(), b.value());
  return out;
}

std::string checkpoint_path(const std::string& dir, const std::string& name) {
  return dir.empty() ? std::string() : dir + "/" + name + ".safetensors";
}

void save_safetensors(const fs::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, t0] : tensors) {
    torch::Tensor t = t0.detach().to(torch::kCPU).contiguous();
    std::string dt;
    switch (t.scalar_type()) {
      case torch::kFloat32: dt = "F32"; break;
      case torch::kFloat16: dt = "F16"; break;
      case torch::kBFloat16: dt = "BF16"; break;
      case torch::kInt64: dt = "I64"; break;
      case torch::kFloat64: dt = "F64"; break;
      default: throw std::invalid_argument("save_safetensors: unsupported dtype for '" + name + "'");
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dt}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(t);
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
    std::uint64_t n = h.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const torch::Tensor& t : data) {
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
    if (!out) throw std::runtime_error(tmp.string() + ": write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace evoprompt
