// The CLRS-30 model of Ibarz et al. 2022 in libtorch: encode-process-decode
// with the Triplet-GMPNN processor (datasets.md B.7), its losses (B.8) and
// the evaluation metric (B.9). Mirrors the reference nets.py, encoders.py,
// decoders.py, processors.py, losses.py and evaluation.py.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "clrs/batch.hpp"
#include "clrs/spec.hpp"

namespace evoprompt::clrs {

// ---------------------------------------------------------------- tensors

// One probe as a float32 tensor: inputs / outputs [B, ...], hints [T, B, ...].
// Pointers keep their node indices (as floats); permutation pointers are
// [B, N, N] matrices.
struct ProbeTensor {
  ProbeSpec spec;
  torch::Tensor data;
  const std::string& name() const { return spec.name; }
};

struct TensorBatch {
  std::string algorithm;
  std::vector<ProbeTensor> inputs, outputs, hints;
  torch::Tensor lengths;  // [B] int64
  std::int64_t batch_size = 0, nb_nodes = 0;

  std::int64_t max_steps() const { return hints.empty() ? 0 : hints.front().data.size(0); }
  const ProbeTensor& get(const std::string& probe) const;  // throws std::out_of_range
};

TensorBatch to_tensors(const Batch& batch, torch::Device device = torch::kCPU);

// Haiku's default Linear: truncated normal (+-2 sd, not rescaled) weights with
// standard deviation `stddev` (1/sqrt(in) when negative), constant bias.
torch::nn::Linear hk_linear(std::int64_t in, std::int64_t out, double stddev = -1.0, double bias = 0.0);
void truncated_normal_(torch::Tensor t, double stddev);
// hk.Linear's default initialisation for every torch::nn::Linear in `module`.
void haiku_linear_init_(torch::nn::Module& module);

std::int64_t count_parameters(const torch::nn::Module& module);

// ---------------------------------------------------------------- triplets

// The triplet message function (processors.py get_triplet_msgs plus the o3
// projection): z [B, N, 2h], edge_fts [B, N, N, h], graph_fts [B, h] ->
// [B, N, N, out_size] (before the processor's ReLU). This is the child
// contract EvoPrompting searches over.
struct TripletFnImpl : torch::nn::Module {
  TripletFnImpl(std::int64_t nb_triplet_fts, std::int64_t out_size);
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& edge_fts, const torch::Tensor& graph_fts);

  std::int64_t nb_triplet_fts, out_size;
  torch::nn::Linear t1{nullptr}, t2{nullptr}, t3{nullptr}, te1{nullptr}, te2{nullptr}, te3{nullptr}, tg{nullptr},
      o3{nullptr};
};
TORCH_MODULE(TripletFn);

// Any triplet function: its parameters (registered under the processor as
// "triplet") and its forward. JIT-compiled children plug in here.
struct TripletInstance {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor& z, const torch::Tensor& edge_fts, const torch::Tensor& graph_fts)>
      forward;
};
using TripletFactory = std::function<TripletInstance(std::int64_t nb_triplet_fts, std::int64_t out_size)>;
// The baseline (seed v1): TripletFn.
TripletInstance baseline_triplet(std::int64_t nb_triplet_fts, std::int64_t out_size);

// ---------------------------------------------------------------- processor

// Triplet-GMPNN: max aggregation over the fully connected graph, a two-layer
// message MLP, LayerNorm, an update gate (last bias -3) and triplet edge
// latents (returned, not mixed into the node messages).
struct TripletGMPNNImpl : torch::nn::Module {
  TripletGMPNNImpl(std::int64_t hidden, std::int64_t nb_triplet_fts, const TripletFactory& triplet = {});
  // -> (new hidden [B, N, h], ReLU(triplet) [B, N, N, edge_out_size])
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& node_fts, const torch::Tensor& edge_fts,
                                                  const torch::Tensor& graph_fts, const torch::Tensor& hidden);

  std::int64_t hidden_size, edge_out_size = 0;  // the triplet output width, found by a probe call
  torch::nn::Linear m1{nullptr}, m2{nullptr}, me{nullptr}, mg{nullptr}, mlp1{nullptr}, mlp2{nullptr}, o1{nullptr},
      o2{nullptr}, gate1{nullptr}, gate2{nullptr}, gate3{nullptr};
  torch::nn::LayerNorm ln{nullptr};
  TripletInstance triplet;
};
TORCH_MODULE(TripletGMPNN);

// ---------------------------------------------------------------- the model

struct ModelConfig {
  std::int64_t hidden = 128;
  std::int64_t nb_triplet_fts = 8;
  TripletFactory triplet;         // empty: baseline_triplet
  bool xavier_on_scalars = true;  // encoder_init: scalar hint encoders with sd 1/sqrt(h)
  std::int64_t sinkhorn_steps = 10;
  double sinkhorn_temperature = 0.1;
};

