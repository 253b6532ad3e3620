#include "clrs_model/clrs_model.hpp"

#include <cmath>
#include <stdexcept>

namespace evoprompt::clrs {

namespace F = torch::nn::functional;
using torch::Tensor;

// ================================================================ tensors

const ProbeTensor& TensorBatch::get(const std::string& probe) const {
  for (const auto* group : {&inputs, &outputs, &hints})
    for (const auto& p : *group)
      if (p.name() == probe) return p;
  throw std::out_of_range("clrs: tensor batch of " + algorithm + " has no probe '" + probe + "'");
}

namespace {

// To a GPU from pinned memory, without waiting for the copy.
Tensor on_device(Tensor host, torch::Device device) {
  if (!device.is_cuda()) return host.to(device);
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

ProbeTensor probe_tensor(const DataPoint& dp, torch::Device device) {
  std::vector<float> v(dp.data.values.begin(), dp.data.values.end());
  auto t = torch::from_blob(v.data(), dp.data.shape, torch::kFloat32).clone();
  return {dp.spec, on_device(t, device)};
}

}  // namespace

void clip_grad_norm_in_place(const std::vector<Tensor>& parameters, double max_norm) {
  std::vector<Tensor> norms;
  std::vector<Tensor> grads;
  for (const auto& p : parameters)
    if (p.grad().defined()) {
      grads.push_back(p.grad().data());
      norms.push_back(grads.back().norm(2.0));
    }
  if (grads.empty()) return;
  const Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2.0);
  const Tensor coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
  for (auto& g : grads) g.mul_(coef);
}

TensorBatch to_tensors(const Batch& batch, torch::Device device) {
  TensorBatch out;
  out.algorithm = batch.algorithm;
  for (const auto& dp : batch.inputs) out.inputs.push_back(probe_tensor(dp, device));
  for (const auto& dp : batch.outputs) out.outputs.push_back(probe_tensor(dp, device));
  for (const auto& dp : batch.hints) out.hints.push_back(probe_tensor(dp, device));
  out.lengths = on_device(torch::tensor(batch.lengths, torch::kInt64), device);
  out.batch_size = batch.size();
  for (const auto& p : out.inputs)
    if (p.spec.location != Location::graph) {
      out.nb_nodes = p.data.size(1);
      break;
    }
  if (out.nb_nodes == 0) throw std::invalid_argument("clrs: batch of " + batch.algorithm + " has no node input");
  return out;
}

void truncated_normal_(Tensor t, double stddev) {
  torch::NoGradGuard guard;
  t.normal_();
  for (;;) {
    auto bad = t.abs() > 2.0;
    if (!bad.any().item<bool>()) break;
    t.copy_(torch::where(bad, torch::empty_like(t).normal_(), t));
  }
  // hk.initializers.TruncatedNormal scales the [-2, 2] truncated standard
  // normal by stddev as it is (its own deviation is 0.88; only
  // VarianceScaling corrects for that).
  t.mul_(stddev);
}

void haiku_linear_init_(torch::nn::Module& module) {
  torch::NoGradGuard guard;
  for (const auto& m : module.modules(/*include_self=*/true))
    if (auto* linear = m->as<torch::nn::Linear>()) {
      truncated_normal_(linear->weight, 1.0 / std::sqrt(static_cast<double>(linear->weight.size(1))));
      if (linear->bias.defined()) linear->bias.zero_();
    }
}

torch::nn::Linear hk_linear(std::int64_t in, std::int64_t out, double stddev, double bias) {
  torch::nn::Linear l(in, out);
  truncated_normal_(l->weight, stddev < 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : stddev);
  torch::NoGradGuard guard;
  l->bias.fill_(bias);
  return l;
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

// ================================================================ triplets

TripletFnImpl::TripletFnImpl(std::int64_t nb, std::int64_t out) : nb_triplet_fts(nb), out_size(out) {}

TripletInstance baseline_triplet(std::int64_t nb_triplet_fts, std::int64_t out_size) {
  auto m = std::make_shared<TripletFnImpl>(nb_triplet_fts, out_size);
  TripletFnImpl* raw = m.get();
  return {m, [raw](const Tensor& z, const Tensor& e, const Tensor& g) { return raw->forward(z, e, g); }};
}

Tensor TripletFnImpl::forward(const Tensor& z, const Tensor& edge_fts, const Tensor& graph_fts) {
  if (!t1) {  // lazy: the input widths come from the first call
    auto zd = z.size(-1), ed = edge_fts.size(-1), gd = graph_fts.size(-1);
    t1 = register_module("t_1", hk_linear(zd, nb_triplet_fts));
    t2 = register_module("t_2", hk_linear(zd, nb_triplet_fts));
    t3 = register_module("t_3", hk_linear(zd, nb_triplet_fts));
    te1 = register_module("t_e_1", hk_linear(ed, nb_triplet_fts));
    te2 = register_module("t_e_2", hk_linear(ed, nb_triplet_fts));
    te3 = register_module("t_e_3", hk_linear(ed, nb_triplet_fts));
    tg = register_module("t_g", hk_linear(gd, nb_triplet_fts));
    o3 = register_module("o3", hk_linear(nb_triplet_fts, out_size));
    to(z.device());
  }
  auto tri_1 = t1(z).unsqueeze(2).unsqueeze(3);         // [B, N, 1, 1, H]
  auto tri_2 = t2(z).unsqueeze(1).unsqueeze(3);         // [B, 1, N, 1, H]
  auto tri_3 = t3(z).unsqueeze(1).unsqueeze(2);         // [B, 1, 1, N, H]
  auto tri_e_1 = te1(edge_fts).unsqueeze(3);            // [B, N, N, 1, H]
  auto tri_e_2 = te2(edge_fts).unsqueeze(2);            // [B, N, 1, N, H]
  auto tri_e_3 = te3(edge_fts).unsqueeze(1);            // [B, 1, N, N, H]
  auto tri_g = tg(graph_fts).view({graph_fts.size(0), 1, 1, 1, nb_triplet_fts});
  auto triplets = tri_1 + tri_2 + tri_3 + tri_e_1 + tri_e_2 + tri_e_3 + tri_g;  // [B, N, N, N, H]
  return o3(std::get<0>(triplets.max(1)));                                      // [B, N, N, out]
}

// ================================================================ processor

TripletGMPNNImpl::TripletGMPNNImpl(std::int64_t h, std::int64_t nb_triplet_fts, const TripletFactory& factory)
    : hidden_size(h) {
  m1 = register_module("m_1", hk_linear(2 * h, h));
  m2 = register_module("m_2", hk_linear(2 * h, h));
  me = register_module("m_e", hk_linear(h, h));
  mg = register_module("m_g", hk_linear(h, h));
  mlp1 = register_module("msg_mlp_1", hk_linear(h, h));
  mlp2 = register_module("msg_mlp_2", hk_linear(h, h));
  o1 = register_module("o1", hk_linear(2 * h, h));
  o2 = register_module("o2", hk_linear(h, h));
  ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(1e-5)));
  gate1 = register_module("gate1", hk_linear(2 * h, h));
  gate2 = register_module("gate2", hk_linear(h, h));
  gate3 = register_module("gate3", hk_linear(h, h, -1.0, -3.0));
  triplet = factory ? factory(nb_triplet_fts, h) : baseline_triplet(nb_triplet_fts, h);
  if (!triplet.module || !triplet.forward) throw std::invalid_argument("clrs: triplet factory gave no module");
  // A probe call materialises lazy parameters and tells the edge latent width.
  {
    torch::NoGradGuard guard;
    auto out = triplet.forward(torch::zeros({1, 2, 2 * h}), torch::zeros({1, 2, 2, h}), torch::zeros({1, h}));
    if (out.dim() != 4 || out.size(0) != 1 || out.size(1) != 2 || out.size(2) != 2)
      throw std::invalid_argument("clrs: the triplet function must return [B, N, N, F]");
    edge_out_size = out.size(3);
  }
  // The triplet functions are Haiku code: their Linear layers start as
  // hk.Linear does, whatever libtorch's default (uniform, with a bias).
  haiku_linear_init_(*triplet.module);
  register_module("triplet", triplet.module);
}

