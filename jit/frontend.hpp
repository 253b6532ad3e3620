// Clang, in-process: the precompiled prelude, and child source to LLVM IR
// with the safety policy applied on the way.
#pragma once

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>
#include <vector>

#include "verdict.hpp"

namespace evoprompt::jit {

// How children are compiled: the driver path (it locates Clang's resource
// directory and the C++ standard library) and the flags shared by the
// prelude and every child.
struct FrontendConfig {
  std::string clang_path;
  std::vector<std::string> flags;  // e.g. -std=c++17 -O0 -fPIC -I... -D...
  std::string prelude_text;        // the headers every child sees
  std::string cache_salt;          // anything else the PCH depends on (torch version)
};

// The prelude compiled once into a Clang module, cached on disk under a key
// of (Clang version, flags, prelude text, salt); rebuilt when missing or
// unusable. A module rather than a PCH: importing a module is lazy, while a
// PCH makes every child redo the vtable instantiations of the whole torch
// API (1.4 s of every 1.6 s compile; see ARCHITECTURE.md).
class Prelude {
 public:
  // Throws std::runtime_error when the prelude cannot be built.
  static Prelude load_or_build(const FrontendConfig& config, const std::string& cache_dir);

  const std::string& module_path() const { return module_path_; }
  // Driver arguments that make a compile import the prelude.
  std::vector<std::string> import_args() const;
  bool was_built() const { return built_; }
  double build_ms() const { return build_ms_; }

 private:
  std::string dir_;
  std::string module_path_;
  bool built_ = false;
  double build_ms_ = 0.0;
};

struct ChildSource {
  std::string text;
  std::string display_name = "child.cpp";  // used in diagnostics
  std::string record;                      // the struct the child must define (the caller's contract)
  std::string harness;                     // appended after the child, never policy-checked
};

struct FrontendResult {
  Verdict verdict;
  std::unique_ptr<llvm::LLVMContext> context;  // owns `module`
  std::unique_ptr<llvm::Module> module;        // set when accepted and `emit_ir`
};

// Verdicts in order: too_large, compile_error, policy, contract, accepted.
// Thread-safe: every call has its own CompilerInstance and LLVMContext.
FrontendResult compile_child(const FrontendConfig& config, const Prelude& prelude, const ChildSource& child,
                             std::size_t max_source_bytes, bool emit_ir);

}  // namespace evoprompt::jit
