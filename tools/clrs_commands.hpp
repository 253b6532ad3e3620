// CLRS-30 runs of triplet functions from the command line: `clrs eval FILE`
// (one triplet function over several algorithms) and `seeds --task clrs:ALGO`
// (the paper's 14 triplet functions on one algorithm). Every function runs in
// a supervised worker (it may be hostile); torch-free.
#pragma once

#include <string>
#include <vector>

#include "tasks/clrs/clrs_task.hpp"
#include "evolution.hpp"
#include "worker_pool.hpp"

namespace evoprompt::cli {

struct ClrsRunFlags {
  ClrsEvaluatorOptions options;  // algorithm: set per run
  WorkerLimits limits;
  int workers = 0;               // 0: the default rule
  bool json = false;
};

// Trains `source` on each algorithm and prints its OOD (n = 64) score next
// to the Triplet-GMPNN baseline of Ibarz et al. Returns the exit code: 0 when
// every algorithm was evaluated, 1 otherwise.
int run_clrs_eval(const std::string& source, const std::string& name, const std::vector<std::string>& algorithms,
                  const ClrsRunFlags& flags);

// Trains each program on options.algorithm in parallel workers and prints a
// row per program as it finishes. Returns 0 when all were evaluated, else 1.
int run_clrs_seeds(const std::vector<engine::SeedProgram>& programs, const ClrsRunFlags& flags);

// "a,b c" -> {"a", "b", "c"}; "all": the 30. Throws UsageError for a name
// outside CLRS-30.
std::vector<std::string> parse_algorithms(const std::vector<std::string>& items);

}  // namespace evoprompt::cli
