// A child's verdict: one enum from the JIT to the journal. It becomes a
// string only at the edges (JSON, SQL, the CLI), through to_string and
// verdict_from_string. The JIT itself gives the first six; the workers and
// the search give the rest.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evoprompt {

enum class VerdictKind {
  accepted,        // the JIT: compiled and loaded, not yet run
  too_large,       // source over the size cap
  compile_error,   // parse, semantic or link errors
  policy,          // the AST safety policy denied something
  contract,        // no usable record of the caller's contract
  runtime_error,   // accepted, then threw while running
  evaluated,       // trained and scored
  crash,           // the worker died (signal, abort)
  timeout,         // over a compile or training time limit
  oom,             // over the memory limit
  pending,         // the search: not evaluated yet
  filtered_alpha,  // evaluated, val error not below alpha
  duplicate,       // the same tokens as an earlier child
  lm_error,        // the LM gave no program
};

const char* to_string(VerdictKind kind);
// nullopt for a name that is no verdict.
std::optional<VerdictKind> verdict_from_string(std::string_view name);

namespace jit {

struct Verdict {
  using Kind = VerdictKind;

  Kind kind = Kind::accepted;
  std::string rule;                      // machine-readable reason, e.g. "inline_asm"
  std::string message;                   // one line for people
  std::vector<std::string> diagnostics;  // "file:line:col: message", first ones only

  bool accepted() const { return kind == Kind::accepted; }
};

}  // namespace jit
}  // namespace evoprompt