std::pair<Tensor, Tensor> TripletGMPNNImpl::forward(const Tensor& node_fts, const Tensor& edge_fts,
                                                    const Tensor& graph_fts, const Tensor& hidden) {
  auto z = torch::cat({node_fts, hidden}, -1);  // [B, N, 2h]
  auto tri_msgs = torch::relu(triplet.forward(z, edge_fts, graph_fts));
  // msgs[b, i, j]: sender i, receiver j.
  auto msgs = m1(z).unsqueeze(1) + m2(z).unsqueeze(2) + me(edge_fts) + mg(graph_fts).unsqueeze(1).unsqueeze(2);
  msgs = mlp2(torch::relu(mlp1(torch::relu(msgs))));
  msgs = std::get<0>(msgs.max(1));  // fully connected: max over all senders
  auto ret = ln(torch::relu(o1(z) + o2(msgs)));
  auto gate = torch::sigmoid(gate3(torch::relu(gate1(z) + gate2(msgs))));
  return {ret * gate + hidden * (1 - gate), tri_msgs};
}

// ================================================================ helpers

bool is_pointer_like(Type t) {
  return t == Type::pointer || t == Type::should_be_permutation || t == Type::permutation_pointer ||
         t == Type::soft_pointer;
}

namespace {
bool is_index_pointer(Type t) { return t == Type::pointer || t == Type::should_be_permutation; }
}  // namespace

