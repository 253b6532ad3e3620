// The noise-robust answer (`evolve --reeval K`, `reeval RUN --k K`): the
// final top p re-trained with K more training seeds, each re-training a
// journal row, the answer ranked by mean fitness. Off by default: the
// paper's answer is the single run.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "evaluator.hpp"
#include "journal.hpp"

namespace evoprompt::engine {

// Over a child's first training and its evaluated re-trainings.
struct ReevalStats {
  std::int64_t child_id = 0;
  int trainings = 0;
  double val_mean = 0.0, val_sd = 0.0;
  double test_mean = 0.0, test_sd = 0.0;
  double fitness_mean = 0.0, fitness_sd = 0.0;
};

// {"trainings", "val_mean", "val_sd", "test_mean", ..., "fitness_sd"}.
nlohmann::json to_json(const ReevalStats& stats);

// Every child with re-evaluation rows; sd is the sample sd (0 for one value).
std::map<std::int64_t, ReevalStats> reeval_stats(const Journal& journal);

// The re-evaluated children, highest mean fitness first (ties: earlier id).
std::vector<ReevalStats> ranked_by_mean(const Journal& journal);

// Re-trains `children` with training seeds base_seed+1 .. base_seed+k,
// skipping the rows the journal already holds. `evaluator_for(seed,
// weights_dir)` gives an evaluator training with that seed and writing each
// child's best-validation weights as `weights_dir/<name>.safetensors`.
using SeededEvaluatorFactory =
    std::function<std::unique_ptr<Evaluator>(std::int64_t train_seed, const std::string& weights_dir)>;
void reevaluate(Journal& journal, const std::string& run_dir, const std::vector<ChildRecord>& children, int k,
                std::int64_t base_seed, const SeededEvaluatorFactory& evaluator_for,
                const std::function<void(const ReevalRecord&)>& on_row = {});

}  // namespace evoprompt::engine
