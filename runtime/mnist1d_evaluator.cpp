// The in-process MNIST-1D evaluator: the JIT compiles each child and the
// trainer scores it under the paper's protocol.
#include <nlohmann/json.hpp>

#include "evaluator.hpp"
#include "jit_model.hpp"
#include "mnist1d.hpp"
#include "token_fingerprint.hpp"

namespace evoprompt {
namespace {

class InProcessMnist1dEvaluator : public Evaluator {
 public:
  InProcessMnist1dEvaluator(const Mnist1dEvaluatorOptions& o, std::function<void(double)> on_compiled)
      : options_(o), on_compiled_(std::move(on_compiled)) {
    train_.steps = o.steps;
    train_.batch_size = o.batch_size;
    train_.adamw.lr = o.lr;
    train_.adamw.weight_decay = o.weight_decay;
    train_.eval_every = o.eval_every;
    train_.seed = o.seed;
    train_.init = parse_init_scheme(o.init);
    train_.device = resolve_device(o.device);
    train_.validate();
    claim_compute(train_.device, o.threads, o.gpu_memory_fraction);
    const Mnist1d raw = load_canonical_mnist1d(o.data_dir);
    data_ = make_classification_data(raw, holdout_split(raw.num_train(), o.val_size, o.split_seed), train_.device);
    jit_ = std::make_unique<jit::ChildJit>(torch_jit_options(o.cache_dir));
  }

  ChildResult evaluate(const std::string& source, const std::string& name) override {
    std::function<void(const JitModel&)> hook;
    if (on_compiled_) hook = [this](const JitModel& m) { on_compiled_(m.compile_ms); };
    const ChildEvaluation e = evaluate_model_child(*jit_, source, name, data_, train_, hook);
    ChildResult r;
    set_verdict(r, e.verdict);
    r.compile_ms = e.compile_ms;
    r.train_ms = e.train_ms;
    if (e.verdict.accepted()) {
      r.params_used = e.train.params.used;
      r.params_total = e.train.params.total;
      r.best_val_acc = e.train.best_val_acc;
      r.best_step = e.train.best_step;
      r.test_acc = e.train.test_acc;
      r.steps = e.train.steps;
      r.steps_per_s = e.train.steps_per_s();
    }
    return r;
  }

  std::string fingerprint(const std::string& source) override { return jit::token_fingerprint(source); }

  std::string opening() const override { return task_opening(options_); }

  std::string describe() const override {
    const auto& o = options_;
    return nlohmann::json{{"task", "mnist1d"},      {"steps", o.steps},        {"batch_size", o.batch_size},
                          {"lr", o.lr},             {"weight_decay", o.weight_decay},
                          {"eval_every", o.eval_every}, {"seed", o.seed},      {"val_size", o.val_size},
                          {"split_seed", o.split_seed}, {"init", o.init},      {"device", train_.device.str()},
                          {"threads", torch::get_num_threads()},
                          {"torch", TORCH_VERSION}}
        .dump();
  }

 private:
  Mnist1dEvaluatorOptions options_;
  std::function<void(double)> on_compiled_;
  TrainOptions train_;
  ClassificationData data_;
  std::unique_ptr<jit::ChildJit> jit_;
};

}  // namespace

std::unique_ptr<Evaluator> make_mnist1d_evaluator(const Mnist1dEvaluatorOptions& options,
                                                  std::function<void(double)> on_compiled) {
  return std::make_unique<InProcessMnist1dEvaluator>(options, std::move(on_compiled));
}

}  // namespace evoprompt
