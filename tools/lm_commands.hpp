// The `lm` command group: tools for the embedded language model. So far
// `lm tokenize PATH` (text on stdin -> token ids) and `lm detokenize PATH`
// (ids on stdin -> text). No torch in here.
#pragma once

#include <CLI/CLI.hpp>

namespace evoprompt::cli {

void add_lm_commands(CLI::App& app, int* exit_code);

}  // namespace evoprompt::cli
