// Decode throughput of the embedded LM (codegen/lm) on CPU, f32, libtorch
// using every core: a random model shaped like Qwen2.5-Coder-0.5B (layers
// overridable), one prefill of a short prompt, its KV cache repeated into
// `batch` rows, then the rows decoded together (greedy) through
// codegen::lm::generate. Prints one JSON line. The model is written as a
// Hugging Face folder (config.json + model.safetensors) and loaded back, so
// that bench/python_decode.py can load the very same weights (--write DIR).
//
//   evoprompt_bench_decode [--layers N] [--batch B] [--prompt P] [--new T] [--reps R]
//                          [--threads N] [--seed S] [--write DIR | --model DIR] [--write-only]
//                          [--device cpu|cuda] [--dtype f32|bf16]
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "generate.hpp"
#include "llama_model.hpp"
#include "safetensors.hpp"

namespace fs = std::filesystem;
namespace lm = evoprompt::codegen::lm;

namespace {

struct Shape {
  std::int64_t hidden = 896, intermediate = 4864, layers = 24, heads = 14, kv_heads = 2, vocab = 151936;
  std::int64_t max_pos = 32768;
  double rope_theta = 1e6, eps = 1e-6;
};

nlohmann::json config_json(const Shape& s) {
  return {{"architectures", {"Qwen2ForCausalLM"}},
          {"model_type", "qwen2"},
          {"hidden_size", s.hidden},
          {"intermediate_size", s.intermediate},
          {"num_hidden_layers", s.layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", s.max_pos},
          {"rope_theta", s.rope_theta},
          {"rms_norm_eps", s.eps},
          {"tie_word_embeddings", true},
          {"hidden_act", "silu"},
          {"torch_dtype", "float32"},
          {"use_sliding_window", false},
          {"bos_token_id", 151643},
          {"eos_token_id", 151643}};
}

// Random weights (normal, std 0.02; norms 1), written as config.json + model.safetensors.
void write_model(const fs::path& dir, const Shape& s, std::uint64_t seed) {
  fs::create_directories(dir);
  torch::manual_seed(seed);
  const std::int64_t h = s.hidden, d = s.hidden / s.heads, kvd = s.kv_heads * d, ff = s.intermediate;
  std::vector<std::pair<std::string, torch::Tensor>> t;
  auto rnd = [](std::vector<std::int64_t> shape) { return torch::randn(shape) * 0.02; };
  t.emplace_back("model.embed_tokens.weight", rnd({s.vocab, h}));
  t.emplace_back("model.norm.weight", torch::ones({h}));
  for (std::int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.emplace_back(p + "input_layernorm.weight", torch::ones({h}));
    t.emplace_back(p + "post_attention_layernorm.weight", torch::ones({h}));
    t.emplace_back(p + "self_attn.q_proj.weight", rnd({h, h}));
    t.emplace_back(p + "self_attn.q_proj.bias", rnd({h}));
    t.emplace_back(p + "self_attn.k_proj.weight", rnd({kvd, h}));
    t.emplace_back(p + "self_attn.k_proj.bias", rnd({kvd}));
    t.emplace_back(p + "self_attn.v_proj.weight", rnd({kvd, h}));
    t.emplace_back(p + "self_attn.v_proj.bias", rnd({kvd}));
    t.emplace_back(p + "self_attn.o_proj.weight", rnd({h, h}));
    t.emplace_back(p + "mlp.gate_proj.weight", rnd({ff, h}));
    t.emplace_back(p + "mlp.up_proj.weight", rnd({ff, h}));
    t.emplace_back(p + "mlp.down_proj.weight", rnd({h, ff}));
  }
  evoprompt::save_safetensors(dir / "model.safetensors", t, {{"format", "pt"}});
  std::ofstream(dir / "config.json") << config_json(s).dump(2) << "\n";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  Shape shape;
  std::int64_t batch = 16, prompt_len = 64, new_tokens = 32, reps = 3;
  std::int64_t threads = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  std::uint64_t seed = 1234;
  std::string write_dir, model_dir;
  bool write_only = false;
  std::string device_name = "cpu", dtype_name = "f32";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--layers") shape.layers = std::stoll(next());
      else if (a == "--batch") batch = std::stoll(next());
      else if (a == "--prompt") prompt_len = std::stoll(next());
      else if (a == "--new") new_tokens = std::stoll(next());
      else if (a == "--reps") reps = std::stoll(next());
      else if (a == "--threads") threads = std::stoll(next());
      else if (a == "--seed") seed = std::stoull(next());
      else if (a == "--write") write_dir = next();
      else if (a == "--model") model_dir = next();
      else if (a == "--write-only") write_only = true;
      else if (a == "--device") device_name = next();
      else if (a == "--dtype") dtype_name = next();
      else throw std::invalid_argument("unknown argument " + a);
    }
    if (shape.layers < 1 || batch < 1 || prompt_len < 1 || new_tokens < 1 || reps < 1 || threads < 1) {
      throw std::invalid_argument("--layers, --batch, --prompt, --new, --reps and --threads must be positive");
    }
    if (!write_dir.empty() && !model_dir.empty()) throw std::invalid_argument("--write and --model exclude each other");
    if (write_only && write_dir.empty()) throw std::invalid_argument("--write-only needs --write DIR");
    if (device_name != "cpu" && device_name != "cuda") throw std::invalid_argument("--device: cpu or cuda");
    if (dtype_name != "f32" && dtype_name != "bf16") throw std::invalid_argument("--dtype: f32 or bf16");
    const torch::Device device = device_name == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    const torch::Dtype dtype = dtype_name == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    const auto sync = [&] {
      if (device.is_cuda()) torch::cuda::synchronize();
    };

    torch::set_num_threads(static_cast<int>(threads));
    fs::path dir;
    bool remove_dir = false;
    auto t_write = std::chrono::steady_clock::now();
    if (!model_dir.empty()) {
      dir = model_dir;
    } else {
      if (!write_dir.empty()) {
        dir = write_dir;
      } else {
        dir = fs::temp_directory_path() / ("evoprompt_bench_decode." + std::to_string(::getpid()));
        remove_dir = true;
      }
      write_model(dir, shape, seed);
      if (write_only) {
        std::cerr << "evoprompt_bench_decode: wrote " << dir << " in " << seconds_since(t_write) << " s\n";
        return 0;
      }
    }
    const double write_s = model_dir.empty() ? seconds_since(t_write) : 0.0;

    const auto t_load = std::chrono::steady_clock::now();
    lm::LlamaModel model = lm::load_llama_model(dir, device, dtype);
    const double load_s = seconds_since(t_load);
    if (remove_dir) fs::remove_all(dir);
    const lm::LlamaConfig& c = model->config();

    // The prompt: a fixed arithmetic sequence of ids (bench/python_decode.py uses the same).
    std::vector<std::int32_t> prompt;
    for (std::int64_t i = 0; i < prompt_len; ++i) prompt.push_back(static_cast<std::int32_t>((1000 + 37 * i) % c.vocab_size));

    lm::GenerateOptions opts;
    opts.temperatures.assign(batch, 0.0);  // greedy: no stop tokens, every row decodes new_tokens
    opts.max_new_tokens = new_tokens;

    torch::NoGradGuard no_grad;
    {  // warm-up: allocator and thread pool
      lm::GenerateOptions w = opts;
      w.max_new_tokens = 2;
      lm::generate(*model, prompt, w);
    }
    std::vector<double> gen_s, prefill_s;
    std::vector<std::int32_t> tokens0;
    for (std::int64_t r = 0; r < reps; ++r) {
      // The prefill alone (batch 1), to report it apart.
      auto t0 = std::chrono::steady_clock::now();
      {
        lm::KVCache cache = model->new_cache(1, prompt_len);
        torch::Tensor ids = torch::tensor(std::vector<std::int64_t>(prompt.begin(), prompt.end())).unsqueeze(0);
        model->forward(ids, &cache);
        sync();
      }
      prefill_s.push_back(seconds_since(t0));
      // The whole request: prefill, cache expanded to `batch` rows, batched decode.
      t0 = std::chrono::steady_clock::now();
      const auto samples = lm::generate(*model, prompt, opts);
      gen_s.push_back(seconds_since(t0));
      for (const auto& s : samples) {
        if (static_cast<std::int64_t>(s.tokens.size()) != new_tokens) throw std::runtime_error("a sample stopped early");
      }
      tokens0 = samples.front().tokens;
    }
    const double gen = median(gen_s), pre = median(prefill_s);
    const double tokens = static_cast<double>(batch * new_tokens);
    nlohmann::json out = {
        {"impl", "cpp"},
        {"tokens_per_s", tokens / gen},
        {"decode_only_tokens_per_s", tokens / std::max(1e-9, gen - pre)},
        {"generate_s", gen},
        {"prefill_s", pre},
        {"generate_s_reps", gen_s},
        {"batch", batch},
        {"prompt_tokens", prompt_len},
        {"new_tokens", new_tokens},
        {"threads", torch::get_num_threads()},
        {"dtype", dtype_name == "bf16" ? "bfloat16" : "float32"},
        {"device", device.str()},
        {"write_s", write_s},
        {"load_s", load_s},
        {"shape",
         {{"hidden", c.hidden_size},
          {"intermediate", c.intermediate_size},
          {"layers", c.num_hidden_layers},
          {"heads", c.num_attention_heads},
          {"kv_heads", c.num_key_value_heads},
          {"vocab", c.vocab_size}}},
        {"tokens0", tokens0}};
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "evoprompt_bench_decode: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
