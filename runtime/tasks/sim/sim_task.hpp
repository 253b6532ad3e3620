// `--task sim`: a stand-in for a child, for benchmarks of the search's own
// machinery (bench/pipeline.sh). Its evaluator compiles and trains nothing:
// it sleeps for a duration drawn from the child's tokens and the seed, and
// scores the child from the same draw. Children are MNIST-1D programs, so
// `--lm mutate` and the MNIST-1D seeds work unchanged.
#pragma once

#include <cstdint>
#include <string>

#include "tasks/task.hpp"

namespace evoprompt {

struct SimEvaluatorOptions {
  double child_seconds = 1.0;  // the mean of a child's duration (uniform over 0.5x .. 1.5x)
  std::uint32_t seed = 0;
  std::string device = "cpu";
  int threads = 0;
  std::string weights_dir;           // every task has it; nothing is written
  double gpu_memory_fraction = 0.0;  // every task has it; nothing runs on a GPU
};

namespace tasks {

const OptionTable<SimEvaluatorOptions>& sim_option_table();

class SimTask : public Task {
 public:
  std::string usage() const override { return "sim"; }
  std::optional<nlohmann::json> match(const std::string& name) const override;
  std::string name_of(const nlohmann::json&) const override { return "sim"; }
  const std::vector<OptionField>& options() const override { return sim_option_table().fields(); }
  nlohmann::json checked(const nlohmann::json& options) const override;
  ChildContract contract() const override;
  nlohmann::json preset(const std::string& name) const override;
  std::vector<SeedSource> seeds(const nlohmann::json& options) const override;
  std::unique_ptr<Evaluator> make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const override;
  CompileCheck check_child(const std::string& source, const std::string& name) const override;
};

}  // namespace tasks

// The duration and the scores of one simulated child, from its token
// stream's fingerprint and the seed: equal for equal children.
struct SimChild {
  double seconds = 0.0;
  std::int64_t params = 0;
  double val_acc = 0.0;
};
SimChild simulate_child(const std::string& fingerprint, std::uint32_t seed, double mean_seconds);

}  // namespace evoprompt
