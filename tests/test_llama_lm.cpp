// The embedded LM on tiny random model folders: safetensors reading, config
// refusals, KV-cache decoding against full forwards, logits against the plain
// PyTorch reference tests/llm_reference.py, and seeded sampling.
#include "torch_catch.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "generate.hpp"
#include "llama_config.hpp"
#include "llama_model.hpp"
#include "local_lm.hpp"
#include "safetensors.hpp"
#include "tokenizer.hpp"
#include "tiny_llm.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace evoprompt;
using namespace evoprompt::codegen::lm;
using namespace evoprompt_test;

namespace {

std::string load_error(const json& config) {
  try {
    parse_llama_config(config, "config.json");
  } catch (const ModelLoadError& e) {
    return e.what();
  }
  return "";
}

std::string dir_error(const fs::path& dir) {
  try {
    load_llama_model(dir, torch::kCPU, torch::kFloat32);
  } catch (const ModelLoadError& e) {
    return e.what();
  }
  return "";
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

bool reference_available() {
  return std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
}

// Logits [T, vocab] of tests/llm_reference.py.
torch::Tensor reference_logits(const fs::path& dir, const std::vector<std::int64_t>& ids, std::int64_t vocab) {
  std::string list;
  for (auto id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
  const fs::path out = dir / "reference.f32";
  const std::string cmd = std::string("/usr/bin/python3 ") + EVOPROMPT_LLM_REFERENCE + " '" + dir.string() + "' " +
                          list + " '" + out.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out, std::ios::binary);
  std::vector<float> buf(ids.size() * vocab);
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size() * sizeof(float)));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(buf.size() * sizeof(float)));
  return torch::from_blob(buf.data(), {static_cast<std::int64_t>(ids.size()), vocab}, torch::kFloat32).clone();
}

std::string letters(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (auto id : ids) s.push_back(static_cast<char>('a' + id % 26));
  return s;
}

}  // namespace

TEST_CASE("safetensors: tensors round-trip exactly, by mmap", "[llm]") {
  TempDir tmp;
  torch::manual_seed(0);
  std::vector<std::pair<std::string, torch::Tensor>> t = {
      {"a.f32", torch::randn({3, 5})},
      {"b.f16", torch::randn({7}).to(torch::kFloat16)},
      {"c.bf16", torch::randn({2, 3, 4}).to(torch::kBFloat16)},
      {"d.i64", torch::arange(10, torch::kInt64).reshape({2, 5})},
      {"e.scalar", torch::tensor(3.5f).reshape({})},
      {"f.empty", torch::zeros({0, 4})}};
  save_safetensors(tmp.path / "x.safetensors", t, {{"format", "pt"}});
  SafeTensors st = SafeTensors::open_file(tmp.path / "x.safetensors");
  CHECK(st.names().size() == t.size());
  CHECK(st.metadata().at("format") == "pt");
  for (const auto& [name, ref] : t) {
    INFO(name);
    torch::Tensor v = st.view(name);
    CHECK(v.scalar_type() == ref.scalar_type());
    CHECK(v.sizes() == ref.sizes());
    CHECK(torch::equal(v, ref));
    torch::Tensor g = st.get(name, ref.scalar_type());
    CHECK(torch::equal(g, ref));
  }
  CHECK(st.info("c.bf16").dtype == StDType::BF16);
  // Conversion to the target dtype.
  CHECK(torch::equal(st.get("c.bf16", torch::kFloat32), t[2].second.to(torch::kFloat32)));
  CHECK(torch::equal(st.get("b.f16", torch::kFloat32), t[1].second.to(torch::kFloat32)));
  // A view keeps the mapping alive after the reader is gone.
  torch::Tensor kept;
  {
    SafeTensors st2 = SafeTensors::open_file(tmp.path / "x.safetensors");
    kept = st2.view("a.f32");
  }
  CHECK(torch::equal(kept, t[0].second));
  CHECK_THROWS_WITH(st.view("nope"), Catch::Contains("missing tensor 'nope'"));
}

