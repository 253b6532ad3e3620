// `--lm local:DIR` without torch in the caller's headers.
#pragma once

#include <memory>
#include <string>

#include "language_model.hpp"

namespace evoprompt::codegen::lm {

// The Hugging Face model folder DIR as a LanguageModel (see local_lm.hpp).
// Throws std::runtime_error with a one-line reason when it cannot load.
std::unique_ptr<LanguageModel> make_local_language_model(const std::string& dir);

}  // namespace evoprompt::codegen::lm
