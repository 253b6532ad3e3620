// config.json of a Hugging Face LlamaForCausalLM or Qwen2ForCausalLM folder.
// Anything the decoder does not implement is refused with a one-line
// ModelLoadError naming the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "safetensors.hpp"

namespace evoprompt::codegen::lm {

struct RopeScaling {
  enum class Kind { none, linear, llama3 };
  Kind kind = Kind::none;
  double factor = 1.0;
  // llama3 only.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 8192;
};

struct LlamaConfig {
  std::string architecture;   // "LlamaForCausalLM" or "Qwen2ForCausalLM"
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;   // q_proj, k_proj, v_proj have biases (Qwen2: always)
  bool o_bias = false;     // o_proj has a bias (Llama's attention_bias)
  bool mlp_bias = false;   // gate/up/down have biases (Llama's mlp_bias)
  std::string torch_dtype; // as written, may be empty
  std::int64_t bos_token_id = -1;
  std::vector<std::int64_t> eos_token_ids;
};

// `where` prefixes error messages (usually the config.json path).
LlamaConfig parse_llama_config(const nlohmann::json& j, const std::string& where = "config.json");
LlamaConfig load_llama_config(const std::filesystem::path& dir);

}  // namespace evoprompt::codegen::lm
