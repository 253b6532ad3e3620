// The JIT's front door: child source in, a verdict and (when accepted) loaded
// code out. Knows nothing of torch, training or search: the caller supplies
// the prelude, the flags and the harness for its task.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "verdict.hpp"

namespace evoprompt::jit {

class LoadedCode;
struct FrontendConfig;

struct JitOptions {
  std::string clang_path;            // the clang++ driver (finds headers); never run
  std::vector<std::string> flags;    // shared by the prelude and every child
  std::string prelude_text;          // headers every child sees, precompiled once
  std::string cache_salt;            // what else the precompiled prelude depends on
  std::string cache_dir;             // empty: default_cache_dir()
  std::size_t max_source_bytes = 64 * 1024;
};

struct ChildRequest {
  std::string source;
  std::string display_name = "child.cpp";
  std::string record;                        // the type the child must define, e.g. "Model"
  std::string harness;                       // appended; checks `record` and defines the entry points
  std::vector<std::string> entry_points;     // looked up at load time
};

struct CompileOutcome {
  Verdict verdict;
  std::shared_ptr<LoadedCode> code;  // set when accepted and loaded
  double frontend_ms = 0.0;          // parse, policy, IR
  double link_ms = 0.0;              // machine code, linking, static initialisers
};

// Headers a child may #include (all already in a sensible prelude).
const std::vector<std::string>& allowed_includes();

// $EVOPROMPT_CACHE_DIR, else $XDG_CACHE_HOME/evoprompt, else ~/.cache/evoprompt.
std::string default_cache_dir();

class ChildJit {
 public:
  // Loads or builds the precompiled prelude. Throws std::runtime_error.
  explicit ChildJit(JitOptions options);
  ~ChildJit();

  // Thread-safe: children compile in parallel on separate threads.
  CompileOutcome compile(const ChildRequest& request);

  // Verdict without generating or loading code (cheaper; no link check).
  Verdict check(const ChildRequest& request);

  const std::string& prelude_path() const;
  // Compiler arguments that import the prelude, for compiling a child by hand.
  std::vector<std::string> prelude_args() const;
  double prelude_build_ms() const;  // 0 when the cached prelude was reused

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Address of an entry point of loaded code, or nullptr.
void* entry_point(const LoadedCode& code, const std::string& name);

}  // namespace evoprompt::jit
