// The data the models train and test on: the official CLRS-30 splits, and
// the on-the-fly training data of Ibarz et al. 2022 (clrs/examples/run.py).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clrs/batch.hpp"
#include "clrs/samplers.hpp"
#include "clrs/spec.hpp"
#include "numpy_random.hpp"

namespace evoprompt::clrs {

// The official split of one algorithm (dataset.py): clrs30_num_samples()
// samples, drawn one after another from Sampler(algorithm, seed, length) with
// default kwargs: train 1000 at n = 16 (seed 1), val 32 x multiplier at 16
// (seed 2), test 32 x multiplier at 64 (seed 3).
class SplitSampler {
 public:
  // `seed` < 0: the split's official seed.
  SplitSampler(const std::string& algorithm, const std::string& split, std::int64_t seed = -1);

  std::int64_t size() const { return size_; }
  std::int64_t index() const { return index_; }  // of the next sample
  bool done() const { return index_ >= size_; }
  Sample next();  // throws std::out_of_range once done()

 private:
  Sampler sampler_;
  std::int64_t size_, index_ = 0;
};

// The first `limit` samples of the split (all of them for limit < 0).
std::vector<Sample> clrs30_dataset(const std::string& algorithm, const std::string& split, std::int64_t limit = -1);

// run.py's defaults for Ibarz et al. 2022 ("A Generalist Neural Algorithmic
// Learner"), the Triplet-GMPNN baseline.
struct TrainingSettings {
  std::vector<std::int64_t> train_lengths{4, 7, 11, 13, 16};  // one sampler each, cycled per batch
  std::int64_t length_needle = -8;  // matchers: needle length uniform in 1..8 (0: the sampler default)
  std::uint32_t seed = 42;          // the master RandomState
  std::int64_t batch_size = 32;
  std::int64_t val_batch_size = 32;
  bool random_pos = true;             // train and val; test keeps i/n
  bool enforce_pred_as_input = true;  // for pred_as_input_algorithm()s
  bool enforce_permutations = true;
  // The on-the-fly sampler first draws 1000 samples (from its own stream) to
  // estimate the longest trajectory, and pads every batch to at least it.
  bool track_max_steps = true;
  std::int64_t warmup_samples = 1000;
};

struct SamplerSetup {
  std::int64_t length = 0;
  std::uint32_t seed = 0;
  nlohmann::json kwargs = nlohmann::json::object();  // only what the sampler class accepts
  std::int64_t num_samples = -1;                     // -1: on the fly
};

struct TrainingSetup {
  std::vector<SamplerSetup> train;  // one per train length
  SamplerSetup val;                 // a fixed set of 64 x multiplier samples
  // Test: the official CLRS-30 test split (SplitSampler(algorithm, "test")).
};

// How run.py builds the samplers of `algorithm`:
// - the string matchers use one train length, max(train_lengths) * 5 / 4
//   (20), with length_needle; the others one sampler per train length;
// - p (for the graph samplers) is the tuple 0.1 + 0.1 i, i = 0..8, halved for
//   articulation_points, bridges and mst_kruskal; kwargs a sampler class does
//   not accept are dropped (as build_sampler does);
// - each sampler's seed is RandomState(seed).randint(2**32), drawn in order:
//   the train samplers, then val; test uses the stored dataset (no draw);
// - val: num_samples = 32 * 2 * multiplier, length = max of the train lengths
//   (20 for the matchers, as in the paper-era code; see datasets.md B.6).
TrainingSetup ibarz_setup(const std::string& algorithm, const TrainingSettings& settings = {});

// The training / validation stream of run.py for one algorithm. One master
// RandomState(seed) draws the sampler seeds and then, batch after batch, the
// random `pos` of train and val batches (so their interleaving matters, as
// upstream).
class TrainingData {
 public:
  explicit TrainingData(const std::string& algorithm, const TrainingSettings& settings = {});

  // The next train batch: batch_size fresh samples from the next train sampler
  // (cycling), padded to at least that sampler's max steps, then random pos,
  // pred-as-input and permutations.
  Batch next_train();
  // A val batch: val_batch_size samples drawn with replacement (the val
  // sampler's rng.choice) from the fixed val set, padded to the set's max T.
  // The set is generated on first use.
  Batch next_val();
  const std::vector<Sample>& val_set();
  // Held-out samples (the test split) with the same post-processing as train
  // and val batches, but no random pos (test keeps i/n), as run.py.
  Batch make_eval_batch(const std::vector<Sample>& samples) const;

  const TrainingSetup& setup() const { return setup_; }
  const TrainingSettings& settings() const { return settings_; }
  AlgorithmSpec spec() const;  // after the post-processing
  std::int64_t max_steps(std::size_t train_sampler) const { return max_steps_.at(train_sampler); }
  NumpyRandom& master_rng() { return master_; }

 private:
  BatchOptions options(std::int64_t min_steps) const;

  std::string algorithm_;
  TrainingSettings settings_;
  TrainingSetup setup_;
  NumpyRandom master_;
  std::vector<Sampler> train_;
  std::vector<std::int64_t> max_steps_;
  std::size_t cursor_ = 0;
  Sampler val_sampler_;
  std::vector<Sample> val_;
  std::int64_t val_max_steps_ = 0;
};

}  // namespace evoprompt::clrs
