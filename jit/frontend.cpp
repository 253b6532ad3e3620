#include "frontend.hpp"

#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/DiagnosticOptions.h>
#include <clang/Basic/Version.h>
#include <clang/CodeGen/CodeGenAction.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/CompilerInvocation.h>
#include <clang/Frontend/FrontendActions.h>
#include <clang/Frontend/MultiplexConsumer.h>
#include <clang/Frontend/Utils.h>
#include <clang/Lex/PreprocessorOptions.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/xxhash.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "policy.hpp"

namespace evoprompt::jit {
namespace {

namespace fs = std::filesystem;

// Children and the harness live in a virtual folder: nothing is written to disk.
constexpr const char* kChildPath = "/__evoprompt__/child.cpp";
constexpr const char* kHarnessName = "evoprompt_harness.inc";
constexpr const char* kHarnessPath = "/__evoprompt__/evoprompt_harness.inc";
constexpr std::size_t kMaxDiagnostics = 10;

// Collects error diagnostics as "file:line:col: message", split by origin:
// the child's own text (or headers it instantiated) versus the harness.
class DiagnosticCollector : public clang::DiagnosticConsumer {
 public:
  DiagnosticCollector(std::string display_name, unsigned child_bytes)
      : display_name_(std::move(display_name)), child_bytes_(child_bytes) {}

  void HandleDiagnostic(clang::DiagnosticsEngine::Level level, const clang::Diagnostic& info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level < clang::DiagnosticsEngine::Error) return;
    llvm::SmallString<256> text;
    info.FormatDiagnostic(text);
    std::string where = "<command line>";
    bool from_harness = false;
    if (info.hasSourceManager() && info.getLocation().isValid()) {
      const auto& sm = info.getSourceManager();
      const auto at = sm.getExpansionLoc(info.getLocation());
      const auto presumed = sm.getPresumedLoc(at);
      const bool in_main = sm.getFileID(at) == sm.getMainFileID();
      // The file itself, not its presumed name: a child's #line cannot pose as the harness.
      from_harness = (in_main && sm.getFileOffset(at) >= child_bytes_) || sm.getFilename(at).ends_with(kHarnessName);
      if (presumed.isValid()) {
        const std::string file = in_main ? display_name_ : from_harness ? "<harness>" : presumed.getFilename();
        where = file + ":" + std::to_string(presumed.getLine()) + ":" + std::to_string(presumed.getColumn());
      }
    }
    auto& list = from_harness ? harness_ : child_;
    if (list.size() < kMaxDiagnostics) list.push_back(where + ": " + std::string(text));
  }

  std::vector<std::string> child_, harness_;

 private:
  std::string display_name_;
  unsigned child_bytes_;
};

std::vector<const char*> driver_args(const FrontendConfig& config, std::vector<std::string>& storage) {
  std::vector<const char*> args{config.clang_path.c_str()};
  for (const auto& f : config.flags) args.push_back(f.c_str());
  for (const auto& s : storage) args.push_back(s.c_str());
  return args;
}

std::unique_ptr<clang::CompilerInstance> make_instance(const FrontendConfig& config,
                                                       std::vector<std::string> extra_args,
                                                       clang::DiagnosticConsumer& diags_out) {
  auto diag_opts = llvm::makeIntrusiveRefCnt<clang::DiagnosticOptions>();
  auto diags = clang::CompilerInstance::createDiagnostics(diag_opts.get(), &diags_out, /*ShouldOwnClient=*/false);
  const auto args = driver_args(config, extra_args);
  clang::CreateInvocationOptions opts;
  opts.Diags = diags;
  std::shared_ptr<clang::CompilerInvocation> invocation = clang::createInvocation(args, opts);
  if (!invocation) throw std::runtime_error("clang rejected the compiler flags");
  auto ci = std::make_unique<clang::CompilerInstance>();
  ci->setInvocation(std::move(invocation));
  ci->createDiagnostics(&diags_out, /*ShouldOwnClient=*/false);
  // A long-lived process must free each compile. The driver's -disable-free
  // sets two flags: with the code generator's, Clang buries (leaks) the
  // backend's TargetMachine, about 520 KiB per child.
  ci->getFrontendOpts().DisableFree = false;
  ci->getCodeGenOpts().DisableFree = false;
  ci->getDiagnosticOpts().ShowCarets = false;  // and print nothing ("N errors generated")
  return ci;
}

// Code generation that also runs the policy consumer over the same AST.
class PolicedCodeGenAction : public clang::EmitLLVMOnlyAction {
 public:
  PolicedCodeGenAction(llvm::LLVMContext* ctx, Policy& policy) : EmitLLVMOnlyAction(ctx), policy_(policy) {}