TEST_CASE("safetensors: sharded folders via model.safetensors.index.json", "[llm]") {
  TempDir tmp;
  torch::Tensor a = torch::randn({4, 4}), b = torch::randn({3}), c = torch::randn({2, 2}).to(torch::kBFloat16);
  save_safetensors(tmp.path / "model-00001-of-00002.safetensors", {{"a", a}, {"b", b}});
  save_safetensors(tmp.path / "model-00002-of-00002.safetensors", {{"c", c}});
  json index = {{"metadata", {{"total_size", 0}}},
                {"weight_map",
                 {{"a", "model-00001-of-00002.safetensors"},
                  {"b", "model-00001-of-00002.safetensors"},
                  {"c", "model-00002-of-00002.safetensors"}}}};
  std::ofstream(tmp.path / "model.safetensors.index.json") << index.dump();
  SafeTensors st = SafeTensors::open_dir(tmp.path);
  CHECK(torch::equal(st.get("a", torch::kFloat32), a));
  CHECK(torch::equal(st.get("b", torch::kFloat32), b));
  CHECK(torch::equal(st.view("c"), c));
  CHECK(st.info("c").shard != st.info("a").shard);

  index["weight_map"]["c"] = "model-00001-of-00002.safetensors";
  std::ofstream(tmp.path / "model.safetensors.index.json") << index.dump();
  CHECK_THROWS_WITH(SafeTensors::open_dir(tmp.path), Catch::Contains("weight_map.c"));
  fs::remove(tmp.path / "model.safetensors.index.json");
  CHECK_THROWS_WITH(SafeTensors::open_dir(tmp.path), Catch::Contains("model.safetensors.index.json"));
}

