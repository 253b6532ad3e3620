// Tiny random Llama / Qwen2 model folders and a tiny byte-level tokenizer
// for the embedded-LM tests (shared by test_llama_lm.cpp and test_soft_prompt.cpp).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "safetensors.hpp"

namespace evoprompt_test {

namespace fs = std::filesystem;
using nlohmann::json;
using evoprompt::save_safetensors;

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("evoprompt_lm_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct TinySpec {
  std::string arch = "LlamaForCausalLM";
  torch::Dtype dtype = torch::kFloat32;
  bool tied = false;
  bool attention_bias = false;   // Llama only
  bool mlp_bias = false;         // Llama only
  json rope_scaling;             // null: none
  std::int64_t head_dim = 0;     // 0: hidden / heads, not written
  std::int64_t layers = 2, hidden = 32, heads = 4, kv_heads = 2, vocab = 64, ff = 48;
  std::uint64_t seed = 1;
};

inline json tiny_config(const TinySpec& s) {
  json c = {{"architectures", {s.arch}},
            {"model_type", s.arch == "Qwen2ForCausalLM" ? "qwen2" : "llama"},
            {"vocab_size", s.vocab},
            {"hidden_size", s.hidden},
            {"intermediate_size", s.ff},
            {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads},
            {"num_key_value_heads", s.kv_heads},
            {"max_position_embeddings", 128},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", s.tied},
            {"bos_token_id", 1},
            {"eos_token_id", 2}};
  if (s.arch == "LlamaForCausalLM") {
    c["attention_bias"] = s.attention_bias;
    c["mlp_bias"] = s.mlp_bias;
  }
  if (!s.rope_scaling.is_null()) c["rope_scaling"] = s.rope_scaling;
  if (s.head_dim > 0) c["head_dim"] = s.head_dim;
  return c;
}

// Writes config.json and model.safetensors of a random model.
inline void write_tiny_model(const fs::path& dir, const TinySpec& s) {
  torch::manual_seed(s.seed);
  const bool qwen2 = s.arch == "Qwen2ForCausalLM";
  const std::int64_t d = s.head_dim > 0 ? s.head_dim : s.hidden / s.heads;
  const std::int64_t qd = s.heads * d, kvd = s.kv_heads * d;
  std::vector<std::pair<std::string, torch::Tensor>> t;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, double scale, double offset = 0.0) {
    t.emplace_back(name, (torch::randn(shape) * scale + offset).to(s.dtype));
  };
  add("model.embed_tokens.weight", {s.vocab, s.hidden}, 0.5);
  add("model.norm.weight", {s.hidden}, 0.1, 1.0);
  if (!s.tied) add("lm_head.weight", {s.vocab, s.hidden}, 0.3);
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {s.hidden}, 0.1, 1.0);
    add(p + "post_attention_layernorm.weight", {s.hidden}, 0.1, 1.0);
    add(p + "self_attn.q_proj.weight", {qd, s.hidden}, 0.3);
    add(p + "self_attn.k_proj.weight", {kvd, s.hidden}, 0.3);
    add(p + "self_attn.v_proj.weight", {kvd, s.hidden}, 0.3);
    add(p + "self_attn.o_proj.weight", {s.hidden, qd}, 0.3);
    if (qwen2 || s.attention_bias) {
      add(p + "self_attn.q_proj.bias", {qd}, 0.2);
      add(p + "self_attn.k_proj.bias", {kvd}, 0.2);
      add(p + "self_attn.v_proj.bias", {kvd}, 0.2);
    }
    if (!qwen2 && s.attention_bias) add(p + "self_attn.o_proj.bias", {s.hidden}, 0.2);
    add(p + "mlp.gate_proj.weight", {s.ff, s.hidden}, 0.3);
    add(p + "mlp.up_proj.weight", {s.ff, s.hidden}, 0.3);
    add(p + "mlp.down_proj.weight", {s.hidden, s.ff}, 0.3);
    if (!qwen2 && s.mlp_bias) {
      add(p + "mlp.gate_proj.bias", {s.ff}, 0.2);
      add(p + "mlp.up_proj.bias", {s.ff}, 0.2);
      add(p + "mlp.down_proj.bias", {s.hidden}, 0.2);
    }
  }
  save_safetensors(dir / "model.safetensors", t, {{"format", "pt"}});
  std::ofstream(dir / "config.json") << tiny_config(s).dump(2);
}

// A byte-level BPE tokenizer.json: the 256 byte symbols (GPT-2's printable
// mapping) and merges for "ab" and "abc"; ids 256, 257; "<eos>" is 258.
inline json tiny_tokenizer_json() {
  std::vector<int> printable;
  for (int b = 33; b <= 126; ++b) printable.push_back(b);
  for (int b = 161; b <= 172; ++b) printable.push_back(b);
  for (int b = 174; b <= 255; ++b) printable.push_back(b);
  std::vector<int> cp(256, -1);
  for (int b : printable) cp[b] = b;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    if (cp[b] < 0) cp[b] = 256 + extra++;
  }
  auto utf8 = [](int c) {
    std::string s;
    if (c < 0x80) {
      s.push_back(static_cast<char>(c));
    } else {
      s.push_back(static_cast<char>(0xC0 | (c >> 6)));
      s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
    return s;
  };
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[utf8(cp[b])] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens",
           {{{"id", 258}, {"content", "<eos>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
             {"normalized", false}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor", byte_level},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
            {"ignore_merges", false}, {"vocab", vocab}, {"merges", {"a b", "ab c"}}}}};
}

}  // namespace evoprompt_test