Tensor log_sinkhorn(Tensor x, std::int64_t steps, double temperature, bool zero_diagonal, bool gumbel_noise) {
  if (gumbel_noise) {
    auto u = torch::rand_like(x);
    x = x - torch::log(-torch::log(u + 1e-12) + 1e-12);
  }
  x = x / temperature;
  if (zero_diagonal) x = x - 1e6 * torch::eye(x.size(-1), x.options());
  for (std::int64_t s = 0; s < steps; ++s) {
    x = torch::log_softmax(x, -1);
    x = torch::log_softmax(x, -2);
  }
  return x;
}

Tensor encoder_input(const ProbeSpec& spec, const Tensor& data, std::int64_t nb_nodes) {
  if (is_index_pointer(spec.type)) return F::one_hot(data.to(torch::kLong), nb_nodes).to(torch::kFloat32);
  return data;
}

Tensor soft_postprocess(const ProbeSpec& spec, const Tensor& logits) {
  switch (spec.type) {
    case Type::scalar: return logits;
    case Type::mask: return torch::sigmoid(logits);
    case Type::mask_one:
    case Type::categorical:
    case Type::pointer:
    case Type::should_be_permutation:
    case Type::soft_pointer: return torch::softmax(logits, -1);
    case Type::permutation_pointer: return torch::exp(log_sinkhorn(logits, 25, 0.1, true, false));
  }
  return logits;
}

Tensor hard_postprocess(const ProbeSpec& spec, const Tensor& logits, std::int64_t sinkhorn_steps) {
  switch (spec.type) {
    case Type::scalar: return logits;
    case Type::mask: return (logits > 0).to(torch::kFloat32);
    case Type::mask_one:
    case Type::categorical: return F::one_hot(logits.argmax(-1), logits.size(-1)).to(torch::kFloat32);
    case Type::pointer:
    case Type::should_be_permutation:
    case Type::soft_pointer: return logits.argmax(-1).to(torch::kFloat32);
    case Type::permutation_pointer:
      return log_sinkhorn(logits, sinkhorn_steps, 0.1, true, false).argmax(-1).to(torch::kFloat32);
  }
  return logits;
}

// ================================================================ the model

