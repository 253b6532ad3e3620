#include "llama_model.hpp"

#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace evoprompt::codegen::lm {

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
#define EVOPROMPT_HAS_SDPA 1
#else
#define EVOPROMPT_HAS_SDPA 0
#endif

bool has_fused_attention() { return EVOPROMPT_HAS_SDPA != 0; }

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask) {
#if EVOPROMPT_HAS_SDPA
  c10::optional<at::Tensor> m;
  if (mask.defined()) m = mask.to(q.scalar_type());
  return at::scaled_dot_product_attention(q, k, v, m, 0.0, false);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (mask.defined()) scores = scores + mask.to(scores.scalar_type());
  torch::Tensor probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
  return torch::matmul(probs, v);
#endif
}

void KVCache::expand(std::int64_t n) {
  if (batch() != 1) throw std::logic_error("KVCache::expand: the cache must have one row");
  for (auto* list : {&k, &v}) {
    for (torch::Tensor& t : *list) t = t.expand({n, t.size(1), t.size(2), t.size(3)}).contiguous();
  }
}

void KVCache::select(const torch::Tensor& rows) {
  for (auto* list : {&k, &v}) {
    for (torch::Tensor& t : *list) t = t.index_select(0, rows.to(t.device(), torch::kLong));
  }
}

torch::Tensor rope_inv_freq(const LlamaConfig& c) {
  const std::int64_t d = c.head_dim;
  // As Hugging Face computes it: float32 exponent, then 1 / theta^e.
  torch::Tensor e = torch::arange(0, d, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(d);
  torch::Tensor inv = 1.0 / torch::pow(torch::tensor(c.rope_theta, torch::kFloat32), e);
  const RopeScaling& s = c.rope_scaling;
  if (s.kind == RopeScaling::Kind::linear) {
    inv = inv / s.factor;
  } else if (s.kind == RopeScaling::Kind::llama3) {
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor;
    const double high_wavelen = old_len / s.high_freq_factor;
    torch::Tensor wavelen = 2 * M_PI / inv;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv / s.factor, inv);
    torch::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    torch::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv = torch::where(medium, smoothed, scaled);
  }
  return inv;
}

namespace {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  torch::Tensor h = x.to(torch::kFloat32);
  torch::Tensor var = h.pow(2).mean(-1, true);
  h = h * torch::rsqrt(var + eps);
  return w * h.to(x.scalar_type());
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  const std::int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

torch::Tensor affine(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return b.defined() ? torch::linear(x, w, b) : torch::linear(x, w);
}

}  // namespace

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& config, const SafeTensors& st, torch::Device device,
                               torch::Dtype dtype)
    : config_(config), device_(device), dtype_(dtype) {
  const auto& c = config_;
  auto load = [&](const std::string& name, std::vector<std::int64_t> shape) {
    const TensorInfo& info = st.info(name);
    if (info.dtype == StDType::I64) throw ModelLoadError("tensor '" + name + "': dtype I64 is not a weight dtype");
    if (info.shape != shape) {
      std::string want, got;
      for (auto s : shape) want += (want.empty() ? "" : ", ") + std::to_string(s);
      for (auto s : info.shape) got += (got.empty() ? "" : ", ") + std::to_string(s);
      throw ModelLoadError("tensor '" + name + "': shape [" + got + "], config.json implies [" + want + "]");
    }
    return st.get(name, dtype, device);
  };
  const std::int64_t h = c.hidden_size, qd = c.num_attention_heads * c.head_dim,
                     kvd = c.num_key_value_heads * c.head_dim, ff = c.intermediate_size;
  embed_w_ = register_parameter("embed_tokens", load("model.embed_tokens.weight", {c.vocab_size, h}), false);
  norm_w_ = register_parameter("norm", load("model.norm.weight", {h}), false);
  if (c.tie_word_embeddings) {
    lm_head_w_ = embed_w_;
  } else {
    lm_head_w_ = register_parameter("lm_head", load("lm_head.weight", {c.vocab_size, h}), false);
  }
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LlamaLayer L;
    auto reg = [&](const char* n, const std::string& tensor, std::vector<std::int64_t> shape) {
      return L->register_parameter(n, load(p + tensor, std::move(shape)), false);
    };
    L->input_norm = reg("input_layernorm", "input_layernorm.weight", {h});
    L->post_norm = reg("post_attention_layernorm", "post_attention_layernorm.weight", {h});
    L->q_w = reg("q_proj", "self_attn.q_proj.weight", {qd, h});
    L->k_w = reg("k_proj", "self_attn.k_proj.weight", {kvd, h});
    L->v_w = reg("v_proj", "self_attn.v_proj.weight", {kvd, h});
    L->o_w = reg("o_proj", "self_attn.o_proj.weight", {h, qd});
    if (c.qkv_bias) {
      L->q_b = reg("q_proj_bias", "self_attn.q_proj.bias", {qd});
      L->k_b = reg("k_proj_bias", "self_attn.k_proj.bias", {kvd});
      L->v_b = reg("v_proj_bias", "self_attn.v_proj.bias", {kvd});
    }
    if (c.o_bias) L->o_b = reg("o_proj_bias", "self_attn.o_proj.bias", {h});
    L->gate_w = reg("gate_proj", "mlp.gate_proj.weight", {ff, h});
    L->up_w = reg("up_proj", "mlp.up_proj.weight", {ff, h});
    L->down_w = reg("down_proj", "mlp.down_proj.weight", {h, ff});
    if (c.mlp_bias) {
      L->gate_b = reg("gate_proj_bias", "mlp.gate_proj.bias", {ff});
      L->up_b = reg("up_proj_bias", "mlp.up_proj.bias", {ff});
      L->down_b = reg("down_proj_bias", "mlp.down_proj.bias", {h});
    }
    layers_.push_back(register_module("layer" + std::to_string(i), L));
  }
  inv_freq_ = register_buffer("inv_freq", rope_inv_freq(c).to(device));
}

