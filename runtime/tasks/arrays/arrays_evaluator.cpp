// The in-process arrays evaluator: the JIT compiles each child and the
// trainer scores it on the user's rows under the MNIST-1D protocol.
#include <nlohmann/json.hpp>

#include "jit_model.hpp"
#include "tasks/arrays/arrays_data.hpp"
#include "tasks/arrays/arrays_task.hpp"
#include "token_fingerprint.hpp"
#include "trainer.hpp"

namespace evoprompt {
namespace {

torch::Tensor rows_of(const NpyArray& a, const std::vector<std::int64_t>& rows) {
  const auto all = a.is_floating()
                       ? torch::from_blob(const_cast<double*>(a.f64.data()), {a.size()}, torch::kFloat64)
                             .to(torch::kFloat32)
                       : torch::from_blob(const_cast<std::int64_t*>(a.i64.data()), {a.size()}, torch::kInt64).clone();
  const auto shaped = all.reshape(a.shape);
  if (rows.empty()) return shaped;
  return shaped.index_select(0, torch::tensor(rows, torch::kInt64));
}

ClassificationData arrays_data(const ArraysEvaluatorOptions& o, torch::Device device) {
  const tasks::ArraysSummary s = tasks::inspect_arrays(o.data_dir);
  const tasks::ArraysFiles f = tasks::read_arrays(o.data_dir);
  const tasks::ArraysSplit split = tasks::split_arrays(s, o.val_size, o.test_size, o.split_seed);
  ClassificationData d;
  d.input_shape = s.input_shape;
  d.num_classes = s.classes;
  d.x_train = rows_of(f.x, split.train).to(device);
  d.y_train = rows_of(f.y, split.train).to(device);
  d.x_val = rows_of(f.x, split.val).to(device);
  d.y_val = rows_of(f.y, split.val).to(device);
  d.x_test = (s.test_rows > 0 ? rows_of(f.x_test, {}) : rows_of(f.x, split.test)).to(device);
  d.y_test = (s.test_rows > 0 ? rows_of(f.y_test, {}) : rows_of(f.y, split.test)).to(device);
  return d;
}

TrainOptions arrays_train_options(const ArraysEvaluatorOptions& o) {
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

class InProcessArraysEvaluator : public Evaluator {
 public:
  InProcessArraysEvaluator(const ArraysEvaluatorOptions& o, std::function<void(double)> on_compiled)
      : options_(tasks::resolved(o)), on_compiled_(std::move(on_compiled)) {
    train_ = arrays_train_options(options_);
    claim_compute(train_.device, options_.threads, options_.gpu_memory_fraction);
    data_ = arrays_data(options_, train_.device);
    jit_ = std::make_unique<jit::ChildJit>(torch_jit_options(options_.cache_dir));
  }

  ChildResult evaluate(const std::string& source, const std::string& name) override {
    std::function<void(const JitModel&)> hook;
    if (on_compiled_) hook = [this](const JitModel& m) { on_compiled_(m.compile_ms); };
    return child_result(
        evaluate_model_child(*jit_, source, name, data_, with_checkpoint(train_, options_.weights_dir, name), hook));
  }

  std::string fingerprint(const std::string& source) override { return jit::token_fingerprint(source); }
  std::string opening() const override { return tasks::ArraysTask().contract().opening; }

  std::optional<DataDescription> data_description() const override {
    return tasks::ArraysTask().data_description(tasks::arrays_option_table().to_json(options_));
  }

  std::string describe() const override {
    nlohmann::json d = tasks::arrays_option_table().to_json(options_, /*stored_only=*/true);
    d["task"] = "arrays:" + options_.data_dir;
    d["device"] = train_.device.str();
    d["threads"] = torch::get_num_threads();
    d["torch"] = TORCH_VERSION;
    return d.dump();
  }

 private:
  ArraysEvaluatorOptions options_;
  std::function<void(double)> on_compiled_;
  TrainOptions train_;
  ClassificationData data_;
  std::unique_ptr<jit::ChildJit> jit_;
};

}  // namespace

tasks::CompileCheck tasks::ArraysTask::check_child(const std::string& source, const std::string& name) const {
  jit::ChildJit jit(torch_jit_options());
  const auto model = compile_model(jit, source, name);
  return {model.verdict, model.compile_ms};
}

std::unique_ptr<Evaluator> tasks::ArraysTask::make_evaluator(const nlohmann::json& options,
                                                             EvaluatorHooks hooks) const {
  return std::make_unique<InProcessArraysEvaluator>(arrays_option_table().from_json(checked(options)),
                                                    std::move(hooks.on_compiled));
}

}  // namespace evoprompt
