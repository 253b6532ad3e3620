#include "orc_engine.hpp"

#include <llvm/Demangle/Demangle.h>
#include <llvm/IR/GlobalValue.h>
#include <llvm/IR/Module.h>
#include <llvm/ExecutionEngine/JITLink/EHFrameSupport.h>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutorProcessControl.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/Orc/TaskDispatch.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/TargetSelect.h>

#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <stdexcept>

namespace evoprompt::jit {
namespace {

using namespace llvm;
using namespace llvm::orc;

std::string error_text(Error err) {
  std::string text = toString(std::move(err));
  return text.substr(0, text.find('\n'));
}

// Handles of the loaded shared objects that JIT code may bind to.
const std::vector<void*>& allowed_library_handles() {
  static const std::vector<void*> handles = [] {
    std::vector<std::string> paths;
    ::dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) {
          if (info->dlpi_name && *info->dlpi_name && is_allowed_library(info->dlpi_name))
            static_cast<std::vector<std::string>*>(out)->push_back(info->dlpi_name);
          return 0;
        },
        &paths);
    std::vector<void*> result;
    for (const auto& p : paths)
      if (void* h = ::dlopen(p.c_str(), RTLD_LAZY | RTLD_NOLOAD)) result.push_back(h);
    return result;
  }();
  return handles;
}

// The address JIT code binds `name` to, or null when no allowed library
// exports it. Memoised: every child asks for the same few hundred symbols,
// and each first answer costs a dlsym per allowed library.
void* allowed_symbol_address(const std::string& name) {
  static std::mutex mutex;
  static std::unordered_map<std::string, void*> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
  }
  void* addr = nullptr;
  for (void* h : allowed_library_handles())
    if (::dlsym(h, name.c_str())) {
      addr = ::dlsym(RTLD_DEFAULT, name.c_str());
      break;
    }
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(name, addr);
  return addr;
}

// A symbol resolves only when an allowed library exports it; the address is
// then the one the dynamic linker uses for everybody (for data that is the
// host's copy-relocated instance, so JIT code and libtorch share one object).
// Symbols only the host executable defines are never found.
class AllowlistGenerator : public DefinitionGenerator {
 public:
  Error tryToGenerate(LookupState&, LookupKind, JITDylib& jd, JITDylibLookupFlags,
                      const SymbolLookupSet& symbols) override {
    SymbolMap found;
    for (const auto& [name, flags] : symbols) {
      void* addr = allowed_symbol_address((*name).str());
      if (!addr) continue;
      found[name] = {ExecutorAddr::fromPtr(addr), JITSymbolFlags::Exported};
    }
    if (found.empty()) return Error::success();
    return jd.define(absoluteSymbols(std::move(found)));
  }
};

// The external symbols `module` needs that no allowed library provides.
std::vector<std::string> unresolved_externals(const llvm::Module& module) {
  std::vector<std::string> missing;
  auto check = [&](const GlobalValue& gv) {
    if (!gv.isDeclaration() || gv.hasLocalLinkage()) return;
    const StringRef name = gv.getName();
    if (name.starts_with("llvm.") || name.starts_with("__lljit") || name == "__dso_handle") return;
    if (gv.hasExternalWeakLinkage()) return;  // resolves to null when absent
    if (!allowed_symbol_address(name.str())) missing.push_back(llvm::demangle(name.str()));
  };
  for (const auto& f : module.functions()) check(f);
  for (const auto& g : module.globals()) check(g);
  return missing;
}

void initialize_llvm_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
}

}  // namespace

bool is_allowed_library(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  static const char* const prefixes[] = {"libtorch",        "libc10",   "libstdc++.so", "libc.so",
                                         "libm.so",         "libmvec.so", "libgcc_s.so", "libpthread.so",
                                         "libtcmalloc",     "ld-linux"};
  for (const char* p : prefixes)
    if (base.rfind(p, 0) == 0) return true;
  return false;
}