torch::Tensor LlamaModelImpl::embed(const torch::Tensor& ids) const {
  return torch::embedding(embed_w_, ids.to(device_, torch::kLong));
}

KVCache LlamaModelImpl::new_cache(std::int64_t batch, std::int64_t capacity) const {
  KVCache cache;
  const auto opts = torch::TensorOptions().dtype(dtype_).device(device_);
  for (std::int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    cache.k.push_back(torch::zeros({batch, config_.num_key_value_heads, capacity, config_.head_dim}, opts));
    cache.v.push_back(torch::zeros({batch, config_.num_key_value_heads, capacity, config_.head_dim}, opts));
  }
  return cache;
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& ids, KVCache* cache) {
  return forward_embeds(embed(ids), cache);
}

torch::Tensor LlamaModelImpl::layer_forward(std::size_t i, const torch::Tensor& x, const torch::Tensor& cos,
                                            const torch::Tensor& sin, const torch::Tensor& mask, KVCache* cache,
                                            std::int64_t past) {
  const auto& c = config_;
  const LlamaLayer& L = layers_[i];
  const std::int64_t b = x.size(0), t = x.size(1), d = c.head_dim;
  torch::Tensor hn = rms_norm(x, L->input_norm, c.rms_norm_eps);
  torch::Tensor q = affine(hn, L->q_w, L->q_b).view({b, t, c.num_attention_heads, d}).transpose(1, 2);
  torch::Tensor k = affine(hn, L->k_w, L->k_b).view({b, t, c.num_key_value_heads, d}).transpose(1, 2);
  torch::Tensor v = affine(hn, L->v_w, L->v_b).view({b, t, c.num_key_value_heads, d}).transpose(1, 2);
  q = q * cos + rotate_half(q) * sin;
  k = k * cos + rotate_half(k) * sin;
  if (cache != nullptr) {
    cache->k[i].narrow(2, past, t).copy_(k);
    cache->v[i].narrow(2, past, t).copy_(v);
    k = cache->k[i].narrow(2, 0, past + t);
    v = cache->v[i].narrow(2, 0, past + t);
  }
  // Grouped-query attention without copying the cache: the `rep` query heads
  // of each KV head become rep * t rows against that head's keys.
  const std::int64_t rep = c.num_attention_heads / c.num_key_value_heads;
  torch::Tensor qg = q.reshape({b, c.num_key_value_heads, rep * t, d});
  torch::Tensor mg = mask.defined() && rep > 1 ? mask.repeat({rep, 1}) : mask;
  torch::Tensor a = attention(qg, k, v, mg).reshape({b, c.num_attention_heads, t, d});
  a = a.transpose(1, 2).reshape({b, t, c.num_attention_heads * d});
  torch::Tensor h = x + affine(a, L->o_w, L->o_b);
  torch::Tensor hn2 = rms_norm(h, L->post_norm, c.rms_norm_eps);
  torch::Tensor m = torch::silu(affine(hn2, L->gate_w, L->gate_b)) * affine(hn2, L->up_w, L->up_b);
  return h + affine(m, L->down_w, L->down_b);
}

