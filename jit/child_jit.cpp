#include "child_jit.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "frontend.hpp"
#include "orc_engine.hpp"

namespace evoprompt::jit {

struct ChildJit::Impl {
  JitOptions options;
  FrontendConfig frontend;
  Prelude prelude;
  OrcEngine engine;
};

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

ChildSource child_source(const ChildRequest& r) { return ChildSource{r.source, r.display_name, r.record, r.harness}; }

}  // namespace

std::string default_cache_dir() {
  if (const char* dir = std::getenv("EVOPROMPT_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/evoprompt";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/evoprompt";
  return "/tmp/evoprompt-cache-" + std::to_string(::getuid());
}

ChildJit::ChildJit(JitOptions options) {
  FrontendConfig config{options.clang_path, options.flags, options.prelude_text, options.cache_salt};
  const std::string dir = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  Prelude prelude = Prelude::load_or_build(config, dir);
  impl_ = std::make_unique<Impl>();
  impl_->options = std::move(options);
  impl_->frontend = std::move(config);
  impl_->prelude = std::move(prelude);
}

ChildJit::~ChildJit() = default;

CompileOutcome ChildJit::compile(const ChildRequest& request) {
  CompileOutcome out;
  auto t0 = std::chrono::steady_clock::now();
  auto fe = compile_child(impl_->frontend, impl_->prelude, child_source(request),
                          impl_->options.max_source_bytes, /*emit_ir=*/true);
  out.frontend_ms = elapsed_ms(t0);
  out.verdict = std::move(fe.verdict);
  if (!out.verdict.accepted()) return out;

  t0 = std::chrono::steady_clock::now();
  auto loaded = impl_->engine.load(std::move(fe.context), std::move(fe.module), request.entry_points);
  out.link_ms = elapsed_ms(t0);
  if (!loaded.code) {
    out.verdict.kind = Verdict::Kind::compile_error;
    out.verdict.rule = "unresolved_symbol";
    out.verdict.message = loaded.error;
    out.verdict.diagnostics = {loaded.error};
    return out;
  }
  out.code = std::move(loaded.code);
  return out;
}

Verdict ChildJit::check(const ChildRequest& request) {
  return compile_child(impl_->frontend, impl_->prelude, child_source(request),
                       impl_->options.max_source_bytes, /*emit_ir=*/false)
      .verdict;
}

const std::string& ChildJit::prelude_path() const { return impl_->prelude.module_path(); }

std::vector<std::string> ChildJit::prelude_args() const { return impl_->prelude.import_args(); }

double ChildJit::prelude_build_ms() const { return impl_->prelude.build_ms(); }

void* entry_point(const LoadedCode& code, const std::string& name) { return code.symbol(name); }

}  // namespace evoprompt::jit
