// `local:DIR`: a LanguageModel over a Hugging Face model folder run in
// process (config.json, safetensors, tokenizer.json, generation_config.json),
// with soft prompt-tuning (Lester et al. 2021) between rounds.
//
// Soft prompt: P trainable vectors [P, hidden] (float32, on the model's
// device), initialised from the input embeddings of P vocabulary tokens drawn
// with the options' seed. Once tuned (or loaded by load_state) it is
// prepended, as embeddings, to every prompt: at generation (one prefill of
// soft prompt + prompt, the KV cache holding the P soft positions, then the
// batched decode) and at training. Before the first tune() or load_state()
// generation uses the plain prompt, so an untuned run (`--mode no-tune`) and
// the first round of a tuned run sample from the plain LM: the arms differ
// only once TRAIN has run.
//
// tune(examples): each example is [soft prompt] + tokens(metrics_block, with
// the tokenizer's special tokens) + tokens(code); the loss is the mean
// next-token cross-entropy over the code tokens only (an example whose code
// has no tokens is skipped). Batches are right-padded: the pads come after
// every real token, so causal attention never lets a real token see them,
// and they are outside the loss. Optimizer: Adam (torch defaults β = (0.9,
// 0.999), ε = 1e-8, no weight decay; the paper does not name one, Adam is the
// usual choice for prompt-tuning at this learning rate), on the soft prompt
// only, its moments fresh at each tune() call; the LM weights are frozen
// (requires_grad false, never written). Examples are shuffled per epoch with
// a stream seeded by (seed, number of earlier tune() calls).
//
// Memory: each optimizer batch is split into micro-batches of at most
// tune_micro_batch_tokens padded positions (gradients accumulate, so the step
// equals the whole batch's), and gradient checkpointing (on by default) keeps
// only each layer's input for the backward pass, recomputing the layer (about
// one more forward of compute). Estimates for a 1.5B Qwen2.5 in bf16 (hidden
// 1536, intermediate 8960, 28 layers, vocab 151936; weights 3.1 GB, frozen,
// no gradients or optimizer state): with checkpointing, per token 28 layer
// inputs (86 KB) + the bf16 logits row (0.3 MB) + the float32 rows and
// softmax of the code tokens (≈ 1.2 MB), ≈ 1.6 MB, plus one layer's
// recomputed activations (≈ 0.13 MB per token); the default 4096 tokens per
// micro-batch need ≈ 7 GB besides the weights. Without checkpointing,
// (12·hidden + 5·intermediate) · 2 bytes per token per layer adds ≈ 3.5 MB
// per token (≈ 21 GB at 4096). More where attention falls back to
// materialising the T×T scores. Not measured on a GPU yet. Lower the budget
// on smaller GPUs; a single example longer than the budget still goes alone.
// Sequences are cut to max_position_embeddings (the code's tail is dropped).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "generate.hpp"
#include "language_model.hpp"
#include "llama_model.hpp"
#include "local_lm_options.hpp"
#include "tokenizer.hpp"

namespace evoprompt::codegen::lm {

class LocalLanguageModel : public LanguageModel {
 public:
  // bf16 on CUDA when available, else f32 on CPU. Throws ModelLoadError.
  explicit LocalLanguageModel(const std::filesystem::path& dir, const LocalLmOptions& options = {});
  LocalLanguageModel(const std::filesystem::path& dir, torch::Device device, torch::Dtype dtype,
                     const LocalLmOptions& options = {});

  std::string name() const override { return "local:" + dir_.string(); }
  // One prefill of the (soft prompt and) prompt, then the samples in one
  // batch. Stops at the request's stop strings and at the model's EOS tokens.
  std::vector<Completion> sample(const SampleRequest& request) override;

  bool can_tune() const override { return options_.soft_prompt_tokens > 0; }
  TuneReport tune(const std::vector<TuneExample>& examples) override;
  // One safetensors file: "soft_prompt" F32 [P, hidden]; metadata
  // "evoprompt" = "soft_prompt", "tune_calls" = the number of tune() calls so
  // far (the next shuffle stream), "active" = "1" once tuned or loaded (a
  // file without it counts as active). Written to PATH.tmp, then renamed.
  // load_state refuses a file whose shape differs (LanguageModelError,
  // naming the file). Both do nothing when soft_prompt_tokens is 0.
  void save_state(const std::string& path) const override;
  void load_state(const std::string& path) override;

  // Mean cross-entropy over the code tokens of `examples` with the current
  // soft prompt (no gradient); NaN when no example has code tokens.
  double code_loss(const std::vector<TuneExample>& examples);

  LlamaModelImpl& model() { return *model_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const std::vector<std::int32_t>& eos_ids() const { return eos_; }
  const LocalLmOptions& options() const { return options_; }
  // [P, hidden] float32 on the model's device (undefined when P is 0).
  const torch::Tensor& soft_prompt() const { return soft_prompt_; }
  // Whether generation prepends the soft prompt.
  bool soft_prompt_active() const { return soft_prompt_.defined() && active_; }

 private:
  struct Sequence {
    std::vector<std::int64_t> ids;   // metrics then code tokens
    std::int64_t context = 0;        // how many leading ids are the metrics block
  };
  std::vector<Sequence> prepare(const std::vector<TuneExample>& examples, std::size_t* empty_code,
                                std::size_t* truncated, std::size_t* too_long) const;
  // Sum of the code tokens' cross-entropy over `batch` (float32 scalar, with
  // gradient to the soft prompt when grad mode is on).
  torch::Tensor loss_sum(const std::vector<const Sequence*>& batch);
  std::vector<std::vector<const Sequence*>> micro_batches(std::vector<const Sequence*> batch) const;
  double mean_loss(const std::vector<Sequence>& seqs);

  std::filesystem::path dir_;
  LocalLmOptions options_;
  LlamaModel model_;
  Tokenizer tokenizer_;
  std::vector<std::int32_t> eos_;
  torch::Tensor soft_prompt_;
  bool active_ = false;
  std::uint64_t tune_calls_ = 0;
};

}  // namespace evoprompt::codegen::lm
