#include "trainer.hpp"

#if EVOPROMPT_TORCH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>

#include "safetensors.hpp"

namespace evoprompt {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

torch::Tensor rows_to_tensor(const std::vector<double>& x, const std::vector<std::int64_t>& rows,
                             std::int64_t len) {
  auto out = torch::empty({static_cast<std::int64_t>(rows.size()), len}, torch::kFloat32);
  auto* dst = out.data_ptr<float>();
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::int64_t j = 0; j < len; ++j) dst[r * len + j] = static_cast<float>(x[rows[r] * len + j]);
  return out;
}

torch::Tensor labels_to_tensor(const std::vector<std::int64_t>& y, const std::vector<std::int64_t>& rows) {
  auto out = torch::empty({static_cast<std::int64_t>(rows.size())}, torch::kInt64);
  auto* dst = out.data_ptr<std::int64_t>();
  for (std::size_t r = 0; r < rows.size(); ++r) dst[r] = y[rows[r]];
  return out;
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// Epoch-wise shuffled minibatches of row indices, drawn with torch.randperm
// from torch's global generator as a Python PyTorch loop would; the remainder
// of each epoch that does not fill a batch is dropped.
class BatchOrder {
 public:
  BatchOrder(std::int64_t rows, std::int64_t batch, torch::Device device)
      : rows_(rows), batch_(batch), device_(device) {}

  torch::Tensor next() {
    if (!epoch_.defined() || cursor_ + batch_ > rows_) {
      epoch_ = torch::randperm(rows_, torch::kInt64).to(device_);
      cursor_ = 0;
    }
    auto idx = epoch_.narrow(0, cursor_, batch_);
    cursor_ += batch_;
    return idx;
  }

 private:
  std::int64_t rows_, batch_;
  torch::Device device_;
  torch::Tensor epoch_;
  std::int64_t cursor_ = 0;
};

// One optimisation step on the batch whose row indices are given.
using StepBody = std::function<torch::Tensor(const torch::Tensor& idx)>;

// Runs the steps: eagerly, or (CUDA, asked for) kWarmupSteps eager steps on a
// side stream, then one capture of the step, replayed from then on with the
// batch's indices copied into the graph's input. The capture runs nothing,
// so the captured step is replayed at once: every step happens exactly once.
class StepRunner {
 public:
  static constexpr std::int64_t kWarmupSteps = 3;

  StepRunner(StepBody body, const TrainOptions& options, std::int64_t batch) : body_(std::move(body)) {
    if (!options.device.is_cuda()) return;  // the CPU has no graphs: plain "eager"
    if (!options.cuda_graph) {
      path_ = "eager (--cuda-graph off)";
      return;
    }
#if EVOPROMPT_TORCH_CUDA
    if (options.steps <= kWarmupSteps) {
      path_ = "eager (too few steps to capture)";
      return;
    }
    // Capture needs a stream of its own; the whole run stays on it, after
    // the data and the model made on the default stream are ready.
    torch::cuda::synchronize();
    stream_guard_.emplace(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, options.device.index()));
    static_idx_ = torch::empty({batch}, torch::TensorOptions().dtype(torch::kInt64).device(options.device));
    capture_pending_ = true;
#else
    (void)batch;
    path_ = "eager (built without CUDA graphs)";
#endif
  }

  ~StepRunner() {
#if EVOPROMPT_TORCH_CUDA
    if (stream_guard_) stream_guard_->current_stream().synchronize();
#endif
  }

  torch::Tensor run(const torch::Tensor& idx) {
#if EVOPROMPT_TORCH_CUDA
    if (graph_) {
      static_idx_.copy_(idx);
      graph_->replay();
      return static_loss_;
    }
    if (capture_pending_ && ++eager_steps_ > kWarmupSteps) return capture(idx);
#endif
    return body_(idx);
  }

  const std::string& path() const { return path_; }

 private:
#if EVOPROMPT_TORCH_CUDA
  torch::Tensor capture(const torch::Tensor& idx) {
    capture_pending_ = false;
    static_idx_.copy_(idx);
    graph_.emplace();
    try {
      graph_->capture_begin();
      static_loss_ = body_(static_idx_);
      graph_->capture_end();
    } catch (const std::exception& e) {
      try {
        graph_->capture_end();  // leaves capture mode if the body threw mid-capture
      } catch (const std::exception&) {
      }
      (void)cudaGetLastError();  // the capture's error is this step's verdict on graphs, not the next kernel's
      graph_.reset();
      static_loss_ = torch::Tensor();
      std::string why = e.what();
      why = why.substr(0, why.find('\n'));
      path_ = "eager (capture failed: " + why + ")";
      return body_(idx);  // nothing ran during the capture: this step, eagerly
    }
    path_ = "cuda_graph";
    graph_->replay();
    return static_loss_;
  }

  std::optional<c10::cuda::CUDAStreamGuard> stream_guard_;
  std::optional<at::cuda::CUDAGraph> graph_;
  torch::Tensor static_idx_, static_loss_;
  bool capture_pending_ = false;
  std::int64_t eager_steps_ = 0;
#endif
  StepBody body_;
  std::string path_ = "eager";
};

}  // namespace

