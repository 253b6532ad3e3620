#include "reeval.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "population.hpp"

namespace evoprompt::engine {
namespace {

void mean_sd(const std::vector<double>& v, double& mean, double& sd) {
  mean = 0.0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}

}  // namespace

nlohmann::json to_json(const ReevalStats& s) {
  return {{"trainings", s.trainings},   {"val_mean", s.val_mean},   {"val_sd", s.val_sd},
          {"test_mean", s.test_mean},   {"test_sd", s.test_sd},     {"fitness_mean", s.fitness_mean},
          {"fitness_sd", s.fitness_sd}};
}

std::map<std::int64_t, ReevalStats> reeval_stats(const Journal& journal) {
  std::map<std::int64_t, std::vector<ReevalRecord>> rows;
  for (auto& r : journal.reevals()) rows[r.child_id].push_back(std::move(r));
  std::map<std::int64_t, ReevalStats> out;
  for (const auto& [id, list] : rows) {
    const auto child = journal.child(id);
    if (!child) continue;
    std::vector<double> val, test, fit;
    if (child->verdict == VerdictKind::evaluated) {
      val.push_back(child->val_acc);
      test.push_back(child->test_acc);
      fit.push_back(child->fitness);
    }
    for (const auto& r : list)
      if (r.verdict == VerdictKind::evaluated) {
        val.push_back(r.val_acc);
        test.push_back(r.test_acc);
        fit.push_back(r.fitness);
      }
    if (val.empty()) continue;
    ReevalStats s;
    s.child_id = id;
    s.trainings = static_cast<int>(val.size());
    mean_sd(val, s.val_mean, s.val_sd);
    mean_sd(test, s.test_mean, s.test_sd);
    mean_sd(fit, s.fitness_mean, s.fitness_sd);
    out[id] = s;
  }
  return out;
}

std::vector<ReevalStats> ranked_by_mean(const Journal& journal) {
  std::vector<ReevalStats> out;
  for (const auto& [id, s] : reeval_stats(journal)) out.push_back(s);
  std::stable_sort(out.begin(), out.end(), [](const ReevalStats& a, const ReevalStats& b) {
    if (a.fitness_mean != b.fitness_mean) return a.fitness_mean > b.fitness_mean;
    return a.child_id < b.child_id;
  });
  return out;
}

void reevaluate(Journal& journal, const std::string& run_dir, const std::vector<ChildRecord>& children, int k,
                std::int64_t base_seed, const SeededEvaluatorFactory& evaluator_for,
                const std::function<void(const ReevalRecord&)>& on_row) {
  std::set<std::pair<std::int64_t, int>> done;
  for (const auto& r : journal.reevals()) done.insert({r.child_id, r.k});
  for (int j = 1; j <= k; ++j) {
    std::vector<const ChildRecord*> pending;
    for (const auto& c : children)
      if (!done.count({c.id, j})) pending.push_back(&c);
    if (pending.empty()) continue;
    const std::string relative = "weights/k" + std::to_string(j);
    const std::filesystem::path dir = std::filesystem::path(run_dir) / relative;
    std::filesystem::create_directories(dir);
    const std::int64_t seed = base_seed + j;
    const auto evaluator = evaluator_for(seed, dir.string());
    std::vector<EvaluationJob> jobs;
    for (const ChildRecord* c : pending) jobs.push_back({c->source, c->name});
    evaluator->evaluate_many(jobs, [&](std::size_t i, const ChildResult& result) {
      const ChildRecord& c = *pending[i];
      ReevalRecord row;
      row.child_id = c.id;
      row.k = j;
      row.train_seed = seed;
      row.verdict = result.verdict;
      row.message = result.message;
      row.params_used = result.params_used;
      if (result.evaluated()) {
        row.val_acc = result.best_val_acc;
        row.test_acc = result.test_acc;
        row.fitness = fitness(result.params_used, result.best_val_acc);
      }
      const std::string file = relative + "/" + c.name + ".safetensors";
      if (result.evaluated() && std::filesystem::exists(std::filesystem::path(run_dir) / file)) row.weights = file;
      journal.record_reeval(row);
      if (on_row) on_row(row);
    });
  }
}

}  // namespace evoprompt::engine
