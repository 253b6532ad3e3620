// Turns an LM completion into one child program: re-attach the opening line,
// keep the text up to the balanced closing `};`, drop markdown fences and the
// chatter that chat models add around code.
#pragma once

#include <string>

namespace evoprompt::codegen {

struct Extraction {
  std::string code;    // the child program (may be incomplete when !complete)
  bool complete = false;
  std::string problem;  // why not complete, e.g. "no closing '};' for struct Model"
};

// `completion` continues a prompt that ended with `opening`
// (e.g. "struct Model : torch::nn::Module {").
Extraction extract_child(const std::string& completion, const std::string& opening);

}  // namespace evoprompt::codegen