ClrsModelImpl::ClrsModelImpl(const TensorBatch& example, ModelConfig cfg) : config(std::move(cfg)) {
  const auto h = config.hidden;
  processor = register_module("processor", TripletGMPNN(h, config.nb_triplet_fts, config.triplet));
  const auto e_dim = h + processor->edge_out_size;
  auto add = [&](const ProbeTensor& p) {
    probes.push_back(p.spec);
    const auto& s = p.spec;
    std::int64_t nb = s.type == Type::categorical ? p.data.size(-1) : 1;
    nb_dims[s.name] = nb;
    std::vector<torch::nn::Linear>* enc = nullptr;
    std::vector<torch::nn::Linear>* dec = nullptr;
    if (s.stage == Stage::input || s.stage == Stage::hint) enc = &encoders[s.name];
    if (s.stage == Stage::output || s.stage == Stage::hint) dec = &decoders[s.name];
    if (enc) {  // encoders.construct_encoders
      double sd = (config.xavier_on_scalars && s.stage == Stage::hint && s.type == Type::scalar)
                      ? 1.0 / std::sqrt(static_cast<double>(h))
                      : -1.0;
      enc->push_back(hk_linear(nb, h, sd));
      if (s.location == Location::edge && is_pointer_like(s.type)) enc->push_back(hk_linear(1, h, sd));
      for (std::size_t k = 0; k < enc->size(); ++k)
        register_module("enc_" + s.name + "_" + std::to_string(k), (*enc)[k]);
    }
    if (dec) {  // decoders.construct_decoders
      const bool ptr = is_pointer_like(s.type);
      switch (s.location) {
        case Location::node:
          if (ptr)
            *dec = {hk_linear(3 * h, h), hk_linear(3 * h, h), hk_linear(e_dim, h), hk_linear(h, 1)};
          else
            *dec = {hk_linear(3 * h, nb)};
          break;
        case Location::edge:
          if (ptr)
            *dec = {hk_linear(3 * h, h), hk_linear(3 * h, h), hk_linear(e_dim, h), hk_linear(3 * h, h),
                    hk_linear(h, 1)};
          else
            *dec = {hk_linear(3 * h, nb), hk_linear(3 * h, nb), hk_linear(e_dim, nb)};
          break;
        case Location::graph:
          if (ptr)
            *dec = {hk_linear(3 * h, 1), hk_linear(h, 1), hk_linear(3 * h, 1)};
          else
            *dec = {hk_linear(3 * h, nb), hk_linear(h, nb)};
          break;
      }
      for (std::size_t k = 0; k < dec->size(); ++k)
        register_module("dec_" + s.name + "_" + std::to_string(k), (*dec)[k]);
    }
  };
  for (const auto& p : example.inputs) add(p);
  for (const auto& p : example.outputs) add(p);
  for (const auto& p : example.hints) add(p);
}

void ClrsModelImpl::encode(const ProbeSpec& s, const Tensor& x, Tensor& node_fts, Tensor& edge_fts,
                           Tensor& graph_fts) {
  auto& enc = encoders.at(s.name);
  auto encoding = s.type == Type::categorical ? enc[0](x) : enc[0](x.unsqueeze(-1));
  const bool ptr = is_pointer_like(s.type);
  switch (s.location) {
    case Location::node:
      if (ptr)
        edge_fts = edge_fts + encoding;  // [B, N, N, h]
      else
        node_fts = node_fts + encoding;
      break;
    case Location::edge:
      if (ptr) {  // x [B, N, N, N]: sender and receiver aggregates
        auto encoding_2 = enc[1](x.unsqueeze(-1));
        edge_fts = edge_fts + encoding.mean(1) + encoding_2.mean(2);
      } else {
        edge_fts = edge_fts + encoding;
      }
      break;
    case Location::graph:
      if (ptr)
        node_fts = node_fts + encoding;  // x [B, N]
      else
        graph_fts = graph_fts + encoding;
      break;
  }
}

