#include "policy.hpp"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Lex/PPCallbacks.h>
#include <clang/Lex/Preprocessor.h>

#include <algorithm>

namespace evoprompt::jit {

using namespace clang;
using namespace clang::ast_matchers;

namespace {

std::string where(const SourceManager& SM, SourceLocation loc, const std::string& display_name) {
  const auto p = SM.getPresumedLoc(SM.getExpansionLoc(loc));
  if (p.isInvalid()) return "<unknown>";
  return display_name + ":" + std::to_string(p.getLine()) + ":" + std::to_string(p.getColumn());
}

// What reaches processes, files, the network, threads, dynamic loading, the
// environment, signals or serialisation. Unqualified names match any scope.
const std::vector<llvm::StringRef> kForbiddenFunctions = {
    "system", "popen", "pclose", "fork", "vfork", "clone", "execl", "execlp", "execle", "execv", "execvp",
    "execvpe", "execve", "posix_spawn", "posix_spawnp", "fopen", "freopen", "fdopen", "open", "openat",
    "creat", "remove", "rename", "unlink", "tmpfile", "mkstemp", "socket", "connect", "bind", "listen",
    "accept", "dlopen", "dlsym", "dlclose", "getenv", "secure_getenv", "setenv", "putenv", "unsetenv",
    "exit", "_exit", "_Exit", "abort", "quick_exit", "at_quick_exit", "atexit", "terminate", "signal",
    "sigaction", "raise", "kill", "pthread_create", "pthread_kill", "syscall", "mmap", "mprotect",
    "setjmp", "longjmp", "::torch::save", "::torch::load", "::torch::pickle_save", "::torch::pickle_load",
    "::torch::jit::load", "::torch::jit::save"};

const std::vector<llvm::StringRef> kForbiddenTypes = {
    "::std::thread", "::std::jthread", "::std::basic_ifstream", "::std::basic_ofstream",
    "::std::basic_fstream", "::std::basic_filebuf", "::std::ifstream", "::std::ofstream", "::std::fstream",
    "::std::filebuf", "::FILE", "::std::FILE", "::torch::serialize::InputArchive",
    "::torch::serialize::OutputArchive"};

const std::vector<llvm::StringRef> kTensorAccessors = {
    "accessor", "packed_accessor32", "packed_accessor64", "generic_packed_accessor", "unsafeGetTensorImpl",
    "unsafeReleaseTensorImpl", "unsafeReleaseIntrusivePtr", "storage", "unsafeGetStorageImpl"};

bool starts_with_harness_prefix(llvm::StringRef name) { return name.starts_with(kHarnessPrefix); }

// Static storage is allowed only for constants that cannot change:
// constexpr, or const arithmetic/enum values.
bool is_immutable(const VarDecl& var) {
  if (var.isConstexpr()) return true;
  const QualType type = var.getType();
  return type.isConstQualified() && (type->isArithmeticType() || type->isEnumeralType());
}

}  // namespace

const std::vector<std::string>& allowed_includes() {
  // <torch/torch.h> too: language models write it out of habit.
  static const std::vector<std::string> headers = {"cmath",   "vector",     "tuple",  "memory",
                                                   "string",  "algorithm",  "limits", "cstdint",
                                                   "utility", "functional", "array",  "numeric",
                                                   "torch/torch.h"};
  return headers;
}

class IncludeWatcher : public PPCallbacks {
 public:
  IncludeWatcher(Policy& policy, SourceManager& sm) : policy_(policy), sm_(sm) {}

  void InclusionDirective(SourceLocation hash, const Token&, StringRef name, bool angled, CharSourceRange,
                          OptionalFileEntryRef, StringRef, StringRef, const Module*, bool,
                          SrcMgr::CharacteristicKind) override {
    if (!policy_.in_child(sm_, hash)) return;  // the prelude, or the harness line we appended
    const std::string where_text = where(sm_, hash, policy_.display_name_);
    const auto& allowed = allowed_includes();
    if (angled && std::find(allowed.begin(), allowed.end(), name.str()) != allowed.end()) return;
    const std::string spelled = angled ? "<" + name.str() + ">" : "\"" + name.str() + "\"";
    policy_.violations_.push_back({"include", where_text, "#include " + spelled + " is not allowed"});
  }

