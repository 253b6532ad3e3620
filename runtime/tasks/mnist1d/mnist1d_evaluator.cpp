// The in-process MNIST-1D evaluator: the JIT compiles each child and the
// trainer scores it under the paper's protocol.
#include <nlohmann/json.hpp>

#include "tasks/mnist1d/mnist1d_training.hpp"
#include "jit_model.hpp"
#include "mnist1d.hpp"
#include "token_fingerprint.hpp"

namespace evoprompt {

TrainOptions mnist1d_train_options(const Mnist1dEvaluatorOptions& o) {
  tasks::validate(o);
  TrainOptions t;
  t.steps = o.steps;
  t.batch_size = o.batch_size;
  t.adamw.lr = o.lr;
  t.adamw.weight_decay = o.weight_decay;
  t.eval_every = o.eval_every;
  t.seed = o.seed;
  t.init = parse_init_scheme(o.init);
  t.device = resolve_device(o.device);
  t.cuda_graph = o.cuda_graph == "on";
  t.validate();
  return t;
}

ClassificationData mnist1d_data(const Mnist1dEvaluatorOptions& o, torch::Device device) {
  const Mnist1d raw = load_canonical_mnist1d(o.data_dir);
  return make_classification_data(raw, holdout_split(raw.num_train(), o.val_size, o.split_seed), device);
}

namespace {

class InProcessMnist1dEvaluator : public Evaluator {
 public:
  InProcessMnist1dEvaluator(const Mnist1dEvaluatorOptions& o, std::function<void(double)> on_compiled)
      : options_(o), on_compiled_(std::move(on_compiled)) {
    train_ = mnist1d_train_options(o);
    claim_compute(train_.device, o.threads, o.gpu_memory_fraction);
    data_ = mnist1d_data(o, train_.device);
    jit_ = std::make_unique<jit::ChildJit>(torch_jit_options(o.cache_dir));
  }

  ChildResult evaluate(const std::string& source, const std::string& name) override {
    std::function<void(const JitModel&)> hook;
    if (on_compiled_) hook = [this](const JitModel& m) { on_compiled_(m.compile_ms); };
    return child_result(
        evaluate_model_child(*jit_, source, name, data_, with_checkpoint(train_, options_.weights_dir, name), hook));
  }

  std::string fingerprint(const std::string& source) override { return jit::token_fingerprint(source); }

  std::string opening() const override { return tasks::Mnist1dTask().contract().opening; }

  std::string describe() const override {
    nlohmann::json d = tasks::mnist1d_option_table().to_json(options_, /*stored_only=*/true);
    d["task"] = "mnist1d";
    d["device"] = train_.device.str();
    d["threads"] = torch::get_num_threads();
    d["torch"] = TORCH_VERSION;
    return d.dump();
  }

 private:
  Mnist1dEvaluatorOptions options_;
  std::function<void(double)> on_compiled_;
  TrainOptions train_;
  ClassificationData data_;
  std::unique_ptr<jit::ChildJit> jit_;
};

}  // namespace

tasks::CompileCheck tasks::Mnist1dTask::check_child(const std::string& source, const std::string& name) const {
  jit::ChildJit jit(torch_jit_options());
  const auto model = compile_model(jit, source, name);
  return {model.verdict, model.compile_ms};
}

std::unique_ptr<Evaluator> make_mnist1d_evaluator(const Mnist1dEvaluatorOptions& options,
                                                  std::function<void(double)> on_compiled) {
  return std::make_unique<InProcessMnist1dEvaluator>(options, std::move(on_compiled));
}

}  // namespace evoprompt