OrcEngine::OrcEngine() {
  initialize_llvm_once();
  auto jtmb = JITTargetMachineBuilder::detectHost();
  if (!jtmb) throw std::runtime_error("JIT: " + error_text(jtmb.takeError()));
  jtmb->setCodeGenOptLevel(CodeGenOptLevel::None);
  jtmb->setRelocationModel(Reloc::PIC_);
  // Every ORC task runs on the thread that caused it. LLVM 19's default
  // dispatcher runs them on short-lived threads instead (about 15 per child),
  // and Platform::lookupInitSymbols, behind initialize() and deinitialize(),
  // then signals a condition variable on the caller's stack after unlocking
  // its mutex: when the caller has already returned, that signal writes into
  // live stack frames (seen as corrupted saved registers, then SIGSEGV).
  // In place, initialisation's lookups complete before anyone waits (see load).
  auto epc = SelfExecutorProcessControl::Create(nullptr, std::make_unique<InPlaceTaskDispatcher>());
  if (!epc) throw std::runtime_error("JIT: " + error_text(epc.takeError()));
  auto jit = LLJITBuilder()
                 .setExecutorProcessControl(std::move(*epc))
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 // Children are linked from several threads: one TargetMachine per compile.
                 .setSupportConcurrentCompilation(true)
                 // The "process symbols" every child links against are the allowlist:
                 // no path leads to the host's own symbols.
                 .setProcessSymbolsJITDylibSetup([](LLJIT& j) -> Expected<JITDylibSP> {
                   auto& jd = j.getExecutionSession().createBareJITDylib("<allowed libraries>");
                   jd.addGenerator(std::make_unique<AllowlistGenerator>());
                   return JITDylibSP(&jd);
                 })
                 .setObjectLinkingLayerCreator([](ExecutionSession& es, const Triple&) -> Expected<std::unique_ptr<ObjectLayer>> {
                   auto layer = std::make_unique<ObjectLinkingLayer>(es);
                   // C++ exceptions must unwind through JIT frames into the host.
                   layer->addPlugin(std::make_unique<EHFrameRegistrationPlugin>(
                       es, std::make_unique<jitlink::InProcessEHFrameRegistrar>()));
                   return std::unique_ptr<ObjectLayer>(std::move(layer));
                 })
                 .create();
  if (!jit) throw std::runtime_error("JIT: " + error_text(jit.takeError()));
  jit_ = std::shared_ptr<LLJIT>(std::move(*jit));
  // Materialisation runs on the thread that asked for the symbol: keep that
  // thread's last link error for its verdict instead of printing it.
  // Link failures reach the caller as verdicts (see load); do not print them.
  jit_->getExecutionSession().setErrorReporter([](Error err) { consumeError(std::move(err)); });
  // The platform's runtime symbols (__cxa_atexit and its helpers) are shared
  // by every child: materialise them now, so that no child's initialisation
  // waits for another thread to finish them.
  SymbolLookupSet platform_symbols;
  for (const char* s : {"__cxa_atexit", "atexit", "__lljit_run_atexits", "__lljit.platform_support_instance",
                        "__lljit.cxa_atexit_helper", "__lljit.run_atexits_helper", "__lljit.atexit_helper"})
    platform_symbols.add(jit_->mangleAndIntern(s), SymbolLookupFlags::WeaklyReferencedSymbol);
  auto warmed = jit_->getExecutionSession().lookup(
      {{jit_->getPlatformJITDylib().get(), JITDylibLookupFlags::MatchAllSymbols}}, std::move(platform_symbols));
  if (!warmed) throw std::runtime_error("JIT: " + error_text(warmed.takeError()));
}

LoadResult OrcEngine::load(std::unique_ptr<llvm::LLVMContext> context, std::unique_ptr<llvm::Module> module,
                           const std::vector<std::string>& required) {
  static std::atomic<unsigned long> counter{0};
  LoadResult result;
  // Checked before linking, so the verdict names what the child reached for.
  if (const auto missing = unresolved_externals(*module); !missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    result.error = "undefined symbols (only libtorch, c10 and the C/C++ runtimes are reachable): " + list;
    module.reset();  // a module must die before its context
    return result;
  }
  const std::string name = "child" + std::to_string(counter++);
  // Unique module names: ORC derives init/deinit symbol names from them, and
  // children must never share any.
  module->setModuleIdentifier(name);
  module->setSourceFileName(name + ".cpp");
  auto jd = jit_->createJITDylib(name);
  if (!jd) {
    result.error = error_text(jd.takeError());
    return result;
  }
  // From here on the LoadedCode owns the JITDylib, so every failure path frees it.
  std::unique_ptr<LoadedCode> code(new LoadedCode(jit_, &*jd));
  module->setDataLayout(jit_->getDataLayout());
  if (auto err = jit_->addIRModule(*jd, ThreadSafeModule(std::move(module), std::move(context)))) {
    result.error = error_text(std::move(err));
    return result;
  }
  // Blocking lookups wait on a promise, which is safe whichever thread answers.
  for (const auto& name : required) {
    auto sym = jit_->lookup(*jd, name);
    if (!sym) {
      result.error = error_text(sym.takeError());
      return result;
    }
  }
  // initialize() asks for the module's init function through
  // Platform::lookupInitSymbols (see the constructor): have it Ready first,
  // with a blocking lookup, so that wait finds its answer on this thread.
  SymbolLookupSet init_symbol(jit_->mangleAndIntern("__orc_init_func." + name),
                              SymbolLookupFlags::WeaklyReferencedSymbol);
  if (auto ready = jit_->getExecutionSession().lookup({{&*jd, JITDylibLookupFlags::MatchAllSymbols}},
                                                      std::move(init_symbol));
      !ready) {
    result.error = error_text(ready.takeError());
    return result;
  }
  if (auto err = jit_->initialize(*jd)) {
    result.error = error_text(std::move(err));
    return result;
  }
  result.code = std::move(code);
  return result;
}

void* LoadedCode::symbol(const std::string& name) const {
  auto sym = jit_->lookup(*dylib_, name);
  if (!sym) {
    consumeError(sym.takeError());
    return nullptr;
  }
  return sym->toPtr<void*>();
}

LoadedCode::~LoadedCode() {
  consumeError(jit_->deinitialize(*dylib_));
  consumeError(jit_->getExecutionSession().removeJITDylib(*dylib_));
  // Interned symbol names outlive their last user until swept: sweep, or a
  // long run grows by every child's symbol table.
  jit_->getExecutionSession().getSymbolStringPool()->clearDeadEntries();
}

}  // namespace evoprompt::jit