 private:
  Policy& policy_;
  SourceManager& sm_;
};

class PolicyConsumer : public ASTConsumer {
 public:
  PolicyConsumer(Policy& policy, CompilerInstance& ci) : policy_(policy), sm_(ci.getSourceManager()) {}

  bool HandleTopLevelDecl(DeclGroupRef group) override {
    for (Decl* d : group) {
      if (!policy_.in_child(sm_, d->getLocation())) continue;
      decls_.push_back(d);
      if (const auto* rd = dyn_cast<CXXRecordDecl>(d); rd && rd->getIdentifier())
        policy_.records_.push_back(rd->getName().str());
    }
    return true;
  }

  void HandleTranslationUnit(ASTContext& ctx) override {
    for (Decl* d : decls_) check(*d, ctx);
  }

 private:
  void add(const char* rule, SourceLocation loc, std::string message) {
    PolicyViolation v{rule, where(sm_, loc, policy_.display_name_), std::move(message)};
    for (const auto& seen : policy_.violations_)
      if (seen.rule == v.rule && seen.location == v.location) return;  // one report per place and rule
    policy_.violations_.push_back(std::move(v));
  }

  template <typename M>
  void each_stmt(const M& matcher, const Decl& root, ASTContext& ctx, const std::function<void(const Stmt&)>& fn) {
    for (const auto& nodes : match(decl(forEachDescendant(stmt(matcher).bind("n"))), root, ctx))
      fn(*nodes.template getNodeAs<Stmt>("n"));
  }

