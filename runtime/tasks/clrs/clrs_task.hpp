// CLRS-30 (Velickovic et al. 2022): children are triplet functions
// (`struct Triplet`) inside Triplet-GMPNN, trained on one algorithm under
// Ibarz et al.'s protocol. Fitness uses the best val score; test is OOD
// (n = 64). One task per algorithm: clrs:bfs, clrs:quickselect, ...
#pragma once

#include <cstdint>
#include <string>

#include "tasks/task.hpp"

namespace evoprompt {

struct ClrsEvaluatorOptions {
  std::string algorithm = "bfs";
  std::int64_t steps = 2000;        // the paper's search; 10,000 for the baseline
  std::int64_t batch_size = 32;
  double lr = 1e-3;
  std::int64_t eval_every = 50;
  std::uint32_t seed = 42;          // data stream and model init, the same for every child
  std::int64_t hidden = 128;
  std::int64_t nb_triplet_fts = 8;
  std::int64_t test_samples = -1;   // first samples of the n = 64 test split; -1: all
  std::string device = "auto";
  int threads = 0;
  std::string cache_dir;
  std::string weights_dir;  // non-empty: each child's best weights as DIR/<name>.safetensors
  double gpu_memory_fraction = 0.0;
};

namespace tasks {

const OptionTable<ClrsEvaluatorOptions>& clrs_option_table();
// Throws std::invalid_argument naming the first bad setting.
void validate(const ClrsEvaluatorOptions& options);

class ClrsTask : public Task {
 public:
  std::string usage() const override { return "clrs:ALGORITHM"; }
  std::optional<nlohmann::json> match(const std::string& name) const override;
  std::string name_of(const nlohmann::json& options) const override;
  const std::vector<OptionField>& options() const override { return clrs_option_table().fields(); }
  nlohmann::json checked(const nlohmann::json& options) const override;
  ChildContract contract() const override;
  nlohmann::json preset(const std::string& name) const override;
  std::vector<SeedSource> seeds(const nlohmann::json& options) const override;
  std::unique_ptr<Evaluator> make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const override;
  CompileCheck check_child(const std::string& source, const std::string& name) const override;  // in the evaluator's file
};

}  // namespace tasks

// In this process, on the JIT (clrs_evaluator.cpp).
std::unique_ptr<Evaluator> make_clrs_evaluator(const ClrsEvaluatorOptions& options,
                                               std::function<void(double)> on_compiled = {},
                                               TrainingProgress on_progress = {});

}  // namespace evoprompt