 protected:
  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance& ci, llvm::StringRef file) override {
    policy_.attach_preprocessor(ci);
    std::vector<std::unique_ptr<clang::ASTConsumer>> consumers;
    consumers.push_back(policy_.make_consumer(ci));
    consumers.push_back(EmitLLVMOnlyAction::CreateASTConsumer(ci, file));
    return std::make_unique<clang::MultiplexConsumer>(std::move(consumers));
  }

 private:
  Policy& policy_;
};

class PolicedSyntaxAction : public clang::SyntaxOnlyAction {
 public:
  explicit PolicedSyntaxAction(Policy& policy) : policy_(policy) {}

 protected:
  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance& ci, llvm::StringRef) override {
    policy_.attach_preprocessor(ci);
    return policy_.make_consumer(ci);
  }

 private:
  Policy& policy_;
};

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The contract verdict from the harness's diagnostics (or the missing record).
Verdict contract_verdict(const std::vector<std::string>& harness_diags, const Policy& policy,
                         const std::string& record) {
  Verdict v;
  v.kind = Verdict::Kind::contract;
  v.diagnostics = harness_diags;
  if (!record.empty() && !policy.declares_record(record)) {
    v.rule = "no_" + std::string(llvm::StringRef(record).lower());
    v.message = "the child defines no struct " + record;
    return v;
  }
  // The harness's static_asserts say "CONTRACT(<rule>): <message>".
  for (const auto& d : harness_diags) {
    const auto at = d.find("CONTRACT(");
    const auto close = d.find("): ", at);
    if (at == std::string::npos || close == std::string::npos) continue;
    v.rule = d.substr(at + 9, close - at - 9);
    v.message = first_line(d.substr(close + 3));
    return v;
  }
  v.rule = "harness";
  v.message = harness_diags.empty() ? "the harness did not compile" : harness_diags.front();
  return v;
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

constexpr const char* kModuleName = "evoprompt_prelude";

// Where Clang keeps the builtin modules the prelude imports; shared by the
// prelude build and every child.
std::string module_cache_flag(const fs::path& dir) { return "-fmodules-cache-path=" + (dir / "clang-modules").string(); }

// Compiles a trivial child against the prelude: false when it is unusable.
bool prelude_works(const FrontendConfig& config, const Prelude& prelude) {
  DiagnosticCollector sink("probe.cpp", 0);
  auto args = prelude.import_args();
  args.insert(args.begin(), "-fsyntax-only");
  args.push_back(kChildPath);
  auto ci = make_instance(config, args, sink);
  ci->getPreprocessorOpts().addRemappedFile(kChildPath,
                                            llvm::MemoryBuffer::getMemBufferCopy("int probe();\n").release());
  clang::SyntaxOnlyAction action;
  return ci->ExecuteAction(action) && !sink.getNumErrors();
}

// An exclusive advisory lock (flock) held for the object's lifetime.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error("cannot open lock file " + path);
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() { ::close(fd_); }  // closing releases the lock
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
  std::ofstream(tmp) << text;
  fs::rename(tmp, path);
}

}  // namespace

std::vector<std::string> Prelude::import_args() const {
  const fs::path dir(dir_);
  return {"-fmodules",
          module_cache_flag(dir),
          "-fmodule-map-file=" + (dir / "module.modulemap").string(),
          "-fmodule-file=" + std::string(kModuleName) + "=" + module_path_,
          "-include",
          (dir / "prelude.hpp").string()};
}

