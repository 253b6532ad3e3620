#include "run_data.hpp"

#include <algorithm>
#include <map>

#include "config.hpp"
#include "reeval.hpp"
#include "report.hpp"
#include "run_settings.hpp"

namespace evoprompt::engine {

using nlohmann::json;

namespace {

// A child's prompt parents: the prompt's examples, or the child it repairs.
std::map<std::int64_t, std::vector<std::int64_t>> parents_by_prompt(const Journal& journal) {
  std::map<std::int64_t, std::vector<std::int64_t>> out;
  for (const auto& p : journal.prompts()) out[p.id] = p.parent_ids;
  return out;
}

// Trained and scored, whether or not it passed the alpha filter.
bool scored(const ChildRecord& c) {
  return c.verdict == VerdictKind::evaluated || c.verdict == VerdictKind::filtered_alpha;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

}  // namespace

json child_row(const ChildRecord& c, const std::vector<std::int64_t>& parent_ids, const json& reeval) {
  json row = {{"id", c.id},
              {"round", c.round},
              {"prompt_id", c.prompt_id},
              {"sample", c.sample},
              {"kind", c.kind},
              {"name", c.name},
              {"repair_of", c.repair_of},
              {"parent_ids", parent_ids},
              {"lm", c.lm},
              {"temperature", c.temperature},
              {"prompt_tokens", c.prompt_tokens},
              {"completion_tokens", c.completion_tokens},
              {"verdict", to_string(c.verdict)},
              {"rule", c.rule},
              {"message", c.message},
              {"diagnostics", c.diagnostics},
              {"duplicate_of", c.duplicate_of},
              {"params_used", c.params_used},
              {"params_total", c.params_total},
              {"val_acc", c.val_acc},
              {"best_step", c.best_step},
              {"test_acc", c.test_acc},
              {"fitness", c.fitness},
              {"compile_ms", c.compile_ms},
              {"train_ms", c.train_ms},
              {"total_ms", c.total_ms},
              {"step_path", c.step_path},
              {"in_history", c.in_history},
              {"token_hash", c.token_hash},
              {"source", c.source},
              {"completion", c.completion}};
  row["reeval"] = reeval;
  return row;
}

std::vector<json> child_rows(const Journal& journal) {
  const auto parents = parents_by_prompt(journal);
  const auto stats = reeval_stats(journal);
  std::vector<json> out;
  for (const auto& c : journal.children()) {
    const auto p = parents.find(c.prompt_id);
    const auto s = stats.find(c.id);
    out.push_back(child_row(c, p == parents.end() ? std::vector<std::int64_t>{} : p->second,
                            s == stats.end() ? json(nullptr) : to_json(s->second)));
  }
  return out;
}

std::vector<std::int64_t> pareto_front(const std::vector<ChildRecord>& children) {
  std::vector<const ChildRecord*> evaluated;
  for (const auto& c : children)
    if (scored(c)) evaluated.push_back(&c);
  // Fewest params first, best accuracy first among equals: a child is on the
  // front when it beats the best accuracy of every smaller-or-equal one.
  std::stable_sort(evaluated.begin(), evaluated.end(), [](const ChildRecord* a, const ChildRecord* b) {
    if (a->params_used != b->params_used) return a->params_used < b->params_used;
    return a->val_acc > b->val_acc;
  });
  std::vector<std::int64_t> front;
  double best = -1.0;
  for (const ChildRecord* c : evaluated)
    if (c->val_acc > best) {
      front.push_back(c->id);
      best = c->val_acc;
    }
  return front;
}

std::vector<double> best_fitness_so_far(const std::vector<ChildRecord>& children) {
  bool have = false;
  double best = 0.0;
  for (const auto& c : children)
    if (c.kind == "seed" && c.verdict == VerdictKind::evaluated && (!have || c.fitness > best)) best = c.fitness, have = true;
  std::vector<double> curve;
  for (const auto& c : children) {
    if (c.kind == "seed" || c.verdict == VerdictKind::pending) continue;
    if (c.in_history && (!have || c.fitness > best)) best = c.fitness, have = true;
    curve.push_back(best);
  }
  return curve;
}

json run_data(const Journal& journal, const std::string& label) {
  const auto children = journal.children();
  const auto parents = parents_by_prompt(journal);
  const auto stats = reeval_stats(journal);
  const RunSummary summary = summarize(journal);

  json run;
  run["label"] = label;
  run["status"] = summary.status;
  run["budget"] = summary.budget;
  run["samples_used"] = summary.samples_used;
  run["rounds_planned"] = summary.rounds;
  const RunSettings settings = stored_run_settings(journal);
  run["task"] = settings.task.name;
  run["lm"] = settings.lm.spec;
  run["mode"] = to_string(settings.evolution.mode);
  run["search_seed"] = settings.evolution.seed;

  json rows = json::array();
  for (const auto& c : children) {
    const auto p = parents.find(c.prompt_id);
    const auto s = stats.find(c.id);
    json row = child_row(c, p == parents.end() ? std::vector<std::int64_t>{} : p->second,
                         s == stats.end() ? json(nullptr) : to_json(s->second));
    row.erase("completion");  // the page shows the extracted program
    rows.push_back(std::move(row));
  }
  run["children"] = std::move(rows);

  json top = json::array();
  for (const auto& c : summary.top) top.push_back(c.id);
  run["top"] = top;
  json reeval_top = json::array();
  for (const auto& s : summary.reeval) reeval_top.push_back(s.child_id);
  run["reeval_top"] = reeval_top;
  run["front"] = pareto_front(children);
  run["best_so_far"] = best_fitness_so_far(children);

  // Per round: verdicts over its samples, kept (entered G), fitness of the
  // kept, the LM's tokens and time, and TRAIN's report.
  std::map<std::int64_t, int> round_of_prompt;
  for (const auto& p : journal.prompts()) round_of_prompt[p.id] = p.round;
  const auto calls = journal.lm_calls();
  json rounds = json::array();
  for (const auto& r : journal.rounds()) {
    json verdicts = json::object();
    std::int64_t samples = 0, kept = 0, prompt_tokens = 0, completion_tokens = 0;
    std::vector<double> fitness;
    for (const auto& c : children) {
      if (c.kind == "seed" || c.round != r.round) continue;
      ++samples;
      verdicts[to_string(c.verdict)] = verdicts.value(to_string(c.verdict), 0) + 1;
      if (c.in_history) ++kept, fitness.push_back(c.fitness);
    }
    double lm_ms = 0.0;
    for (const auto& call : calls) {
      const auto it = round_of_prompt.find(call.prompt_id);
      if (it == round_of_prompt.end() || it->second != r.round) continue;
      lm_ms += call.ms;
      prompt_tokens += call.prompt_tokens;
      completion_tokens += call.completion_tokens;
    }
    json tune = r.tune.empty() ? json::object() : json::parse(r.tune, nullptr, false);
    if (tune.is_discarded()) tune = json::object();
    tune.erase("state");
    rounds.push_back({{"round", r.round},
                      {"finished", r.finished},
                      {"parents", r.parent_pool},
                      {"selected", journal.selections(r.round)},
                      {"samples", samples},
                      {"verdicts", verdicts},
                      {"kept", kept},
                      {"best_fitness", fitness.empty() ? json(nullptr) : json(*std::max_element(fitness.begin(), fitness.end()))},
                      {"median_fitness", fitness.empty() ? json(nullptr) : json(median(fitness))},
                      {"lm_ms", lm_ms},
                      {"prompt_tokens", prompt_tokens},
                      {"completion_tokens", completion_tokens},
                      {"tune", tune}});
  }
  run["rounds"] = rounds;
  return run;
}

}  // namespace evoprompt::engine
