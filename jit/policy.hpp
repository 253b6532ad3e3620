// The AST safety policy for children: what machine-written code may not do,
// checked on Clang's AST before any code is generated.
#pragma once

#include <clang/Basic/SourceLocation.h>

#include <memory>
#include <string>
#include <vector>

namespace clang {
class ASTConsumer;
class CompilerInstance;
class SourceManager;
}  // namespace clang

namespace evoprompt::jit {

struct PolicyViolation {
  std::string rule;      // e.g. "forbidden_call"
  std::string location;  // "file:line:col"
  std::string message;
};

// Headers a child may #include: all are in the prelude already, so including
// them changes nothing. Everything else is denied.
const std::vector<std::string>& allowed_includes();

// Reserved for the harness: children may not define names with this prefix.
constexpr const char* kHarnessPrefix = "evoprompt_";

class Policy {
 public:
  // The child is the first `child_bytes` of the main file; what follows (the
  // harness include) and other files (the prelude) are not checked. Offsets,
  // not presumed names, decide this: a child's #line cannot move itself out.
  Policy(unsigned child_bytes, std::string display_name)
      : child_bytes_(child_bytes), display_name_(std::move(display_name)) {}

  // Watches #include directives of `CI`'s main file; call before parsing.
  void attach_preprocessor(clang::CompilerInstance& CI);

  // An AST consumer that checks the main file's top-level declarations once
  // the translation unit is complete.
  std::unique_ptr<clang::ASTConsumer> make_consumer(clang::CompilerInstance& CI);

  const std::vector<PolicyViolation>& violations() const { return violations_; }

  // True when the translation unit declares a record named `name` at file scope.
  bool declares_record(const std::string& name) const;

  // True for locations in the child's own text.
  bool in_child(const clang::SourceManager& sm, clang::SourceLocation loc) const;

 private:
  friend class PolicyConsumer;
  friend class IncludeWatcher;
  unsigned child_bytes_;
  std::string display_name_;  // the child file's name in locations
  std::vector<PolicyViolation> violations_;
  std::vector<std::string> records_;
};

}  // namespace evoprompt::jit
