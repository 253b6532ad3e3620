// MNIST-1D (Greydanus 2020): children are `struct Model` classifiers of 40-
// sample signals, trained under the paper's protocol (AdamW, 8000 steps).
#pragma once

#include <cstdint>
#include <string>

#include "tasks/task.hpp"

namespace evoprompt {

struct Mnist1dEvaluatorOptions {
  std::string data_dir;             // empty: $EVOPROMPT_MNIST1D_DIR, else the generator
  std::int64_t steps = 8000;
  std::int64_t batch_size = 128;
  double lr = 0.01;
  double weight_decay = 1e-4;
  std::int64_t eval_every = 250;
  std::uint32_t seed = 0;           // model init and batch order, the same for every child
  std::int64_t val_size = 500;
  std::uint32_t split_seed = 42;
  std::string init = "flax";
  std::string device = "auto";
  std::string cuda_graph = "on";    // on a GPU: the training step captured once and replayed
  int threads = 0;                  // 0: libtorch's default
  std::string cache_dir;            // prelude cache; empty: the user cache
  std::string weights_dir;          // non-empty: each child's best weights as DIR/<name>.safetensors
  double gpu_memory_fraction = 0.0; // CUDA caching-allocator cap (0: none); a worker's GPU memory limit
};

namespace tasks {

const OptionTable<Mnist1dEvaluatorOptions>& mnist1d_option_table();
// Throws std::invalid_argument naming the first bad setting.
void validate(const Mnist1dEvaluatorOptions& options);

class Mnist1dTask : public Task {
 public:
  std::string usage() const override { return "mnist1d"; }
  std::optional<nlohmann::json> match(const std::string& name) const override;
  std::string name_of(const nlohmann::json&) const override { return "mnist1d"; }
  const std::vector<OptionField>& options() const override { return mnist1d_option_table().fields(); }
  nlohmann::json checked(const nlohmann::json& options) const override;
  ChildContract contract() const override;
  nlohmann::json preset(const std::string& name) const override;
  std::vector<SeedSource> seeds(const nlohmann::json& options) const override;
  std::unique_ptr<Evaluator> make_evaluator(const nlohmann::json& options, EvaluatorHooks hooks) const override;
  CompileCheck check_child(const std::string& source, const std::string& name) const override;  // in the evaluator's file
};

}  // namespace tasks

// In this process, on the JIT (mnist1d_evaluator.cpp). Throws
// std::invalid_argument for bad options and std::runtime_error when the
// data or the JIT cannot be set up.
std::unique_ptr<Evaluator> make_mnist1d_evaluator(const Mnist1dEvaluatorOptions& options,
                                                  std::function<void(double)> on_compiled = {});

}  // namespace evoprompt