Tensor ClrsModelImpl::decode(const ProbeSpec& s, const Tensor& h_t, const Tensor& e_t, const Tensor& graph_fts,
                             bool train) {
  auto& d = decoders.at(s.name);
  const bool ptr = is_pointer_like(s.type);
  const bool squeeze = s.type == Type::scalar || s.type == Type::mask || s.type == Type::mask_one;
  switch (s.location) {
    case Location::node: {
      if (!ptr) {
        auto pred = d[0](h_t);
        return squeeze ? pred.squeeze(-1) : pred;
      }
      auto p1 = d[0](h_t), p2 = d[1](h_t), p3 = d[2](e_t);
      auto p_e = p2.unsqueeze(-2) + p3;                                    // [B, j, i, H]
      auto p_m = torch::maximum(p1.unsqueeze(-2), p_e.transpose(1, 2));  // [B, i, j, H]
      auto preds = d[3](p_m).squeeze(-1);                                  // logit that i points to j
      if (s.type == Type::permutation_pointer)
        preds = log_sinkhorn(preds, config.sinkhorn_steps, config.sinkhorn_temperature, true, train);
      return preds;
    }
    case Location::edge: {
      auto pred = d[0](h_t).unsqueeze(-2) + d[1](h_t).unsqueeze(-3) + d[2](e_t);  // [B, N, N, .]
      if (!ptr) return squeeze ? pred.squeeze(-1) : pred;
      auto pred_2 = d[3](h_t).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, N, H]
      auto p_m = torch::maximum(pred.unsqueeze(-2), pred_2);
      return d[4](p_m).squeeze(-1);  // [B, N, N, N]: logits over k
    }
    case Location::graph: {
      auto gr_emb = std::get<0>(h_t.max(-2));
      auto pred = d[0](gr_emb) + d[1](graph_fts);  // [B, .]
      if (!ptr) return squeeze ? pred.squeeze(-1) : pred;
      return (pred.unsqueeze(1) + d[2](h_t).transpose(1, 2)).squeeze(1);  // [B, N]
    }
  }
  throw std::logic_error("clrs: bad location");
}

namespace {
Tensor expand_to(Tensor m, const Tensor& like) {
  while (m.dim() < like.dim()) m = m.unsqueeze(-1);
  return m;
}
}  // namespace

Predictions ClrsModelImpl::forward(const TensorBatch& batch, bool train) {
  const auto B = batch.batch_size, N = batch.nb_nodes, h = config.hidden;
  const auto opts = batch.inputs.front().data.options();
  const auto T = batch.max_steps();
  const auto nb_mp_steps = std::max<std::int64_t>(1, T - 1);
  auto hidden = torch::zeros({B, N, h}, opts);

  // Inputs are re-encoded at every step; their preprocessing is done once.
  std::vector<Tensor> inputs;
  for (const auto& p : batch.inputs) inputs.push_back(encoder_input(p.spec, p.data, N));

  Predictions out;
  std::map<std::string, std::vector<Tensor>> hint_steps;
  std::map<std::string, Tensor> prev_hints;
  for (std::int64_t i = 0; i < nb_mp_steps; ++i) {
    auto node_fts = torch::zeros({B, N, h}, opts);
    auto edge_fts = torch::zeros({B, N, N, h}, opts);
    auto graph_fts = torch::zeros({B, h}, opts);
    for (std::size_t k = 0; k < batch.inputs.size(); ++k)
      encode(batch.inputs[k].spec, inputs[k], node_fts, edge_fts, graph_fts);
    for (const auto& p : batch.hints) {
      // Step 0: the ground truth; then the previous step's soft predictions.
      auto x = i == 0 ? encoder_input(p.spec, p.data[0], N) : soft_postprocess(p.spec, prev_hints.at(p.name()));
      encode(p.spec, x, node_fts, edge_fts, graph_fts);
    }
    auto [nxt_hidden, nxt_edge] = processor->forward(node_fts, edge_fts, graph_fts, hidden);
    auto h_t = torch::cat({node_fts, hidden, nxt_hidden}, -1);
    auto e_t = torch::cat({edge_fts, nxt_edge}, -1);
    for (const auto& p : batch.hints) {
      auto pred = decode(p.spec, h_t, e_t, graph_fts, train);
      hint_steps[p.name()].push_back(pred);
      prev_hints[p.name()] = pred;
    }
    for (const auto& p : batch.outputs) {
      auto cand = decode(p.spec, h_t, e_t, graph_fts, train);
      if (i == 0) {
        out.outputs[p.name()] = cand;
      } else {
        auto not_done = expand_to(batch.lengths > i + 1, cand);
        out.outputs[p.name()] = torch::where(not_done, cand, out.outputs[p.name()]);
      }
    }
    hidden = nxt_hidden;
  }
  for (auto& [name, steps] : hint_steps) out.hints[name] = torch::stack(steps);
  return out;
}

