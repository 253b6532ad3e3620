// Soft prompt-tuning settings of `--lm local:DIR` (see local_lm.hpp), and
// the factory that takes them, without torch in the caller's headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "language_model.hpp"

namespace evoprompt::codegen::lm {

struct LocalLmOptions {
  std::int64_t soft_prompt_tokens = 16;   // P; 0: no soft prompt (can_tune() is false)
  int tune_epochs = 5;
  std::int64_t tune_batch = 16;           // examples per optimizer step
  double tune_lr = 0.1;                   // Adam
  std::int64_t tune_micro_batch_tokens = 4096;  // padded positions per forward/backward (memory)
  std::uint64_t seed = 0;                 // initial soft prompt tokens and the shuffles
  bool gradient_checkpointing = true;     // tuning recomputes each layer in the backward pass
  double gpu_memory_fraction = 0.0;       // on a GPU: the caching allocator's cap on cuda:0 (0: none)
};

// make_local_language_model (local_lm_factory.hpp) with these settings.
// Throws std::runtime_error with a one-line reason when it cannot load,
// std::invalid_argument for settings out of range (negative counts, batch,
// micro-batch budget or lr not positive).
std::unique_ptr<LanguageModel> make_local_language_model(const std::string& dir, const LocalLmOptions& options);

// What loading needs, checked in milliseconds (config.json parses, weights
// and tokenizer present): std::runtime_error with a one-line reason.
void check_local_model_dir(const std::string& dir);

}  // namespace evoprompt::codegen::lm
