// What a run folder says about its run: budget used, verdict counts, the
// seeds and the top-p table. `show` prints it; `evolve` ends with it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "journal.hpp"
#include "reeval.hpp"

namespace evoprompt::engine {

struct RunSummary {
  std::string status;                  // running | finished | interrupted | failed
  std::int64_t budget = 0;
  std::int64_t samples_used = 0;       // LM samples and repairs, whatever became of them
  int rounds_finished = 0;
  int rounds = 0;
  std::map<VerdictKind, std::int64_t> verdicts;  // over samples and repairs
  std::vector<ChildRecord> seeds;      // fittest first
  std::vector<ChildRecord> top;        // the archive's top p, fittest first
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::vector<WorkerRecord> workers;
  // `reeval`: the re-trained children, highest mean fitness first, and
  // their names (empty without reeval).
  std::vector<ReevalStats> reeval;
  std::map<std::int64_t, std::string> names;
};

RunSummary summarize(const Journal& journal);

// Every child that entered G, fittest first (ties: earlier first).
std::vector<ChildRecord> ranked_archive(const Journal& journal);

}  // namespace evoprompt::engine