// ================================================================ losses

namespace {
constexpr double kMasked = -1.0;
constexpr double kPositive = 1.0;

Tensor bce_with_logits(const Tensor& pred, const Tensor& truth) {
  return torch::clamp_min(pred, 0) - pred * truth + torch::log1p(torch::exp(-pred.abs()));
}

// -log p(truth index) per row: pointers are indices over the last axis.
Tensor pointer_nll(const Tensor& pred, const Tensor& truth) {
  auto idx = truth.to(torch::kLong).unsqueeze(-1);
  return -torch::log_softmax(pred, -1).gather(-1, idx).squeeze(-1);
}
}  // namespace

Tensor output_loss(const ProbeSpec& spec, const Tensor& truth, const Tensor& pred, std::int64_t) {
  switch (spec.type) {
    case Type::scalar: return (pred - truth).pow(2).mean();
    case Type::mask: {
      auto mask = (truth != kMasked).to(pred.dtype());
      return (bce_with_logits(pred, truth) * mask).sum() / mask.sum();
    }
    case Type::mask_one:
    case Type::categorical: {
      auto masked_truth = truth * (truth != kMasked).to(pred.dtype());
      return -(masked_truth * torch::log_softmax(pred, -1)).sum() / (truth == kPositive).sum().to(pred.dtype());
    }
    case Type::pointer:
    case Type::should_be_permutation:
    case Type::soft_pointer: return pointer_nll(pred, truth).mean();
    case Type::permutation_pointer: return (-(truth * pred).sum(-1)).mean();
  }
  throw std::logic_error("clrs: bad type");
}

Tensor hint_loss(const ProbeSpec& spec, const Tensor& truth, const Tensor& preds, const Tensor& lengths,
                 std::int64_t) {
  const auto S = std::min(truth.size(0) - 1, preds.size(0));
  if (S <= 0) return torch::zeros({}, preds.options());
  auto t = truth.slice(0, 1, 1 + S);
  auto p = preds.slice(0, 0, S);
  Tensor loss, mask;
  switch (spec.type) {
    case Type::scalar:
      loss = (p - t).pow(2);
      mask = torch::ones_like(loss);
      break;
    case Type::mask:
      loss = bce_with_logits(p, t);
      mask = (t != kMasked).to(p.dtype());
      break;
    case Type::mask_one:
    case Type::categorical:
      loss = -(t * torch::log_softmax(p, -1)).sum(-1, true);
      mask = (t == kPositive).any(-1, true).to(p.dtype());
      break;
    case Type::pointer:
    case Type::should_be_permutation:
    case Type::soft_pointer:
      loss = pointer_nll(p, t);
      mask = torch::ones_like(loss);
      break;
    case Type::permutation_pointer:
      loss = -(t * p).sum(-1);
      mask = torch::ones_like(loss);
      break;
  }
  auto steps = torch::arange(S, lengths.options()).unsqueeze(1);          // [S, 1]
  auto not_done = (lengths.unsqueeze(0) > steps + 1).to(p.dtype());       // [S, B]
  mask = mask * expand_to(not_done, loss);
  return (loss * mask).sum() / torch::clamp_min(mask.sum(), 1e-12);
}

Tensor total_loss(const TensorBatch& batch, const Predictions& preds) {
  auto total = torch::zeros({}, batch.lengths.device());
  for (const auto& p : batch.outputs)
    total = total + output_loss(p.spec, p.data, preds.outputs.at(p.name()), batch.nb_nodes);
  for (const auto& p : batch.hints)
    total = total + hint_loss(p.spec, p.data, preds.hints.at(p.name()), batch.lengths, batch.nb_nodes);
  return total;
}

// ================================================================ evaluation

