#include "clrs/training.hpp"

#include <algorithm>
#include <stdexcept>

namespace evoprompt::clrs {

SplitSampler::SplitSampler(const std::string& algorithm, const std::string& split, std::int64_t seed)
    : sampler_(algorithm, seed < 0 ? clrs30_split(split).seed : static_cast<std::uint32_t>(seed),
               clrs30_split(split).length),
      size_(clrs30_num_samples(split, algorithm)) {}

Sample SplitSampler::next() {
  if (done()) throw std::out_of_range("clrs: the split has only " + std::to_string(size_) + " samples");
  ++index_;
  return sampler_.next();
}

std::vector<Sample> clrs30_dataset(const std::string& algorithm, const std::string& split, std::int64_t limit) {
  SplitSampler s(algorithm, split);
  const auto n = limit < 0 ? s.size() : std::min(limit, s.size());
  std::vector<Sample> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) out.push_back(s.next());
  return out;
}

namespace {

bool is_matcher(const std::string& algorithm) {
  return algorithm == "naive_string_matcher" || algorithm == "kmp_matcher";
}

// run.py's sampler_kwargs, less what the sampler class does not accept.
nlohmann::json ibarz_kwargs(const std::string& algorithm, const TrainingSettings& s) {
  const auto& defaults = builtin_spec(algorithm).sampler_default_kwargs;
  const bool halve = algorithm == "articulation_points" || algorithm == "bridges" || algorithm == "mst_kruskal";
  nlohmann::json p = nlohmann::json::array();
  for (int i = 0; i < 9; ++i) {
    const double v = 0.1 + 0.1 * i;  // the same doubles as Python's 0.1 + 0.1 * i
    p.push_back(halve ? v / 2 : v);
  }
  nlohmann::json kw = nlohmann::json::object();
  if (defaults.contains("p")) kw["p"] = p;
  if (defaults.contains("length_needle") && s.length_needle != 0) kw["length_needle"] = s.length_needle;
  return kw;
}

}  // namespace

TrainingSetup ibarz_setup(const std::string& algorithm, const TrainingSettings& s) {
  const auto& spec = builtin_spec(algorithm);
  if (s.train_lengths.empty()) throw std::invalid_argument("clrs: no train lengths");
  for (auto l : s.train_lengths)
    if (l < 1) throw std::invalid_argument("clrs: train lengths must be positive");
  std::vector<std::int64_t> lengths = s.train_lengths;
  if (is_matcher(algorithm)) lengths = {*std::max_element(lengths.begin(), lengths.end()) * 5 / 4};
  NumpyRandom master(s.seed);
  const auto kw = ibarz_kwargs(algorithm, s);
  TrainingSetup setup;
  for (auto l : lengths)
    setup.train.push_back({l, static_cast<std::uint32_t>(master.randint(std::int64_t{1} << 32)), kw, -1});
  setup.val = {*std::max_element(lengths.begin(), lengths.end()),
               static_cast<std::uint32_t>(master.randint(std::int64_t{1} << 32)), kw,
               clrs30_split("val").num_samples * 2 * spec.num_samples_multiplier};
  return setup;
}

TrainingData::TrainingData(const std::string& algorithm, const TrainingSettings& settings)
    : algorithm_(algorithm),
      settings_(settings),
      setup_(ibarz_setup(algorithm, settings)),
      master_(settings.seed),
      val_sampler_(algorithm, setup_.val.seed, setup_.val.length, setup_.val.kwargs) {
  if (settings.batch_size < 1 || settings.val_batch_size < 1)
    throw std::invalid_argument("clrs: batch sizes must be positive");
  // The master stream continues after the seeds it drew.
  for (std::size_t i = 0; i < setup_.train.size() + 1; ++i) master_.randint(std::int64_t{1} << 32);
  for (const auto& t : setup_.train) {
    train_.emplace_back(algorithm, t.seed, t.length, t.kwargs);
    std::int64_t max_steps = 0;
    if (settings.track_max_steps)
      for (std::int64_t i = 0; i < settings.warmup_samples; ++i)
        max_steps = std::max(max_steps, train_.back().next().length);
    max_steps_.push_back(max_steps);
  }
}

BatchOptions TrainingData::options(std::int64_t min_steps) const {
  BatchOptions o;
  o.min_steps = min_steps;
  o.pred_as_input = settings_.enforce_pred_as_input;
  o.process_permutations = true;
  o.enforce_permutations = settings_.enforce_permutations;
  return o;
}

Batch TrainingData::next_train() {
  const auto k = cursor_;
  cursor_ = (cursor_ + 1) % train_.size();
  std::vector<Sample> samples;
  samples.reserve(static_cast<std::size_t>(settings_.batch_size));
  for (std::int64_t i = 0; i < settings_.batch_size; ++i) samples.push_back(train_[k].next());
  auto batch = make_batch(samples, options(settings_.track_max_steps ? max_steps_[k] : 0));
  if (settings_.track_max_steps) max_steps_[k] = std::max(max_steps_[k], batch.max_steps());
  if (settings_.random_pos) randomize_pos(batch, master_);
  return batch;
}

const std::vector<Sample>& TrainingData::val_set() {
  if (val_.empty()) {
    for (std::int64_t i = 0; i < setup_.val.num_samples; ++i) {
      val_.push_back(val_sampler_.next());
      val_max_steps_ = std::max(val_max_steps_, val_.back().length);
    }
  }
  return val_;
}

Batch TrainingData::next_val() {
  const auto& set = val_set();
  std::vector<Sample> samples;
  for (std::int64_t i = 0; i < settings_.val_batch_size; ++i)
    samples.push_back(set[static_cast<std::size_t>(val_sampler_.rng().randint(static_cast<std::int64_t>(set.size())))]);
  auto batch = make_batch(samples, options(val_max_steps_));
  if (settings_.random_pos) randomize_pos(batch, master_);
  return batch;
}

Batch TrainingData::make_eval_batch(const std::vector<Sample>& samples) const { return make_batch(samples, options(0)); }

AlgorithmSpec TrainingData::spec() const {
  return processed_spec(builtin_spec(algorithm_), settings_.enforce_pred_as_input, true,
                        settings_.enforce_permutations);
}

}  // namespace evoprompt::clrs