// One layer under gradient checkpointing: the forward runs without
// recording a graph and saves only the layer input; the backward recomputes
// the layer with grad on and backpropagates through it.
struct LayerCheckpoint : torch::autograd::Function<LayerCheckpoint> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, LlamaModelImpl* model,
                               std::int64_t layer, const torch::Tensor& cos, const torch::Tensor& sin,
                               const torch::Tensor& mask) {
    ctx->save_for_backward({x});
    ctx->saved_data["model"] = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(model));
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["cos"] = cos;
    ctx->saved_data["sin"] = sin;
    ctx->saved_data["mask"] = mask;
    return model->layer_forward(static_cast<std::size_t>(layer), x, cos, sin, mask, nullptr, 0);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto* model = reinterpret_cast<LlamaModelImpl*>(static_cast<std::intptr_t>(ctx->saved_data["model"].toInt()));
    const torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    torch::Tensor y;
    {
      torch::AutoGradMode grad(true);
      y = model->layer_forward(static_cast<std::size_t>(ctx->saved_data["layer"].toInt()), x,
                               ctx->saved_data["cos"].toTensor(), ctx->saved_data["sin"].toTensor(),
                               ctx->saved_data["mask"].isTensor() ? ctx->saved_data["mask"].toTensor() : torch::Tensor(),
                               nullptr, 0);
    }
    torch::Tensor gx = torch::autograd::grad({y}, {x}, {grad_out[0]})[0];
    return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor LlamaModelImpl::forward_embeds(const torch::Tensor& embeds, KVCache* cache) {
  const std::int64_t b = embeds.size(0), t = embeds.size(1);
  const std::int64_t past = cache != nullptr ? cache->length : 0;
  if (cache != nullptr) {
    if (cache->k.size() != layers_.size()) throw std::invalid_argument("KVCache: wrong number of layers");
    if (cache->batch() != b) throw std::invalid_argument("KVCache: batch differs from the input's");
    if (past + t > cache->capacity()) {
      const std::int64_t cap = std::max(past + t, 2 * cache->capacity());
      for (auto* list : {&cache->k, &cache->v}) {
        for (torch::Tensor& x : *list) {
          torch::Tensor grown = torch::zeros({x.size(0), x.size(1), cap, x.size(3)}, x.options());
          grown.narrow(2, 0, past).copy_(x.narrow(2, 0, past));
          x = grown;
        }
      }
    }
  }
  torch::Tensor x = embeds.to(device_, dtype_);
  // RoPE for positions past .. past + t - 1, in float32 then the model dtype.
  torch::Tensor pos = torch::arange(past, past + t, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  torch::Tensor freqs = pos.unsqueeze(1) * inv_freq_.unsqueeze(0);
  torch::Tensor emb = torch::cat({freqs, freqs}, -1);
  torch::Tensor cos = emb.cos().to(dtype_), sin = emb.sin().to(dtype_);
  torch::Tensor mask;
  if (t > 1) {
    // Query i (position past + i) sees keys 0 .. past + i.
    torch::Tensor qi = torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(device_)).unsqueeze(1);
    torch::Tensor kj = torch::arange(past + t, torch::TensorOptions().dtype(torch::kLong).device(device_)).unsqueeze(0);
    mask = torch::zeros({t, past + t}, torch::TensorOptions().dtype(torch::kFloat32).device(device_))
               .masked_fill(kj > qi + past, -std::numeric_limits<float>::infinity());
  }
  const bool checkpoint = checkpointing_ && cache == nullptr && torch::GradMode::is_enabled() && x.requires_grad();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    x = checkpoint ? LayerCheckpoint::apply(x, this, static_cast<std::int64_t>(i), cos, sin, mask)
                   : layer_forward(i, x, cos, sin, mask, cache, past);
  }
  if (cache != nullptr) cache->length = past + t;
  x = rms_norm(x, norm_w_, config_.rms_norm_eps);
  return torch::linear(x, lm_head_w_);
}

LlamaModel load_llama_model(const std::filesystem::path& dir, torch::Device device, torch::Dtype dtype) {
  LlamaConfig config = load_llama_config(dir);
  SafeTensors st = SafeTensors::open_dir(dir);
  LlamaModel model(config, st, device, dtype);
  model->eval();
  return model;
}

LlamaModel load_llama_model(const std::filesystem::path& dir) {
  if (torch::cuda::is_available()) return load_llama_model(dir, torch::Device(torch::kCUDA, 0), torch::kBFloat16);
  return load_llama_model(dir, torch::kCPU, torch::kFloat32);
}

}  // namespace evoprompt::codegen::lm
