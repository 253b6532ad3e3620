#include "verdict.hpp"

#include <array>
#include <utility>

namespace evoprompt {
namespace {

constexpr std::array<std::pair<VerdictKind, const char*>, 14> kNames{{
    {VerdictKind::accepted, "accepted"},
    {VerdictKind::too_large, "too_large"},
    {VerdictKind::compile_error, "compile_error"},
    {VerdictKind::policy, "policy"},
    {VerdictKind::contract, "contract"},
    {VerdictKind::runtime_error, "runtime_error"},
    {VerdictKind::evaluated, "evaluated"},
    {VerdictKind::crash, "crash"},
    {VerdictKind::timeout, "timeout"},
    {VerdictKind::oom, "oom"},
    {VerdictKind::pending, "pending"},
    {VerdictKind::filtered_alpha, "filtered_alpha"},
    {VerdictKind::duplicate, "duplicate"},
    {VerdictKind::lm_error, "lm_error"},
}};

}  // namespace

const char* to_string(VerdictKind kind) {
  for (const auto& [k, name] : kNames)
    if (k == kind) return name;
  return "unknown";
}

std::optional<VerdictKind> verdict_from_string(std::string_view name) {
  for (const auto& [k, n] : kNames)
    if (name == n) return k;
  return std::nullopt;
}

}  // namespace evoprompt
