// One CLRS-30 run under Ibarz et al.'s single-task protocol (run.py,
// datasets.md B.8): Triplet-GMPNN with a given triplet function, trained on
// the on-the-fly n <= 16 stream, validated every eval_every steps, and the
// best-validation checkpoint scored on the n = 64 test split (OOD).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <torch/torch.h>

#include "clrs_model/clrs_model.hpp"

namespace evoprompt::clrs {

struct ClrsTrainOptions {
  std::string algorithm = "bfs";
  std::int64_t steps = 10000;      // the baseline; the paper's search uses 2000
  std::int64_t batch_size = 32;
  double lr = 1e-3;                // Adam
  double clip_norm = 1.0;          // by global norm
  std::int64_t eval_every = 50;    // validation after updates 0, eval_every, ...
  std::uint32_t seed = 42;         // the data stream's master seed and the model init
  std::int64_t hidden = 128;
  std::int64_t nb_triplet_fts = 8;
  std::int64_t test_samples = -1;  // the first samples of the test split; -1: all (32 x multiplier)
  std::int64_t test_batch_size = 32;
  torch::Device device = torch::kCPU;
  std::string checkpoint_path;     // non-empty: the best-val weights written there as safetensors

  void validate() const;  // throws std::invalid_argument naming the bad option
};

struct ClrsTrainResult {
  std::int64_t params_used = 0;   // Haiku's count: the model, and the triplet parameters its output depends on
  std::int64_t params_total = 0;  // every registered parameter
  double best_val_score = 0.0;    // mean of the output metrics on the val set, 0..1
  std::int64_t best_step = 0;
  double test_score = 0.0;        // OOD (n = 64), at the best-val checkpoint
  std::map<std::string, double> test_metrics;  // per output, and "score"
  double first_loss = 0.0, final_loss = 0.0;
  std::int64_t steps = 0;
  double train_s = 0.0;           // inside training updates only
  double wall_s = 0.0;            // everything, data and test included
  double steps_per_s() const { return train_s > 0.0 ? static_cast<double>(steps) / train_s : 0.0; }
};

// Haiku's parameter count (a parameter exists once its module is called):
// every parameter of the fixed model, and those of the triplet function its
// output depends on. Unlike a gradient test, a triplet whose edge latents no
// decoder reads (activity_selector) still counts, as in the paper's table.
std::int64_t haiku_parameter_count(ClrsModel& model, torch::Device device = torch::kCPU);

// Called after each validation: (update index, its training loss, val score).
using ClrsProgress = std::function<void(std::int64_t step, double loss, double val_score)>;

// Throws for errors of the triplet function (std::exception, c10::Error);
// the evaluator turns them into verdicts.
ClrsTrainResult train_clrs(const TripletFactory& triplet, const ClrsTrainOptions& options,
                           const ClrsProgress& progress = {});

}  // namespace evoprompt::clrs