double eval_metric(const ProbeSpec& spec, const Tensor& truth_in, const Tensor& pred_in) {
  auto truth = truth_in.to(torch::kCPU, torch::kFloat64);
  auto pred = pred_in.to(torch::kCPU, torch::kFloat64);
  switch (spec.type) {
    case Type::scalar: return (pred - truth).pow(2).mean().item<double>();
    case Type::mask: {
      auto mask = truth != kMasked;
      auto p = (pred > 0.5) & mask, t = (truth > 0.5) & mask;
      double tp = (p & t).sum().item<double>(), fp = (p & ~t).sum().item<double>(),
             fn = (~p & t & mask).sum().item<double>();
      double precision = tp + fp > 0 ? tp / (tp + fp) : 1.0;
      double recall = tp + fn > 0 ? tp / (tp + fn) : 1.0;
      return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    }
    case Type::mask_one:
    case Type::categorical: {
      auto mask = (truth != kMasked).all(-1).to(torch::kFloat64);
      auto eq = (pred.argmax(-1) == truth.argmax(-1)).to(torch::kFloat64);
      return ((eq * mask).sum() / mask.sum()).item<double>();
    }
    case Type::pointer:
    case Type::should_be_permutation:
    case Type::soft_pointer: return (pred == truth).to(torch::kFloat64).mean().item<double>();
    case Type::permutation_pointer:
      return (pred.argmax(-1) == truth.argmax(-1)).to(torch::kFloat64).mean().item<double>();
  }
  throw std::logic_error("clrs: bad type");
}

std::map<std::string, double> evaluate(const std::vector<ProbeTensor>& truth_outputs,
                                       const std::map<std::string, Tensor>& output_logits) {
  std::map<std::string, double> evals;
  auto find = [&](const std::string& name) -> const ProbeTensor* {
    for (const auto& p : truth_outputs)
      if (p.name() == name) return &p;
    return nullptr;
  };
  for (const auto& truth : truth_outputs) {
    const auto& s = truth.spec;
    auto hard = hard_postprocess(s, output_logits.at(s.name));
    if (s.type == Type::permutation_pointer) {
      // Fused with `<name>_mask`: the first node points to itself.
      const auto* mask = find(s.name + "_mask");
      if (!mask) throw std::invalid_argument("clrs: evaluate: " + s.name + " has no _mask output");
      auto ar = torch::arange(truth.data.size(-1), truth.data.options());
      auto mask_pred = hard_postprocess(mask->spec, output_logits.at(mask->name()));
      auto fused_truth = torch::where(mask->data > 0.5, ar, truth.data.argmax(-1).to(ar.dtype()));
      auto fused_pred = torch::where(mask_pred > 0.5, ar, hard.to(ar.dtype()));
      ProbeSpec ptr = s;
      ptr.type = Type::pointer;
      evals[s.name] = eval_metric(ptr, fused_truth, fused_pred);
      continue;
    }
    if (s.type == Type::mask_one && s.name.size() > 5 && s.name.compare(s.name.size() - 5, 5, "_mask") == 0) {
      const auto* perm = find(s.name.substr(0, s.name.size() - 5));
      if (perm && perm->spec.type == Type::permutation_pointer) continue;  // fused above
    }
    evals[s.name] = eval_metric(s, truth.data, hard);
  }
  double sum = 0;
  for (const auto& [k, v] : evals) sum += v;
  evals["score"] = evals.empty() ? 0.0 : sum / static_cast<double>(evals.size());
  return evals;
}

// ================================================================ training

ClrsTrainer::ClrsTrainer(ClrsModel m, double lr, double clip)
    : model(std::move(m)), optimizer(model->parameters(), torch::optim::AdamOptions(lr)), clip_norm(clip) {}

Tensor ClrsTrainer::step(const TensorBatch& batch) {
  model->train();
  optimizer.zero_grad();
  auto preds = model->forward(batch, /*train=*/true);
  auto loss = total_loss(batch, preds);
  loss.backward();
  clip_grad_norm_in_place(model->parameters(), clip_norm);
  optimizer.step();
  return loss.detach();
}

}  // namespace evoprompt::clrs
