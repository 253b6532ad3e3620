// LLVM ORC, in-process: one LLJIT (JITLink) for the whole run, one JITDylib
// per child. JIT code sees only an allowlist of the process's libraries.
#pragma once

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>

namespace llvm::orc {
class LLJIT;
class JITDylib;
}  // namespace llvm::orc

namespace evoprompt::jit {

class OrcEngine;

// One child's code in its own JITDylib: static initialisers have run; the
// destructor runs its deinitialisers and frees the code.
class LoadedCode {
 public:
  ~LoadedCode();
  LoadedCode(const LoadedCode&) = delete;
  LoadedCode& operator=(const LoadedCode&) = delete;

  // Address of an exported symbol, or nullptr.
  void* symbol(const std::string& name) const;

 private:
  friend class OrcEngine;
  LoadedCode(std::shared_ptr<llvm::orc::LLJIT> jit, llvm::orc::JITDylib* dylib) : jit_(std::move(jit)), dylib_(dylib) {}
  std::shared_ptr<llvm::orc::LLJIT> jit_;  // keeps the engine alive while code is loaded
  llvm::orc::JITDylib* dylib_;
};

struct LoadResult {
  std::unique_ptr<LoadedCode> code;  // null on failure
  std::string error;                 // one line, e.g. "undefined symbols: evoprompt::Foo::bar()"
};

class OrcEngine {
 public:
  OrcEngine();  // throws std::runtime_error when the host target is unsupported

  // Links `module` into a fresh JITDylib, resolving external symbols only
  // from the allowed libraries, and runs its static initialisers.
  // `required` symbols are looked up now, so link errors surface here.
  // Thread-safe.
  LoadResult load(std::unique_ptr<llvm::LLVMContext> context, std::unique_ptr<llvm::Module> module,
                  const std::vector<std::string>& required);

 private:
  std::shared_ptr<llvm::orc::LLJIT> jit_;
};

// True when JIT code may bind to a symbol defined in the shared object at
// `path`: libtorch, c10, the C++ and C runtimes, libm (and the allocator).
bool is_allowed_library(const std::string& path);

}  // namespace evoprompt::jit
