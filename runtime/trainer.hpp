// Trains one classifier under the paper's MNIST-1D protocol and scores it by
// best validation accuracy, with the test accuracy at that checkpoint.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "flat_adamw.hpp"
#include "mnist1d.hpp"
#include "model.hpp"

namespace evoprompt {

// Float32 inputs and int64 labels on the training device.
struct ClassificationData {
  torch::Tensor x_train, y_train, x_val, y_val, x_test, y_test;
  std::vector<std::int64_t> input_shape;  // per row, e.g. {40}
  std::int64_t num_classes = 0;
};

// Splits the canonical training rows into train/val by `split`, keeps the test set.
ClassificationData make_classification_data(const Mnist1d& data, const HoldoutSplit& split,
                                            torch::Device device);

struct TrainOptions {
  std::int64_t steps = 8000;
  std::int64_t batch_size = 128;
  AdamWOptions adamw;          // lr 0.01, weight decay 1e-4 (optax defaults)
  std::int64_t eval_every = 250;
  std::uint32_t seed = 0;      // model init and batch order
  InitScheme init = InitScheme::flax;
  torch::Device device = torch::kCPU;
  // On a GPU, capture one optimisation step (forward, backward, AdamW) as a
  // CUDA graph after a few eager warm-up steps and replay it; eager when off,
  // on the CPU, or when the capture fails (TrainResult::step_path says which).
  bool cuda_graph = true;
  // Non-empty: the weights (parameters and buffers) at the best validation
  // step are written there as safetensors.
  std::string checkpoint_path;

  void validate() const;  // throws std::invalid_argument naming the bad option
};

struct TrainResult {
  ParamCount params;
  double best_val_acc = 0.0;
  std::int64_t best_step = 0;
  double test_acc = 0.0;       // at the best-validation checkpoint
  double final_train_loss = 0.0;
  std::int64_t steps = 0;
  double train_s = 0.0;        // time inside optimisation steps only
  double wall_s = 0.0;         // everything: build, count, train, evaluate
  // How the steps ran: "eager", "cuda_graph", or "eager (why not a graph)"
  // when a graph was asked for on a GPU.
  std::string step_path = "eager";
  double steps_per_s() const { return train_s > 0.0 ? static_cast<double>(steps) / train_s : 0.0; }
};

TrainResult train_classifier(const ModelFactory& factory, const ClassificationData& data,
                             const TrainOptions& options);

// `options` writing child `name`'s best weights to DIR/NAME.safetensors
// (unchanged when `dir` is empty).
TrainOptions with_checkpoint(TrainOptions options, const std::string& dir, const std::string& name);

// Fraction of rows whose argmax logit equals the label, in eval mode.
double accuracy(const ModelInstance& model, const torch::Tensor& x, const torch::Tensor& y);

}  // namespace evoprompt
