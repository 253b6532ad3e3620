// Sampling n completions of one prompt: one prefill of the prompt, its KV
// cache repeated into n rows, then the n samples decoded in one batch
// (finished rows leave the batch). Per-sample temperature (0: greedy), top-p,
// stop token ids, stop strings (checked on the detokenized completion),
// max new tokens. The same request and seed give the same samples; each
// sample draws from its own stream, so a sample does not depend on the others
// in its batch except through float rounding of batched matmuls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "llama_model.hpp"

namespace evoprompt::codegen::lm {

using Detokenizer = std::function<std::string(const std::vector<std::int32_t>&)>;

struct GenerateOptions {
  std::vector<double> temperatures;        // one per sample
  double top_p = 1.0;
  std::int64_t max_new_tokens = 256;
  std::vector<std::string> stop;           // stop strings (need a detokenizer)
  std::vector<std::int32_t> stop_token_ids;  // e.g. the EOS ids: not part of the completion
  std::uint64_t seed = 0;
  std::uint64_t first_stream = 0;          // sample i draws from stream first_stream + i
  // Optional [P, hidden] input embeddings (a soft prompt) prepended to the
  // prompt's token embeddings in the prefill; the KV cache holds their P
  // positions, so the prompt's positions start at P.
  torch::Tensor prefix_embeds;
};

struct GeneratedSample {
  std::vector<std::int32_t> tokens;   // generated tokens (stop token excluded)
  std::string text;                   // detokenized, cut before the first stop string
  std::string finish_reason;          // "stop" or "length"
};

// Sample i draws from its own stream, seeded by (seed, first_stream + i).
std::vector<GeneratedSample> generate(LlamaModelImpl& model, const std::vector<std::int32_t>& prompt,
                                      const GenerateOptions& options, const Detokenizer& detokenize = {});

// One sampling step on logits [n, vocab] (any float dtype): per-row
// temperature (≤ 0: argmax), top-p, and one uniform in [0, 1) per row.
// Returns the token ids [n] (int64, CPU).
torch::Tensor sample_tokens(const torch::Tensor& logits, const std::vector<double>& temperatures, double top_p,
                            const std::vector<double>& uniforms);

}  // namespace evoprompt::codegen::lm
