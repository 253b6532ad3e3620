// A run's journal as plain data, for `export` (a row per child) and
// `report` (the figures of the paper and the per-round, lineage and
// per-child views). Reads only: it works on a run that is still going.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "journal.hpp"

namespace evoprompt::engine {

// Every field of a child's journal row, its prompt's parents, and its
// re-evaluation summary when it has one.
nlohmann::json child_row(const ChildRecord& child, const std::vector<std::int64_t>& parent_ids,
                         const nlohmann::json& reeval = nullptr);
// One child_row per child, in id order.
std::vector<nlohmann::json> child_rows(const Journal& journal);

// The scored children (evaluated or filtered by alpha) that no other beats
// on both used params (fewer or equal) and best validation accuracy (higher
// or equal, one strictly), fewest params first. Seeds count.
std::vector<std::int64_t> pareto_front(const std::vector<ChildRecord>& children);

// Max fitness so far after each LM sample (repairs count), in id order: over
// the seeds and the samples that entered G. Entry i is after i+1 samples.
std::vector<double> best_fitness_so_far(const std::vector<ChildRecord>& children);

// Everything `report` draws of one run, `label` naming it.
nlohmann::json run_data(const Journal& journal, const std::string& label);

}  // namespace evoprompt::engine
