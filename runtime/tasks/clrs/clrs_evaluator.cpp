// The in-process CLRS-30 evaluator: the JIT compiles each triplet function
// and train_clrs scores Triplet-GMPNN with it on one algorithm.
#include <nlohmann/json.hpp>

#include <chrono>

#include "clrs_model/clrs_training.hpp"
#include "clrs_model/triplet_jit.hpp"
#include "tasks/clrs/clrs_task.hpp"
#include "jit_model.hpp"
#include "token_fingerprint.hpp"

namespace evoprompt {
namespace {

class InProcessClrsEvaluator : public Evaluator {
 public:
  InProcessClrsEvaluator(const ClrsEvaluatorOptions& o, std::function<void(double)> on_compiled,
                         TrainingProgress on_progress)
      : options_(o), on_compiled_(std::move(on_compiled)), on_progress_(std::move(on_progress)) {
    tasks::validate(o);
    train_.algorithm = o.algorithm;
    train_.steps = o.steps;
    train_.batch_size = o.batch_size;
    train_.lr = o.lr;
    train_.eval_every = o.eval_every;
    train_.seed = o.seed;
    train_.hidden = o.hidden;
    train_.nb_triplet_fts = o.nb_triplet_fts;
    train_.test_samples = o.test_samples;
    train_.device = resolve_device(o.device);
    train_.validate();
    claim_compute(train_.device, o.threads, o.gpu_memory_fraction);
    jit_ = std::make_unique<jit::ChildJit>(torch_jit_options(o.cache_dir));
  }

  ChildResult evaluate(const std::string& source, const std::string& name) override {
    ChildResult r;
    const auto compiled = clrs::compile_triplet(*jit_, source, name);
    r.compile_ms = compiled.compile_ms;
    jit::Verdict verdict = compiled.verdict;
    if (verdict.accepted()) {
      if (on_compiled_) on_compiled_(compiled.compile_ms);
      const auto t0 = std::chrono::steady_clock::now();
      clrs::ClrsTrainResult t;
      clrs::ClrsTrainOptions train = train_;
      train.checkpoint_path = checkpoint_path(options_.weights_dir, name);
      verdict = run_guarded([&] { t = clrs::train_clrs(compiled.factory, train, on_progress_); });
      r.train_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (verdict.accepted()) {
        r.params_used = t.params_used;
        r.params_total = t.params_total;
        r.best_val_acc = t.best_val_score;
        r.best_step = t.best_step;
        r.test_acc = t.test_score;
        r.steps = t.steps;
        r.steps_per_s = t.steps_per_s();
      }
    }
    set_verdict(r, verdict);
    return r;
  }

  std::string fingerprint(const std::string& source) override { return jit::token_fingerprint(source); }

  std::string opening() const override { return tasks::ClrsTask().contract().opening; }

  std::string describe() const override {
    nlohmann::json d = tasks::clrs_option_table().to_json(options_, /*stored_only=*/true);
    d["task"] = "clrs:" + options_.algorithm;
    d["clip_norm"] = train_.clip_norm;
    d["device"] = train_.device.str();
    d["threads"] = torch::get_num_threads();
    d["torch"] = TORCH_VERSION;
    return d.dump();
  }

 private:
  ClrsEvaluatorOptions options_;
  std::function<void(double)> on_compiled_;
  TrainingProgress on_progress_;
  clrs::ClrsTrainOptions train_;
  std::unique_ptr<jit::ChildJit> jit_;
};

}  // namespace

tasks::CompileCheck tasks::ClrsTask::check_child(const std::string& source, const std::string& name) const {
  jit::ChildJit jit(torch_jit_options());
  const auto triplet = clrs::compile_triplet(jit, source, name);
  return {triplet.verdict, triplet.compile_ms};
}

std::unique_ptr<Evaluator> make_clrs_evaluator(const ClrsEvaluatorOptions& options,
                                               std::function<void(double)> on_compiled,
                                               TrainingProgress on_progress) {
  return std::make_unique<InProcessClrsEvaluator>(options, std::move(on_compiled), std::move(on_progress));
}

}  // namespace evoprompt