ClassificationData make_classification_data(const Mnist1d& data, const HoldoutSplit& split,
                                            torch::Device device) {
  ClassificationData d;
  d.input_shape = {data.seq_len};
  d.num_classes = kMnist1dClasses;
  d.x_train = rows_to_tensor(data.x, split.train, data.seq_len).to(device);
  d.y_train = labels_to_tensor(data.y, split.train).to(device);
  d.x_val = rows_to_tensor(data.x, split.val, data.seq_len).to(device);
  d.y_val = labels_to_tensor(data.y, split.val).to(device);
  const auto test_rows = iota(data.num_test());
  d.x_test = rows_to_tensor(data.x_test, test_rows, data.seq_len).to(device);
  d.y_test = labels_to_tensor(data.y_test, test_rows).to(device);
  return d;
}

void TrainOptions::validate() const {
  if (steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
  if (eval_every < 1) throw std::invalid_argument("eval interval must be >= 1");
  if (!(adamw.lr > 0.0)) throw std::invalid_argument("learning rate must be > 0");
  if (adamw.weight_decay < 0.0) throw std::invalid_argument("weight decay must be >= 0");
}

TrainOptions with_checkpoint(TrainOptions options, const std::string& dir, const std::string& name) {
  options.checkpoint_path = checkpoint_path(dir, name);
  return options;
}

double accuracy(const ModelInstance& model, const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  model.module->eval();
  const auto logits = model.forward(x);
  model.module->train();
  return logits.argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
}

TrainResult train_classifier(const ModelFactory& factory, const ClassificationData& data,
                             const TrainOptions& options) {
  options.validate();
  const auto batch = std::min<std::int64_t>(options.batch_size, data.x_train.size(0));
  const auto start = Clock::now();
  TrainResult result;

  // Count on an instance of its own, so that counting neither consumes the
  // training run's random numbers nor touches its state (BatchNorm statistics).
  result.params = count_params(factory(), data.input_shape, data.num_classes, options.device);

  torch::manual_seed(options.seed);
  ModelInstance model = factory();
  apply_init(*model.module, options.init);
  model.module->to(options.device);
  model.module->train();

  AdamWOptions adamw = options.adamw;
  adamw.capturable = options.device.is_cuda() && options.cuda_graph;  // same arithmetic, graph-safe
  FlatAdamW optimizer(model.module->parameters(), adamw);
  BatchOrder order(data.x_train.size(0), batch, options.device);

  std::vector<std::int64_t> batch_shape{batch};
  batch_shape.insert(batch_shape.end(), data.input_shape.begin(), data.input_shape.end());
  auto xb = torch::empty(batch_shape, data.x_train.options());
  auto yb = torch::empty({batch}, data.y_train.options());
  StepRunner runner(
      [&](const torch::Tensor& idx) {
        torch::index_select_out(xb, data.x_train, 0, idx);
        torch::index_select_out(yb, data.y_train, 0, idx);
        optimizer.zero_grad();
        auto step_loss = torch::nn::functional::cross_entropy(model.forward(xb), yb);
        step_loss.backward();
        optimizer.step();
        return step_loss;
      },
      options, batch);
  torch::Tensor loss;
  std::vector<std::pair<std::string, torch::Tensor>> best_weights;
  double train_s = 0.0;
  auto segment_start = Clock::now();
  for (std::int64_t step = 1; step <= options.steps; ++step) {
    loss = runner.run(order.next());

    if (step % options.eval_every == 0 || step == options.steps) {
      result.final_train_loss = loss.item<double>();  // also waits for queued GPU work
      train_s += seconds_since(segment_start);
      const double val = accuracy(model, data.x_val, data.y_val);
      if (val > result.best_val_acc || result.best_step == 0) {
        result.best_val_acc = val;
        result.best_step = step;
        result.test_acc = accuracy(model, data.x_test, data.y_test);
        if (!options.checkpoint_path.empty()) best_weights = module_weights(*model.module);
      }
      segment_start = Clock::now();
    }
  }
  if (!options.checkpoint_path.empty())
    save_safetensors(options.checkpoint_path, best_weights,
                     {{"format", "pt"}, {"best_step", std::to_string(result.best_step)},
                      {"val_acc", std::to_string(result.best_val_acc)}, {"test_acc", std::to_string(result.test_acc)},
                      {"seed", std::to_string(options.seed)}});
  result.steps = options.steps;
  result.step_path = runner.path();
  result.train_s = train_s;
  result.wall_s = seconds_since(start);
  return result;
}

}  // namespace evoprompt
