#include "llama_config.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

namespace evoprompt::codegen::lm {

using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  std::string where;

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw ModelLoadError(where + ": " + field + ": " + why);
  }
  bool has(const std::string& f) const { return j.contains(f) && !j[f].is_null(); }
  std::int64_t integer(const std::string& f, std::int64_t def, bool required, std::int64_t min = 1) const {
    if (!has(f)) {
      if (required) fail(f, "missing");
      return def;
    }
    const json& v = j[f];
    if (!v.is_number_integer()) fail(f, "not an integer");
    const std::int64_t x = v.get<std::int64_t>();
    if (x < min) fail(f, "must be at least " + std::to_string(min) + ", got " + std::to_string(x));
    return x;
  }
  double number(const std::string& f, double def) const {
    if (!has(f)) return def;
    if (!j[f].is_number()) fail(f, "not a number");
    return j[f].get<double>();
  }
  bool boolean(const std::string& f, bool def) const {
    if (!has(f)) return def;
    if (!j[f].is_boolean()) fail(f, "not a boolean");
    return j[f].get<bool>();
  }
  std::string string(const std::string& f, const std::string& def) const {
    if (!has(f)) return def;
    if (!j[f].is_string()) fail(f, "not a string");
    return j[f].get<std::string>();
  }
};

}  // namespace

LlamaConfig parse_llama_config(const json& j, const std::string& where) {
  if (!j.is_object()) throw ModelLoadError(where + ": not a JSON object");
  Reader r{j, where};
  LlamaConfig c;

  if (!r.has("architectures")) r.fail("architectures", "missing");
  if (!j["architectures"].is_array() || j["architectures"].size() != 1 || !j["architectures"][0].is_string()) {
    r.fail("architectures", "must be a list of one name");
  }
  c.architecture = j["architectures"][0].get<std::string>();
  const bool qwen2 = c.architecture == "Qwen2ForCausalLM";
  if (c.architecture != "LlamaForCausalLM" && !qwen2) {
    r.fail("architectures", "unsupported '" + c.architecture + "' (supported: LlamaForCausalLM, Qwen2ForCausalLM)");
  }
  const std::string model_type = r.string("model_type", qwen2 ? "qwen2" : "llama");
  if (model_type != (qwen2 ? "qwen2" : "llama")) {
    r.fail("model_type", "'" + model_type + "' does not match architectures " + c.architecture);
  }

  c.vocab_size = r.integer("vocab_size", 0, true);
  c.hidden_size = r.integer("hidden_size", 0, true);
  c.intermediate_size = r.integer("intermediate_size", 0, true);
  c.num_hidden_layers = r.integer("num_hidden_layers", 0, true);
  c.num_attention_heads = r.integer("num_attention_heads", 0, true);
  c.num_key_value_heads = r.integer("num_key_value_heads", c.num_attention_heads, false);
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    r.fail("num_key_value_heads", std::to_string(c.num_key_value_heads) + " does not divide num_attention_heads " +
                                      std::to_string(c.num_attention_heads));
  }
  if (r.has("head_dim")) {
    c.head_dim = r.integer("head_dim", 0, true);
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      r.fail("hidden_size", "not divisible by num_attention_heads (and no head_dim)");
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) r.fail("head_dim", "must be even for RoPE");
  c.max_position_embeddings = r.integer("max_position_embeddings", 2048, false);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  if (!(c.rms_norm_eps > 0)) r.fail("rms_norm_eps", "must be positive");
  c.rope_theta = r.number("rope_theta", 10000.0);
  if (!(c.rope_theta > 0)) r.fail("rope_theta", "must be positive");
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.torch_dtype = r.string("torch_dtype", "");

  const std::string act = r.string("hidden_act", "silu");
  if (act != "silu") r.fail("hidden_act", "unsupported '" + act + "' (supported: silu)");
  if (r.has("quantization_config")) r.fail("quantization_config", "quantized checkpoints are not supported");
  if (r.integer("pretraining_tp", 1, false) < 1) r.fail("pretraining_tp", "must be at least 1");
  if (r.number("attention_dropout", 0.0) != 0.0) r.fail("attention_dropout", "must be 0 (inference)");

  if (qwen2) {
    c.qkv_bias = true;
    if (r.boolean("use_sliding_window", false)) r.fail("use_sliding_window", "sliding-window attention is not supported");
    if (r.has("attention_bias") && !r.boolean("attention_bias", true)) {
      r.fail("attention_bias", "Qwen2 always has q/k/v biases");
    }
  } else {
    c.qkv_bias = c.o_bias = r.boolean("attention_bias", false);
    c.mlp_bias = r.boolean("mlp_bias", false);
  }

  if (r.has("rope_scaling")) {
    const json& s = j["rope_scaling"];
    if (!s.is_object()) r.fail("rope_scaling", "not an object");
    Reader rs{s, where + ": rope_scaling"};
    std::string type;
    if (rs.has("rope_type")) type = rs.string("rope_type", "");
    else if (rs.has("type")) type = rs.string("type", "");
    else r.fail("rope_scaling.rope_type", "missing");
    const std::string field = rs.has("rope_type") ? "rope_scaling.rope_type" : "rope_scaling.type";
    if (type == "default") {
      c.rope_scaling.kind = RopeScaling::Kind::none;
    } else if (type == "linear" || type == "llama3") {
      c.rope_scaling.factor = rs.number("factor", 0.0);
      if (!rs.has("factor") || !(c.rope_scaling.factor >= 1.0)) r.fail("rope_scaling.factor", "missing or below 1");
      if (type == "linear") {
        c.rope_scaling.kind = RopeScaling::Kind::linear;
      } else {
        c.rope_scaling.kind = RopeScaling::Kind::llama3;
        if (!rs.has("low_freq_factor")) r.fail("rope_scaling.low_freq_factor", "missing");
        if (!rs.has("high_freq_factor")) r.fail("rope_scaling.high_freq_factor", "missing");
        if (!rs.has("original_max_position_embeddings")) r.fail("rope_scaling.original_max_position_embeddings", "missing");
        c.rope_scaling.low_freq_factor = rs.number("low_freq_factor", 1.0);
        c.rope_scaling.high_freq_factor = rs.number("high_freq_factor", 4.0);
        c.rope_scaling.original_max_position_embeddings = rs.integer("original_max_position_embeddings", 8192, true);
        if (!(c.rope_scaling.high_freq_factor > c.rope_scaling.low_freq_factor)) {
          r.fail("rope_scaling.high_freq_factor", "must exceed low_freq_factor");
        }
      }
    } else {
      r.fail(field, "unsupported '" + type + "' (supported: default, linear, llama3)");
    }
  }

  if (r.has("bos_token_id")) c.bos_token_id = r.integer("bos_token_id", -1, false, 0);
  if (r.has("eos_token_id")) {
    const json& e = j["eos_token_id"];
    if (e.is_number_integer()) {
      c.eos_token_ids.push_back(e.get<std::int64_t>());
    } else if (e.is_array()) {
      for (const json& x : e) {
        if (!x.is_number_integer()) r.fail("eos_token_id", "not an integer or a list of integers");
        c.eos_token_ids.push_back(x.get<std::int64_t>());
      }
    } else {
      r.fail("eos_token_id", "not an integer or a list of integers");
    }
  }
  return c;
}

LlamaConfig load_llama_config(const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  std::ifstream in(path);
  if (!in) throw ModelLoadError(path.string() + ": cannot open");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw ModelLoadError(path.string() + ": not JSON: " + std::string(e.what()));
  }
  return parse_llama_config(j, path.string());
}

}  // namespace evoprompt::codegen::lm