  void check(const Decl& root, ASTContext& ctx) {
    if (isa<FileScopeAsmDecl>(root)) add("inline_asm", root.getLocation(), "inline assembly is not allowed");
    each_stmt(asmStmt(), root, ctx, [&](const Stmt& s) {
      add("inline_asm", s.getBeginLoc(), "inline assembly is not allowed");
    });

    const auto forbidden_fn = functionDecl(hasAnyName(kForbiddenFunctions));
    for (const auto& n : match(decl(forEachDescendant(declRefExpr(to(forbidden_fn.bind("fn"))).bind("ref"))), root, ctx))
      add("forbidden_call", n.getNodeAs<Stmt>("ref")->getBeginLoc(),
          "'" + n.getNodeAs<FunctionDecl>("fn")->getQualifiedNameAsString() + "' is not allowed");
    const auto forbidden_type = namedDecl(hasAnyName(kForbiddenTypes));
    for (const auto& n : match(decl(forEachDescendant(typeLoc(loc(qualType(hasDeclaration(forbidden_type.bind("t"))))).bind("tl"))), root, ctx))
      add("forbidden_call", n.getNodeAs<TypeLoc>("tl")->getBeginLoc(),
          "type '" + n.getNodeAs<NamedDecl>("t")->getQualifiedNameAsString() + "' is not allowed");
    each_stmt(cxxConstructExpr(hasDeclaration(cxxConstructorDecl(ofClass(hasAnyName(kForbiddenTypes))))), root, ctx,
              [&](const Stmt& s) { add("forbidden_call", s.getBeginLoc(), "constructing a forbidden type"); });

    each_stmt(cxxReinterpretCastExpr(), root, ctx, [&](const Stmt& s) {
      add("reinterpret_cast", s.getBeginLoc(), "reinterpret_cast is not allowed");
    });
    each_stmt(explicitCastExpr(unless(cxxReinterpretCastExpr()),
                               anyOf(hasCastKind(CK_BitCast), hasCastKind(CK_IntegralToPointer),
                                     hasCastKind(CK_PointerToIntegral))),
              root, ctx, [&](const Stmt& s) {
                add("reinterpret_cast", s.getBeginLoc(), "casts that reinterpret pointers are not allowed");
              });
    each_stmt(cxxConstCastExpr(), root, ctx, [&](const Stmt& s) {
      add("const_cast", s.getBeginLoc(), "const_cast is not allowed");
    });

    const auto pointer = expr(hasType(pointerType()));
    each_stmt(anyOf(binaryOperator(hasAnyOperatorName("+", "-", "+=", "-="), hasEitherOperand(pointer)),
                    unaryOperator(hasAnyOperatorName("++", "--"), hasUnaryOperand(pointer)),
                    arraySubscriptExpr(hasBase(ignoringImpCasts(pointer)))),
              root, ctx, [&](const Stmt& s) {
                add("pointer_arithmetic", s.getBeginLoc(), "pointer arithmetic is not allowed");
              });

    const auto tensor_class = cxxRecordDecl(hasAnyName("::at::Tensor", "::at::TensorBase"));
    each_stmt(cxxMemberCallExpr(callee(cxxMethodDecl(ofClass(tensor_class),
                                                     anyOf(returns(pointerType()), hasAnyName(kTensorAccessors))))),
              root, ctx, [&](const Stmt& s) {
                add("data_ptr", s.getBeginLoc(), "raw tensor memory (data_ptr, accessors) is not allowed");
              });
    each_stmt(declRefExpr(to(functionDecl(hasAnyName("::torch::from_blob", "::at::from_blob")))), root, ctx,
              [&](const Stmt& s) { add("data_ptr", s.getBeginLoc(), "from_blob is not allowed"); });

    auto check_var = [&](const VarDecl& var) {
      if (!var.hasGlobalStorage() || is_immutable(var)) return;
      const bool local = var.isStaticLocal() || var.isStaticDataMember() || var.getTLSKind() != VarDecl::TLS_None;
      add(local ? "static_local" : "mutable_global", var.getLocation(),
          "mutable " + std::string(local ? "static" : "global") + " '" + var.getNameAsString() +
              "' would leak state between children");
    };
    if (const auto* var = dyn_cast<VarDecl>(&root)) check_var(*var);
    for (const auto& n : match(decl(forEachDescendant(varDecl().bind("v"))), root, ctx))
      check_var(*n.getNodeAs<VarDecl>("v"));

    auto check_named = [&](const NamedDecl& nd) {
      if (const auto* fn = dyn_cast<FunctionDecl>(&nd); fn && fn->isMain())
        add("main", nd.getLocation(), "defining main is not allowed");
      if (nd.getIdentifier() && starts_with_harness_prefix(nd.getName()))
        add("harness_name", nd.getLocation(),
            "names starting with '" + std::string(kHarnessPrefix) + "' are reserved for the harness");
    };
    if (const auto* nd = dyn_cast<NamedDecl>(&root)) check_named(*nd);
    for (const auto& n : match(decl(forEachDescendant(namedDecl().bind("d"))), root, ctx))
      check_named(*n.getNodeAs<NamedDecl>("d"));
  }

  Policy& policy_;
  SourceManager& sm_;
  std::vector<Decl*> decls_;
};

void Policy::attach_preprocessor(CompilerInstance& CI) {
  CI.getPreprocessor().addPPCallbacks(std::make_unique<IncludeWatcher>(*this, CI.getSourceManager()));
}

std::unique_ptr<ASTConsumer> Policy::make_consumer(CompilerInstance& CI) {
  return std::make_unique<PolicyConsumer>(*this, CI);
}

bool Policy::in_child(const SourceManager& sm, SourceLocation loc) const {
  // The main file itself: isInMainFile() also accepts files it includes and
  // the predefines buffer (where -include lives).
  const SourceLocation at = sm.getExpansionLoc(loc);
  return sm.getFileID(at) == sm.getMainFileID() && sm.getFileOffset(at) < child_bytes_;
}

bool Policy::declares_record(const std::string& name) const {
  return std::find(records_.begin(), records_.end(), name) != records_.end();
}

}  // namespace evoprompt::jit
