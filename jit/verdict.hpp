// What the JIT says about a child before (and, for runtime_error, after) it runs.
#pragma once

#include <string>
#include <vector>

namespace evoprompt::jit {

struct Verdict {
  enum class Kind {
    accepted,
    too_large,      // source over the size cap
    compile_error,  // parse, semantic or link errors
    policy,         // the AST safety policy denied something
    contract,       // no usable Model (or the task's type)
    runtime_error,  // accepted, then threw while running
  };

  Kind kind = Kind::accepted;
  std::string rule;                      // machine-readable reason, e.g. "inline_asm"
  std::string message;                   // one line for people
  std::vector<std::string> diagnostics;  // "file:line:col: message", first ones only

  bool accepted() const { return kind == Kind::accepted; }
};

const char* to_string(Verdict::Kind kind);

}  // namespace evoprompt::jit
