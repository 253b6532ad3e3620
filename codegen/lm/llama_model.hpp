// The Llama / Qwen2 decoder in the torch C++ frontend: token embeddings,
// layers of (RMSNorm, attention with RoPE and grouped KV heads, RMSNorm,
// SwiGLU MLP), a final RMSNorm and the LM head (tied or not). Forward with
// an optional KV cache: one prefill, then incremental decoding.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "llama_config.hpp"
#include "safetensors.hpp"

namespace evoprompt::codegen::lm {

// Keys and values of every layer, [batch, kv_heads, capacity, head_dim];
// the first `length` positions are filled. Every row has the same length.
struct KVCache {
  std::vector<torch::Tensor> k, v;
  std::int64_t length = 0;

  std::int64_t batch() const { return k.empty() ? 0 : k.front().size(0); }
  std::int64_t capacity() const { return k.empty() ? 0 : k.front().size(2); }
  // Repeats a batch-1 cache into n identical rows.
  void expand(std::int64_t n);
  // Keeps only the batch rows `rows` (int64, on any device), in that order.
  void select(const torch::Tensor& rows);
};

// softmax(q kᵀ / √d + mask) v for q [B, H, Tq, D], k and v [B, H, Tk, D], the
// mask additive [Tq, Tk] or undefined. Uses at::scaled_dot_product_attention
// when the linked libtorch has it (2.0 and later).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask);
// Whether attention() goes through at::scaled_dot_product_attention.
bool has_fused_attention();

// RoPE inverse frequencies [head_dim / 2], float32, with the config's scaling.
torch::Tensor rope_inv_freq(const LlamaConfig& config);

struct LlamaLayerImpl : torch::nn::Module {
  torch::Tensor input_norm, post_norm;
  torch::Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  torch::Tensor gate_w, gate_b, up_w, up_b, down_w, down_b;
};
TORCH_MODULE(LlamaLayer);

struct LayerCheckpoint;

class LlamaModelImpl : public torch::nn::Module {
 public:
  // Reads every weight from `weights`, converted to dtype on device; refuses
  // missing tensors and wrong shapes, naming the tensor.
  LlamaModelImpl(const LlamaConfig& config, const SafeTensors& weights, torch::Device device,
                 torch::Dtype dtype);

  // ids [B, T] (integer) → logits [B, T, vocab] in the model's dtype. With a
  // cache, the tokens continue it (positions start at cache->length) and it grows.
  torch::Tensor forward(const torch::Tensor& ids, KVCache* cache = nullptr);
  // The same from input embeddings [B, T, hidden] (soft prompts).
  torch::Tensor forward_embeds(const torch::Tensor& embeds, KVCache* cache = nullptr);
  torch::Tensor embed(const torch::Tensor& ids) const;

  // An empty cache for `batch` rows with room for `capacity` positions (it grows if needed).
  KVCache new_cache(std::int64_t batch, std::int64_t capacity) const;

  // Gradient checkpointing for training forwards (no cache, grad mode on):
  // each layer keeps only its input and recomputes its activations in the
  // backward pass. Off by default; inference is unaffected either way.
  void set_gradient_checkpointing(bool on) { checkpointing_ = on; }
  bool gradient_checkpointing() const { return checkpointing_; }

  const LlamaConfig& config() const { return config_; }
  torch::Device device() const { return device_; }
  torch::Dtype dtype() const { return dtype_; }

 private:
  friend struct LayerCheckpoint;
  torch::Tensor layer_forward(std::size_t i, const torch::Tensor& x, const torch::Tensor& cos,
                              const torch::Tensor& sin, const torch::Tensor& mask, KVCache* cache,
                              std::int64_t past);

  LlamaConfig config_;
  torch::Device device_;
  torch::Dtype dtype_;
  torch::Tensor embed_w_, norm_w_, lm_head_w_;
  torch::Tensor inv_freq_;
  std::vector<LlamaLayer> layers_;
  bool checkpointing_ = false;
};
TORCH_MODULE(LlamaModel);

// Loads a model folder (config.json + model.safetensors or its index). The
// default: bf16 on CUDA when available, else f32 on CPU.
LlamaModel load_llama_model(const std::filesystem::path& dir);
LlamaModel load_llama_model(const std::filesystem::path& dir, torch::Device device, torch::Dtype dtype);

}  // namespace evoprompt::codegen::lm