Prelude Prelude::load_or_build(const FrontendConfig& config, const std::string& cache_dir) {
  std::string key = clang::getClangFullVersion() + "\n" + config.clang_path + "\n" + config.cache_salt + "\n" +
                    config.prelude_text;
  for (const auto& f : config.flags) key += "\n" + f;
  const fs::path dir = fs::path(cache_dir) / ("prelude-" + hex64(llvm::xxh3_64bits(key)));
  Prelude p;
  p.dir_ = dir.string();
  p.module_path_ = (dir / "prelude.pcm").string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create JIT cache folder " + dir.string() + ": " + ec.message());

  // One process at a time checks or builds a cache entry: two builders would
  // race on Clang's implicit module cache under it.
  const FileLock lock((dir / ".lock").string());
  if (fs::exists(p.module_path_) && prelude_works(config, p)) return p;

  // Build into a private temporary name, then rename: a killed build never
  // leaves a half-written module under the real name.
  write_atomically(dir / "prelude.hpp", config.prelude_text);
  write_atomically(dir / "module.modulemap",
                   "module " + std::string(kModuleName) + " {\n  header \"prelude.hpp\"\n  export *\n}\n");
  const std::string tmp = p.module_path_ + ".tmp" + std::to_string(::getpid());
  const auto t0 = std::chrono::steady_clock::now();
  DiagnosticCollector sink("prelude.hpp", 0);
  auto ci = make_instance(config,
                          {"-fmodules", module_cache_flag(dir), "-Xclang",
                           "-emit-module", "-fmodule-name=" + std::string(kModuleName), "-x", "c++",
                           (dir / "module.modulemap").string()},
                          sink);
  ci->getFrontendOpts().OutputFile = tmp;
  clang::GenerateModuleFromModuleMapAction action;
  if (!ci->ExecuteAction(action) || sink.getNumErrors()) {
    fs::remove(tmp, ec);
    throw std::runtime_error("building the JIT prelude failed: " +
                             (sink.child_.empty() ? std::string("unknown error") : sink.child_.front()));
  }
  ci.reset();
  fs::rename(tmp, p.module_path_);
  p.built_ = true;
  p.build_ms_ = ms_since(t0);
  if (!prelude_works(config, p)) throw std::runtime_error("the freshly built JIT prelude is unusable");
  return p;
}

FrontendResult compile_child(const FrontendConfig& config, const Prelude& prelude, const ChildSource& child,
                             std::size_t max_source_bytes, bool emit_ir) {
  FrontendResult result;
  auto& v = result.verdict;
  if (child.text.size() > max_source_bytes) {
    v.kind = Verdict::Kind::too_large;
    v.rule = "too_large";
    v.message = "source is " + std::to_string(child.text.size()) + " bytes, over the cap of " +
                std::to_string(max_source_bytes);
    return result;
  }

  const auto child_bytes = static_cast<unsigned>(child.text.size());
  std::string main_text = child.text + "\n#include \"" + kHarnessName + "\"\n";
  DiagnosticCollector diags(child.display_name, child_bytes);
  Policy policy(child_bytes, child.display_name);
  std::vector<std::string> args = prelude.import_args();
  args.push_back("-ferror-limit=20");
  args.push_back(kChildPath);
  if (!emit_ir) args.insert(args.begin(), "-fsyntax-only");
  auto ci = make_instance(config, args, diags);
  ci->getPreprocessorOpts().addRemappedFile(kChildPath, llvm::MemoryBuffer::getMemBufferCopy(main_text).release());
  ci->getPreprocessorOpts().addRemappedFile(kHarnessPath,
                                            llvm::MemoryBuffer::getMemBufferCopy(child.harness).release());

  result.context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<clang::EmitLLVMOnlyAction> codegen;
  if (emit_ir) {
    codegen = std::make_unique<PolicedCodeGenAction>(result.context.get(), policy);
    ci->ExecuteAction(*codegen);
  } else {
    PolicedSyntaxAction syntax(policy);
    ci->ExecuteAction(syntax);
  }

  if (!diags.child_.empty()) {
    v.kind = Verdict::Kind::compile_error;
    v.rule = "compile_error";
    v.message = diags.child_.front();
    v.diagnostics = diags.child_;
    return result;
  }
  if (!policy.violations().empty()) {
    const auto& first = policy.violations().front();
    v.kind = Verdict::Kind::policy;
    v.rule = first.rule;
    v.message = first.location + ": " + first.message;
    for (const auto& pv : policy.violations()) v.diagnostics.push_back(pv.location + ": [" + pv.rule + "] " + pv.message);
    return result;
  }
  if (!diags.harness_.empty() || diags.getNumErrors() > 0) {
    result.verdict = contract_verdict(diags.harness_, policy, child.record);
    return result;
  }
  if (emit_ir) {
    result.module = codegen->takeModule();
    if (!result.module) {
      v.kind = Verdict::Kind::compile_error;
      v.rule = "codegen";
      v.message = "code generation produced no module";
    }
  }
  return result;
}

}  // namespace evoprompt::jit