// Predictions (logits; log-Sinkhorn for permutation pointers).
struct Predictions {
  std::map<std::string, torch::Tensor> outputs;  // [B, ...], read at each sample's last step
  std::map<std::string, torch::Tensor> hints;    // [S, B, ...], S = max(1, T - 1): step i predicts hint i + 1
};

struct ClrsModelImpl : torch::nn::Module {
  // The probes (their specs, node count-free shapes such as categorical
  // widths) come from an example batch of the algorithm.
  ClrsModelImpl(const TensorBatch& example, ModelConfig config = {});

  // train: Gumbel noise in the permutation decoders (repred = !train).
  Predictions forward(const TensorBatch& batch, bool train);

  ModelConfig config;
  std::vector<ProbeSpec> probes;
  std::map<std::string, std::int64_t> nb_dims;  // categorical widths (1 otherwise)
  std::map<std::string, std::vector<torch::nn::Linear>> encoders, decoders;
  TripletGMPNN processor{nullptr};

 private:
  void encode(const ProbeSpec& spec, const torch::Tensor& x, torch::Tensor& node_fts, torch::Tensor& edge_fts,
              torch::Tensor& graph_fts);
  torch::Tensor decode(const ProbeSpec& spec, const torch::Tensor& h_t, const torch::Tensor& e_t,
                       const torch::Tensor& graph_fts, bool train);
};
TORCH_MODULE(ClrsModel);

// ---------------------------------------------------------------- helpers

// decoders.log_sinkhorn on [..., N, N].
torch::Tensor log_sinkhorn(torch::Tensor x, std::int64_t steps, double temperature, bool zero_diagonal,
                           bool gumbel_noise);
bool is_pointer_like(Type t);  // pointer, should_be_permutation, permutation_pointer, soft_pointer
// Ground-truth data as the encoders see it (pointer indices one-hot).
torch::Tensor encoder_input(const ProbeSpec& spec, const torch::Tensor& data, std::int64_t nb_nodes);
// decoders.postprocess, soft (the fed-back hints: probabilities, soft pointers).
torch::Tensor soft_postprocess(const ProbeSpec& spec, const torch::Tensor& logits);
// decoders.postprocess, hard (evaluation): mask 0/1, mask_one / categorical
// one-hot, pointers (and permutation pointers, after 50 Sinkhorn steps) indices.
torch::Tensor hard_postprocess(const ProbeSpec& spec, const torch::Tensor& logits, std::int64_t sinkhorn_steps = 50);

// ---------------------------------------------------------------- losses

// losses.output_loss for one output probe (truth [B, ...], pred logits).
torch::Tensor output_loss(const ProbeSpec& spec, const torch::Tensor& truth, const torch::Tensor& pred,
                          std::int64_t nb_nodes);
// losses.hint_loss: truth [T, B, ...] (step 0 is not predicted), preds
// [S, B, ...]; the prediction at step i counts where lengths > i + 1.
torch::Tensor hint_loss(const ProbeSpec& spec, const torch::Tensor& truth, const torch::Tensor& preds,
                        const torch::Tensor& lengths, std::int64_t nb_nodes);
// The sum of all output and hint losses.
torch::Tensor total_loss(const TensorBatch& batch, const Predictions& preds);

// ---------------------------------------------------------------- evaluation

// evaluation.py's metric of one output: truth [B, ...] as in the batch,
// pred already hard-postprocessed. pointer: accuracy; mask: F1 of the
// positive class; mask_one / categorical: argmax accuracy over unmasked
// rows; scalar: MSE.
double eval_metric(const ProbeSpec& spec, const torch::Tensor& truth, const torch::Tensor& hard_pred);
// Every output's metric (permutation pointers fused with their `_mask` into
// node pointers first) and "score", their mean. Micro: pass the whole
// concatenated test set.
std::map<std::string, double> evaluate(const std::vector<ProbeTensor>& truth_outputs,
                                       const std::map<std::string, torch::Tensor>& output_logits);

// ---------------------------------------------------------------- training

// run.py's optimiser: Adam (lr 1e-3) with gradient clipping by global norm.
// libtorch's clip_grad_norm_ (L2) op for op, so the numbers are the same,
// without its return value: reading the norm would wait for the device.
void clip_grad_norm_in_place(const std::vector<torch::Tensor>& parameters, double max_norm);

struct ClrsTrainer {
  ClrsTrainer(ClrsModel model, double lr = 1e-3, double clip_norm = 1.0);
  // The loss before the update, as a 0-d tensor on the model's device: the
  // step never waits for the device (read it with item() when needed).
  torch::Tensor step(const TensorBatch& batch);
  ClrsModel model;
  torch::optim::Adam optimizer;
  double clip_norm;
};

}  // namespace evoprompt::clrs
