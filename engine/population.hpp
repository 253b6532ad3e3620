// G, the global history of Algorithm 1, with GETTOP's retirement rule, and
// the archive of everything that ever entered G (for reporting).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace evoprompt::engine {

struct Individual {
  std::int64_t id = 0;  // the child's journal id
  std::string name;
  std::string code;
  std::int64_t params = 0;   // used params
  double val_acc = 0.0;      // best validation accuracy
  double fitness = 0.0;      // -(params x (1 - val_acc))
};

// FITNESS = -(num params x validation error), validation error = 1 - best val accuracy.
double fitness(std::int64_t params, double best_val_acc);

// Fittest first; ties go to the earlier child.
bool fitter(const Individual& a, const Individual& b);

class Population {
 public:
  void add(const Individual& individual);  // G <- G + c
  // GETTOP(G, p): the p fittest not yet retired. They are retired: they
  // can never be chosen as parents again.
  std::vector<Individual> get_top(std::size_t p);
  // The random-parents ablation: p drawn uniformly without replacement
  // from those not yet retired, then retired.
  std::vector<Individual> draw_random(std::size_t p, std::mt19937_64& rng);

  std::size_t selectable() const { return live_.size(); }
  // The top p of everything that entered G, retired or not: the answer.
  std::vector<Individual> archive_top(std::size_t p) const;
  const std::vector<Individual>& archive() const { return archive_; }

 private:
  std::vector<Individual> live_;
  std::vector<Individual> archive_;
};

}  // namespace evoprompt::engine
