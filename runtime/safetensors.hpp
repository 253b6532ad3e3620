// Reading Hugging Face safetensors files by memory-mapping them: one file, or
// the shards named by model.safetensors.index.json. Tensors come back as torch
// tensors converted to the dtype and device asked for; the mappings stay
// alive as long as the reader or any zero-copy view of it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace evoprompt {

// Every load failure: one line naming the file and the field or tensor.
struct ModelLoadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class StDType { F32, F16, BF16, I64, F64 };

// "F32", "F16", "BF16", "I64", "F64".
const char* dtype_name(StDType dtype);
std::size_t dtype_size(StDType dtype);
torch::Dtype to_torch(StDType dtype);

// A read-only private mapping of a whole file (RAII).
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

struct TensorInfo {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;   // byte offsets from the start of the file
  std::uint64_t end = 0;
  std::size_t shard = 0;     // index into the reader's files
};

class SafeTensors {
 public:
  // One .safetensors file.
  static SafeTensors open_file(const std::filesystem::path& path);
  // A model folder: model.safetensors, or model.safetensors.index.json and its shards.
  static SafeTensors open_dir(const std::filesystem::path& dir);

  bool contains(const std::string& name) const { return infos_.count(name) != 0; }
  std::vector<std::string> names() const;
  const TensorInfo& info(const std::string& name) const;   // throws ModelLoadError
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // A tensor that owns its memory, converted to `dtype` on `device`.
  torch::Tensor get(const std::string& name, torch::Dtype dtype,
                    torch::Device device = torch::kCPU) const;
  // The tensor in its stored dtype, on CPU, without copying when the data is
  // aligned: it aliases the read-only mapping (never write to it) and keeps it alive.
  torch::Tensor view(const std::string& name) const;

 private:
  void add_file(const std::filesystem::path& path, const std::string* only_expected);
  std::vector<std::shared_ptr<MappedFile>> files_;
  std::map<std::string, TensorInfo> infos_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (contiguous copies, CPU; F32, F16, BF16, I64 or F64) as one
// safetensors file, header padded to 8 bytes: LM states, checkpoints, tests.
void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// A module's parameters and buffers by their dotted names, copied (training
// goes on changing them); integer and boolean buffers as I64.
std::vector<std::pair<std::string, torch::Tensor>> module_weights(const torch::nn::Module& module);

// Where a trainer writes child `name`'s best weights under `dir`: "" when
// `dir` is empty (no checkpoint), else DIR/NAME.safetensors.
std::string checkpoint_path(const std::string& dir, const std::string& name);

}  // namespace evoprompt