TEST_CASE("safetensors: malformed files are refused in one line naming the field", "[llm]") {
  TempDir tmp;
  auto write_raw = [&](const std::string& header, std::size_t data_bytes, std::uint64_t claimed = 0) {
    const fs::path p = tmp.path / "bad.safetensors";
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    std::uint64_t n = claimed != 0 ? claimed : header.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out << header << std::string(data_bytes, '\0');
    return p;
  };
  auto error = [&](const fs::path& p) -> std::string {
    try {
      SafeTensors::open_file(p);
    } catch (const ModelLoadError& e) {
      return e.what();
    }
    return "";
  };
  const std::string ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  CHECK(error(write_raw(ok, 8)).empty());
  CHECK_THAT(error(write_raw(ok, 8, 1u << 20)), Catch::Contains("header length"));
  CHECK_THAT(error(write_raw("{not json", 0)), Catch::Contains("header is not JSON"));
  CHECK_THAT(error(write_raw(R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2)),
             Catch::Contains("'w'.dtype") && Catch::Contains("F8_E4M3"));
  CHECK_THAT(error(write_raw(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("'w'.data_offsets"));
  CHECK_THAT(error(write_raw(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
             Catch::Contains("'w'.data_offsets") && Catch::Contains("outside"));
  CHECK_THAT(error(write_raw(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
             Catch::Contains("'w'.shape"));
  CHECK_THAT(error(write_raw(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             12)),
             Catch::Contains("overlaps"));
  CHECK_THAT(error(write_raw(R"({"w":{"dtype":"F32","shape":[2]}})", 8)), Catch::Contains("'w'.data_offsets"));
  for (const std::string& e : {error(write_raw(ok, 8, 1u << 20)), error(write_raw("{not json", 0))}) {
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("llama config: fields, defaults and refusals naming the field", "[llm]") {
  TinySpec s;
  LlamaConfig c = parse_llama_config(tiny_config(s));
  CHECK(c.architecture == "LlamaForCausalLM");
  CHECK(c.head_dim == 8);
  CHECK(c.num_key_value_heads == 2);
  CHECK(!c.qkv_bias);
  CHECK(c.eos_token_ids == std::vector<std::int64_t>{2});
  s.arch = "Qwen2ForCausalLM";
  c = parse_llama_config(tiny_config(s));
  CHECK(c.qkv_bias);
  CHECK(!c.o_bias);

  auto base = [] { return tiny_config(TinySpec{}); };
  json j = base();
  j["architectures"] = {"MistralForCausalLM"};
  CHECK_THAT(load_error(j), Catch::StartsWith("config.json: architectures:") && Catch::Contains("MistralForCausalLM"));
  j = base();
  j["hidden_act"] = "gelu";
  CHECK_THAT(load_error(j), Catch::Contains("hidden_act"));
  j = base();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  CHECK_THAT(load_error(j), Catch::Contains("rope_scaling.rope_type") && Catch::Contains("yarn"));
  j = base();
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  CHECK_THAT(load_error(j), Catch::Contains("rope_scaling.type") && Catch::Contains("dynamic"));
  j = base();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}};
  CHECK_THAT(load_error(j), Catch::Contains("rope_scaling.high_freq_factor"));
  j = base();
  j["num_key_value_heads"] = 3;
  CHECK_THAT(load_error(j), Catch::Contains("num_key_value_heads"));
  j = base();
  j.erase("hidden_size");
  CHECK_THAT(load_error(j), Catch::Contains("hidden_size: missing"));
  j = base();
  j["num_hidden_layers"] = "2";
  CHECK_THAT(load_error(j), Catch::Contains("num_hidden_layers: not an integer"));
  j = base();
  j["quantization_config"] = {{"quant_method", "gptq"}};
  CHECK_THAT(load_error(j), Catch::Contains("quantization_config"));
  j = tiny_config([] { TinySpec q; q.arch = "Qwen2ForCausalLM"; return q; }());
  j["use_sliding_window"] = true;
  CHECK_THAT(load_error(j), Catch::Contains("use_sliding_window"));
  j = base();
  j["model_type"] = "mistral";
  CHECK_THAT(load_error(j), Catch::Contains("model_type"));
}

TEST_CASE("llama model: missing tensors and wrong shapes are refused by name", "[llm]") {
  TempDir tmp;
  TinySpec s;
  write_tiny_model(tmp.path, s);
  CHECK(dir_error(tmp.path).empty());
  // Tied embeddings need no lm_head; untied ones do.
  json c = tiny_config(s);
  SafeTensors st = SafeTensors::open_dir(tmp.path);
  std::vector<std::pair<std::string, torch::Tensor>> all;
  for (const auto& n : st.names()) {
    if (n != "model.layers.1.mlp.up_proj.weight") all.emplace_back(n, st.get(n, torch::kFloat32));
  }
  TempDir tmp2;
  save_safetensors(tmp2.path / "model.safetensors", all);
  std::ofstream(tmp2.path / "config.json") << c.dump();
  CHECK_THAT(dir_error(tmp2.path), Catch::Contains("missing tensor 'model.layers.1.mlp.up_proj.weight'"));
  c["intermediate_size"] = 40;
  std::ofstream(tmp.path / "config.json") << c.dump();
  CHECK_THAT(dir_error(tmp.path), Catch::Contains("mlp.gate_proj.weight") && Catch::Contains("shape"));
}

TEST_CASE("llama model: KV-cache decoding gives the logits of a full forward", "[llm]") {
  for (const char* arch : {"LlamaForCausalLM", "Qwen2ForCausalLM"}) {
    DYNAMIC_SECTION(arch) {
      TempDir tmp;
      TinySpec s;
      s.arch = arch;
      s.tied = std::string(arch) == "Qwen2ForCausalLM";
      write_tiny_model(tmp.path, s);
      LlamaModel m = load_llama_model(tmp.path, torch::kCPU, torch::kFloat32);
      torch::NoGradGuard ng;
      torch::Tensor ids = torch::tensor(std::vector<std::int64_t>{1, 5, 9, 33, 2, 60, 17, 4, 40, 8}).unsqueeze(0);
      torch::Tensor full = m->forward(ids);
      REQUIRE(full.sizes() == torch::IntArrayRef({1, 10, 64}));

      // Prefill 6, then one token at a time (the cache starts too small and grows).
      KVCache cache = m->new_cache(1, 7);
      torch::Tensor pre = m->forward(ids.narrow(1, 0, 6), &cache);
      CHECK(max_diff(pre, full.narrow(1, 0, 6)) < 1e-5);
      for (int t = 6; t < 10; ++t) {
        torch::Tensor step = m->forward(ids.narrow(1, t, 1), &cache);
        CHECK(max_diff(step.select(1, 0), full.select(1, t)) < 1e-5);
      }
      CHECK(cache.length == 10);
      // Prefill 4, then a chunk of 6 (a causal mask with a past).
      KVCache c2 = m->new_cache(1, 16);
      m->forward(ids.narrow(1, 0, 4), &c2);
      CHECK(max_diff(m->forward(ids.narrow(1, 4, 6), &c2), full.narrow(1, 4, 6)) < 1e-5);
      // One prefill expanded to 3 rows decodes every row alike; select drops rows.
      KVCache c3 = m->new_cache(1, 16);
      m->forward(ids.narrow(1, 0, 8), &c3);
      c3.expand(3);
      torch::Tensor next = torch::tensor(std::vector<std::int64_t>{40, 3, 40}).unsqueeze(1);
      torch::Tensor rows = m->forward(next, &c3).select(1, 0);
      CHECK(max_diff(rows[0], full[0][8]) < 1e-5);
      CHECK(max_diff(rows[2], full[0][8]) < 1e-5);
      c3.select(torch::tensor(std::vector<std::int64_t>{2}));
      CHECK(max_diff(m->forward(ids.narrow(1, 9, 1), &c3).select(1, 0)[0], full[0][9]) < 1e-5);
    }
  }
}

TEST_CASE("llama model: logits match the PyTorch reference implementation", "[llm]") {
  INFO("the reference needs /usr/bin/python3 with torch and numpy (scripts/install-deps.sh installs them)");
  REQUIRE(reference_available());
  struct Variant {
    const char* name;
    TinySpec spec;
  };
  std::vector<Variant> variants;
  {
    TinySpec s;
    variants.push_back({"llama f32 untied", s});
  }
  {
    TinySpec s;
    s.arch = "Qwen2ForCausalLM";
    s.tied = true;
    s.seed = 2;
    variants.push_back({"qwen2 f32 tied qkv-bias", s});
  }
  {
    TinySpec s;
    s.arch = "Qwen2ForCausalLM";
    s.dtype = torch::kBFloat16;
    s.seed = 3;
    variants.push_back({"qwen2 bf16 untied", s});
  }
  {
    TinySpec s;
    s.dtype = torch::kBFloat16;
    s.tied = true;
    s.attention_bias = true;
    s.mlp_bias = true;
    s.seed = 4;
    s.rope_scaling = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                      {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
    variants.push_back({"llama bf16 tied biases llama3-rope", s});
  }
  {
    TinySpec s;
    s.dtype = torch::kFloat16;
    s.head_dim = 16;
    s.kv_heads = 1;
    s.seed = 5;
    s.rope_scaling = {{"type", "linear"}, {"factor", 2.0}};
    variants.push_back({"llama f16 head_dim=16 MQA linear-rope", s});
  }
  const std::vector<std::int64_t> ids = {1, 7, 63, 12, 12, 30, 5, 0, 44, 21, 9, 50};
  for (const auto& v : variants) {
    DYNAMIC_SECTION(v.name) {
      TempDir tmp;
      write_tiny_model(tmp.path, v.spec);
      LlamaModel m = load_llama_model(tmp.path, torch::kCPU, torch::kFloat32);
      torch::NoGradGuard ng;
      torch::Tensor ours = m->forward(torch::tensor(ids).unsqueeze(0))[0];
      torch::Tensor ref = reference_logits(tmp.path, ids, v.spec.vocab);
      CHECK(ref.abs().max().item<double>() > 0.1);
      CHECK(max_diff(ours, ref) < 1e-4);
    }
  }
}

TEST_CASE("generate: greedy, seeded sampling, top-p and stops", "[llm]") {
  TempDir tmp;
  TinySpec s;
  write_tiny_model(tmp.path, s);
  LlamaModel m = load_llama_model(tmp.path, torch::kCPU, torch::kFloat32);
  const std::vector<std::int32_t> prompt = {1, 5, 9, 33, 2};

  // Greedy by hand: argmax of full forwards.
  std::vector<std::int32_t> greedy;
  {
    torch::NoGradGuard ng;
    std::vector<std::int64_t> seq(prompt.begin(), prompt.end());
    for (int i = 0; i < 12; ++i) {
      torch::Tensor l = m->forward(torch::tensor(seq).unsqueeze(0))[0][-1];
      const auto tok = l.argmax().item<std::int64_t>();
      greedy.push_back(static_cast<std::int32_t>(tok));
      seq.push_back(tok);
    }
  }
  GenerateOptions o;
  o.temperatures = {0.0, 1.0, 0.0, 1.5};
  o.max_new_tokens = 12;
  o.seed = 7;
  auto a = generate(*m, prompt, o, letters);
  REQUIRE(a.size() == 4);
  CHECK(a[0].tokens == greedy);
  CHECK(a[2].tokens == greedy);
  CHECK(a[0].finish_reason == "length");
  CHECK(a[0].text == letters(greedy));
  CHECK(a[1].tokens.size() == 12);
  CHECK(a[1].tokens != greedy);

  // Same seed, same samples; each sample its own stream, whatever the batch.
  auto b = generate(*m, prompt, o, letters);
  for (int i = 0; i < 4; ++i) CHECK(a[i].tokens == b[i].tokens);
  GenerateOptions one = o;
  one.temperatures = {0.0, 1.0};
  auto c = generate(*m, prompt, one, letters);
  CHECK(c[1].tokens == a[1].tokens);
  GenerateOptions other = o;
  other.seed = 8;
  auto d = generate(*m, prompt, other, letters);
  CHECK((d[1].tokens != a[1].tokens || d[3].tokens != a[3].tokens));

  // A vanishing top-p leaves only the top token: greedy at any temperature.
  GenerateOptions tp = o;
  tp.top_p = 1e-9;
  for (const auto& g : generate(*m, prompt, tp, letters)) CHECK(g.tokens == greedy);

  // Stop strings cut the text before the earliest match; stop ids end a sample.
  const std::string full = letters(greedy);
  const std::string stop = full.substr(4, 2);
  GenerateOptions st = o;
  st.temperatures = {0.0};
  st.stop = {"@@", stop};
  auto e = generate(*m, prompt, st, letters);
  CHECK(e[0].finish_reason == "stop");
  CHECK(e[0].text == full.substr(0, full.find(stop)));
  CHECK(e[0].tokens.size() == full.find(stop) + 2);
  GenerateOptions ids = o;
  ids.temperatures = {0.0};
  ids.stop_token_ids = {greedy[3]};
  auto f = generate(*m, prompt, ids, letters);
  const auto first = std::find(greedy.begin(), greedy.end(), greedy[3]) - greedy.begin();
  CHECK(f[0].finish_reason == "stop");
  CHECK(f[0].tokens == std::vector<std::int32_t>(greedy.begin(), greedy.begin() + first));
}

TEST_CASE("sample_tokens: temperature 0 is argmax; uniforms pick by cumulative mass", "[llm]") {
  torch::Tensor logits = torch::log(torch::tensor({{0.1f, 0.6f, 0.3f}, {0.5f, 0.25f, 0.25f}}));
  auto t = sample_tokens(logits, {0.0, 0.0}, 1.0, {0.99, 0.99});
  CHECK(t[0].item<std::int64_t>() == 1);
  CHECK(t[1].item<std::int64_t>() == 0);
  // Sorted row 0: 1 (0.6), 2 (0.3), 0 (0.1).
  CHECK(sample_tokens(logits, {1.0, 1.0}, 1.0, {0.5, 0.1})[0].item<std::int64_t>() == 1);
  CHECK(sample_tokens(logits, {1.0, 1.0}, 1.0, {0.7, 0.1})[0].item<std::int64_t>() == 2);
  CHECK(sample_tokens(logits, {1.0, 1.0}, 1.0, {0.95, 0.1})[0].item<std::int64_t>() == 0);
  // top_p 0.8 keeps 1 and 2 (mass 0.9), renormalized.
  CHECK(sample_tokens(logits, {1.0, 1.0}, 0.8, {0.95, 0.1})[0].item<std::int64_t>() == 2);
  CHECK(sample_tokens(logits, {1.0, 1.0}, 0.8, {0.6, 0.1})[0].item<std::int64_t>() == 1);
}

TEST_CASE("local LM: a model folder with its tokenizer samples completions", "[llm]") {
  TempDir tmp;
  TinySpec s;
  s.vocab = 259;
  s.arch = "Qwen2ForCausalLM";
  write_tiny_model(tmp.path, s);
  std::ofstream(tmp.path / "tokenizer.json") << tiny_tokenizer_json().dump();
  std::ofstream(tmp.path / "generation_config.json") << json{{"eos_token_id", {2, 258}}}.dump();
  LocalLanguageModel lm(tmp.path, torch::kCPU, torch::kFloat32);
  CHECK(lm.name() == "local:" + tmp.path.string());
  CHECK(lm.eos_ids() == std::vector<std::int32_t>{2, 258});
  const std::string prompt = "abc ab struct Model {";
  const auto ids = lm.tokenizer().encode(prompt, true);
  CHECK(ids.front() == 257);

  // Greedy by hand, stopping at EOS.
  std::vector<std::int32_t> greedy;
  {
    torch::NoGradGuard ng;
    std::vector<std::int64_t> seq(ids.begin(), ids.end());
    for (int i = 0; i < 16; ++i) {
      const auto tok = static_cast<std::int32_t>(lm.model().forward(torch::tensor(seq).unsqueeze(0))[0][-1].argmax()
                                                     .item<std::int64_t>());
      if (tok == 2 || tok == 258) break;
      greedy.push_back(tok);
      seq.push_back(tok);
    }
  }
  evoprompt::codegen::SampleRequest req;
  req.prompt = prompt;
  req.temperatures = {0.0, 0.8, 0.0};
  req.max_tokens = 16;
  req.seed = 3;
  auto out = lm.sample(req);
  REQUIRE(out.size() == 3);
  CHECK(out[0].error.empty());
  CHECK(out[0].prompt_tokens == static_cast<std::int64_t>(ids.size()));
  CHECK(out[0].completion_tokens == static_cast<std::int64_t>(greedy.size()));
  CHECK(out[0].text == lm.tokenizer().decode(greedy, true));
  CHECK(out[2].text == out[0].text);
  CHECK(out[0].finish_reason == (greedy.size() == 16 ? "length" : "stop"));
  // The run-wide sample index picks the stream: sample 1 of a call starting at
  // 0 is sample 0 of a call starting at 1.
  evoprompt::codegen::SampleRequest shifted = req;
  shifted.temperatures = {0.8};
  shifted.first_sample = 1;
  CHECK(lm.sample(shifted)[0].text == out[1].text);
  // A stop string cuts the text.
  if (out[0].text.size() >= 3) {
    evoprompt::codegen::SampleRequest stop = req;
    stop.temperatures = {0.0};
    stop.stop = {out[0].text.substr(1, 2)};
    auto cut = lm.sample(stop);
    CHECK(cut[0].finish_reason == "stop");
    CHECK(cut[0].text == out[0].text.substr(0, out[0].text.find(stop.stop[0])));
  }
}

TEST_CASE("llama model: a sharded folder loads like a single file", "[llm]") {
  TempDir one, sharded;
  TinySpec s;
  s.dtype = torch::kBFloat16;
  write_tiny_model(one.path, s);
  SafeTensors st = SafeTensors::open_dir(one.path);
  std::vector<std::pair<std::string, torch::Tensor>> first, second;
  json weight_map = json::object();
  for (const auto& n : st.names()) {
    const bool a = n.find("layers.1.") == std::string::npos;
    (a ? first : second).emplace_back(n, st.get(n, torch::kBFloat16));
    weight_map[n] = a ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  save_safetensors(sharded.path / "model-00001-of-00002.safetensors", first);
  save_safetensors(sharded.path / "model-00002-of-00002.safetensors", second);
  std::ofstream(sharded.path / "model.safetensors.index.json") << json{{"weight_map", weight_map}}.dump();
  std::ofstream(sharded.path / "config.json") << tiny_config(s).dump();
  torch::NoGradGuard ng;
  torch::Tensor ids = torch::tensor(std::vector<std::int64_t>{3, 1, 4, 1, 5, 9}).unsqueeze(0);
  LlamaModel a = load_llama_model(one.path, torch::kCPU, torch::kFloat32);
  LlamaModel b = load_llama_model(sharded.path, torch::kCPU, torch::kFloat32);
  CHECK(torch::equal(a->forward(ids), b->forward(ids)));
  // bf16 compute on CPU runs too (the CUDA default), close to f32.
  LlamaModel h = load_llama_model(one.path, torch::kCPU, torch::kBFloat16);
  CHECK(max_diff(h->forward(ids), a->forward(ids)) < 0.25);
}
