#include "report.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config.hpp"

namespace evoprompt::engine {
namespace {
bool fitter_row(const ChildRecord& a, const ChildRecord& b) {
  if (a.fitness != b.fitness) return a.fitness > b.fitness;
  return a.id < b.id;
}
}  // namespace

std::vector<ChildRecord> ranked_archive(const Journal& journal) {
  std::vector<ChildRecord> all;
  for (auto& c : journal.children())
    if (c.in_history) all.push_back(std::move(c));
  std::stable_sort(all.begin(), all.end(), fitter_row);
  return all;
}

RunSummary summarize(const Journal& journal) {
  RunSummary s;
  s.status = journal.meta("status").value_or("unknown");
  int survivors = 10;
  if (const auto text = journal.meta("evolution")) {
    const EvolutionConfig config = evolution_config_from_json(nlohmann::json::parse(*text));
    s.budget = config.budget();
    s.rounds = config.mode == Mode::naive ? 1 : config.rounds;
    survivors = config.survivors;
  }
  for (const auto& r : journal.rounds()) s.rounds_finished += r.finished ? 1 : 0;
  for (auto& c : journal.children()) {
    if (c.kind == "seed") {
      s.seeds.push_back(std::move(c));
      continue;
    }
    ++s.samples_used;
    ++s.verdicts[c.verdict];
    s.prompt_tokens += c.prompt_tokens;
    s.completion_tokens += c.completion_tokens;
  }
  std::stable_sort(s.seeds.begin(), s.seeds.end(), [](const ChildRecord& a, const ChildRecord& b) {
    if (a.verdict != b.verdict) return a.verdict == VerdictKind::evaluated;
    return fitter_row(a, b);
  });
  s.top = ranked_archive(journal);
  s.workers = journal.workers();
  s.reeval = ranked_by_mean(journal);
  for (const auto& r : s.reeval) s.names[r.child_id] = journal.child(r.child_id)->name;
  if (s.top.size() > static_cast<std::size_t>(survivors)) s.top.resize(static_cast<std::size_t>(survivors));
  return s;
}

}  // namespace evoprompt::engine
