#include "clrs_model/clrs_training.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "clrs/training.hpp"
#include "safetensors.hpp"

namespace evoprompt::clrs {
namespace {

using Clock = std::chrono::steady_clock;
using torch::Tensor;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The micro metric needs every output of a split at once: the truths and the
// logits of several batches (all with the same node count), concatenated.
class OutputCollector {
 public:
  void add(const TensorBatch& batch, const Predictions& predictions) {
    for (const auto& truth : batch.outputs) {
      truth_[truth.name()].push_back(truth.data);
      logits_[truth.name()].push_back(predictions.outputs.at(truth.name()));
      if (specs_.size() < batch.outputs.size()) specs_.push_back(truth.spec);
    }
  }

  std::map<std::string, double> evaluate() const {
    std::vector<ProbeTensor> truths;
    std::map<std::string, Tensor> logits;
    for (const auto& spec : specs_) {
      truths.push_back({spec, torch::cat(truth_.at(spec.name), 0)});
      logits[spec.name] = torch::cat(logits_.at(spec.name), 0);
    }
    return clrs::evaluate(truths, logits);
  }

 private:
  std::vector<ProbeSpec> specs_;
  std::map<std::string, std::vector<Tensor>> truth_, logits_;
};

std::map<std::string, double> score(ClrsModel& model, const std::vector<Batch>& batches, torch::Device device) {
  torch::NoGradGuard no_grad;
  model->eval();
  OutputCollector collector;
  for (const auto& b : batches) {
    const auto t = to_tensors(b, device);
    collector.add(t, model->forward(t, /*train=*/false));
  }
  return collector.evaluate();
}

std::vector<Tensor> snapshot(const ClrsModel& model) {
  std::vector<Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
  return out;
}

}  // namespace

std::int64_t haiku_parameter_count(ClrsModel& model, torch::Device device) {
  const auto& triplet = model->processor->triplet;
  std::int64_t count = count_parameters(*model) - count_parameters(*triplet.module);
  std::vector<Tensor> params;
  for (const auto& p : triplet.module->parameters())
    if (p.requires_grad()) params.push_back(p);
  if (params.empty()) return count;
  torch::AutoGradMode grad_on(true);
  const auto h = model->config.hidden;
  const auto out = triplet.forward(torch::randn({1, 2, 2 * h}, device), torch::randn({1, 2, 2, h}, device),
                                   torch::randn({1, h}, device));
  if (!out.requires_grad()) return count;
  const auto grads = torch::autograd::grad({out.sum()}, params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (grads[i].defined()) count += params[i].numel();
  return count;
}

namespace {

void restore(ClrsModel& model, const std::vector<Tensor>& saved) {
  torch::NoGradGuard no_grad;
  const auto params = model->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
}

}  // namespace

void ClrsTrainOptions::validate() const {
  const auto& names = clrs30_algorithms();
  if (std::find(names.begin(), names.end(), algorithm) == names.end())
    throw std::invalid_argument("unknown CLRS-30 algorithm '" + algorithm + "'");
  if (steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (batch_size < 1) throw std::invalid_argument("batch_size must be >= 1");
  if (!(lr > 0.0)) throw std::invalid_argument("lr must be > 0");
  if (!(clip_norm > 0.0)) throw std::invalid_argument("clip_norm must be > 0");
  if (eval_every < 1) throw std::invalid_argument("eval_every must be >= 1");
  if (hidden < 1 || nb_triplet_fts < 1) throw std::invalid_argument("hidden and nb_triplet_fts must be >= 1");
  if (test_samples < -1) throw std::invalid_argument("test_samples must be >= 0, or -1 for the whole split");
  if (test_batch_size < 1) throw std::invalid_argument("test_batch_size must be >= 1");
}

ClrsTrainResult train_clrs(const TripletFactory& triplet, const ClrsTrainOptions& o, const ClrsProgress& progress) {
  o.validate();
  const auto t_wall = Clock::now();
  ClrsTrainResult r;

  TrainingSettings settings;
  settings.seed = o.seed;
  settings.batch_size = o.batch_size;
  TrainingData data(o.algorithm, settings);
  Batch first = data.next_train();
  torch::manual_seed(o.seed);
  ModelConfig config;
  config.hidden = o.hidden;
  config.nb_triplet_fts = o.nb_triplet_fts;
  config.triplet = triplet;
  ClrsModel model(to_tensors(first), config);
  model->to(o.device);
  r.params_total = count_parameters(*model);
  r.params_used = haiku_parameter_count(model, o.device);
  ClrsTrainer trainer(model, o.lr, o.clip_norm);

  std::vector<Tensor> best;
  Tensor last_loss;
  r.best_val_score = -1.0;
  for (std::int64_t step = 0; step < o.steps; ++step) {
    const auto t0 = Clock::now();
    const Batch batch = step == 0 ? std::move(first) : data.next_train();
    // The loss is read only where the run waits anyway (the first step, each
    // validation, the end): no step waits for a GPU.
    last_loss = trainer.step(to_tensors(batch, o.device));
    if (step == 0) r.first_loss = last_loss.item<double>();
    r.train_s += seconds_since(t0);
    r.steps = step + 1;
    if (step % o.eval_every != 0) continue;
    const double loss = last_loss.item<double>();
    // run.py validates the val set's worth of batches (drawn with
    // replacement); the random pos of the next val batches comes from the
    // master stream, between train batches.
    std::vector<Batch> val;
    for (std::int64_t n = 0; n < data.setup().val.num_samples; n += settings.val_batch_size)
      val.push_back(data.next_val());
    const double val_score = score(model, val, o.device).at("score");
    if (val_score > r.best_val_score) {
      r.best_val_score = val_score;
      r.best_step = step;
      best = snapshot(model);
    }
    if (progress) progress(step, loss, val_score);
  }

  if (last_loss.defined()) r.final_loss = last_loss.item<double>();
  restore(model, best);
  if (!o.checkpoint_path.empty())
    save_safetensors(o.checkpoint_path, module_weights(*model),
                     {{"format", "pt"}, {"best_step", std::to_string(r.best_step)},
                      {"val_acc", std::to_string(r.best_val_score)}, {"seed", std::to_string(o.seed)}});
  const auto test = clrs30_dataset(o.algorithm, "test", o.test_samples);
  std::vector<Batch> test_batches;
  for (std::size_t i = 0; i < test.size(); i += static_cast<std::size_t>(o.test_batch_size)) {
    const auto end = std::min(test.size(), i + static_cast<std::size_t>(o.test_batch_size));
    test_batches.push_back(data.make_eval_batch({test.begin() + static_cast<std::ptrdiff_t>(i),
                                                 test.begin() + static_cast<std::ptrdiff_t>(end)}));
  }
  if (!test_batches.empty()) {
    r.test_metrics = score(model, test_batches, o.device);
    r.test_score = r.test_metrics.at("score");
  }
  r.wall_s = seconds_since(t_wall);
  return r;
}

}  // namespace evoprompt::clrs
