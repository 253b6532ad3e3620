// `local:DIR`: a LanguageModel over a Hugging Face model folder run in
// process (config.json, safetensors, tokenizer.json, generation_config.json).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "generate.hpp"
#include "language_model.hpp"
#include "llama_model.hpp"
#include "tokenizer.hpp"

namespace evoprompt::codegen::lm {

class LocalLanguageModel : public LanguageModel {
 public:
  // bf16 on CUDA when available, else f32 on CPU. Throws ModelLoadError.
  explicit LocalLanguageModel(const std::filesystem::path& dir);
  LocalLanguageModel(const std::filesystem::path& dir, torch::Device device, torch::Dtype dtype);

  std::string name() const override { return "local:" + dir_.string(); }
  // One prefill of the prompt, then the samples in one batch. Stops at the
  // request's stop strings and at the model's EOS tokens.
  std::vector<Completion> sample(const SampleRequest& request) override;

  LlamaModelImpl& model() { return *model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const std::vector<std::int32_t>& eos_ids() const { return eos_; }

 private:
  std::filesystem::path dir_;
  LlamaModel model_;
  Tokenizer tokenizer_;
  std::vector<std::int32_t> eos_;
};

}  // namespace evoprompt::codegen::lm
