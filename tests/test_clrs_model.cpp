#include "torch_catch.hpp"

#include <chrono>
#include <cmath>
#include <iostream>

#include "clrs/batch.hpp"
#include "clrs/samplers.hpp"
#include "clrs_model/clrs_model.hpp"

using namespace evoprompt::clrs;
using torch::Tensor;

namespace {

ProbeSpec spec_of(Stage stage, Location loc, Type type, const std::string& name = "x") {
  return ProbeSpec{name, stage, loc, type};
}

Tensor tf(std::vector<float> v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kFloat32).view(shape);
}

double value(const Tensor& t) { return t.item<double>(); }

TensorBatch sample_batch(const std::string& algorithm, int64_t n, int64_t b, BatchOptions opts = {},
                         uint32_t seed = 1) {
  Sampler sampler(algorithm, seed, n);
  std::vector<Sample> samples;
  for (int64_t i = 0; i < b; ++i) samples.push_back(sampler.next());
  return to_tensors(make_batch(samples, opts));
}

}  // namespace

TEST_CASE("clrs_model: output losses on tiny tensors", "[clrs_model]") {
  const auto out = Stage::output;
  SECTION("scalar: mean squared error") {
    auto l = output_loss(spec_of(out, Location::node, Type::scalar), tf({0, 4}, {1, 2}), tf({1, 2}, {1, 2}), 2);
    CHECK(value(l) == Approx(2.5));
  }
  SECTION("mask: BCE over unmasked entries") {
    auto l = output_loss(spec_of(out, Location::node, Type::mask), tf({1, 0, -1}, {1, 3}), tf({0, 2, -1}, {1, 3}), 3);
    double want = (std::log(2.0) + (2.0 + std::log1p(std::exp(-2.0)))) / 2;
    CHECK(value(l) == Approx(want));
  }
  SECTION("mask_one: cross-entropy over the positives") {
    auto l = output_loss(spec_of(out, Location::node, Type::mask_one), tf({0, 1}, {1, 2}),
                         tf({0, (float)std::log(3.0)}, {1, 2}), 2);
    CHECK(value(l) == Approx(-std::log(0.75)));
  }
  SECTION("categorical: summed cross-entropy / number of positives; masked rows contribute 0") {
    auto truth = tf({1, 0, 0, 1, -1, -1}, {1, 3, 2});
    auto pred = tf({0, 0, 0, (float)std::log(3.0), 5, -5}, {1, 3, 2});
    auto l = output_loss(spec_of(out, Location::node, Type::categorical), truth, pred, 3);
    CHECK(value(l) == Approx((std::log(2.0) - std::log(0.75)) / 2));
  }
  SECTION("pointer: mean cross-entropy over nodes") {
    auto l = output_loss(spec_of(out, Location::node, Type::pointer), tf({0, 0}, {1, 2}),
                         tf({0, 0, (float)std::log(3.0), 0}, {1, 2, 2}), 2);
    CHECK(value(l) == Approx((std::log(2.0) + std::log(4.0 / 3.0)) / 2));
  }
  SECTION("permutation pointer: -sum(truth * log-sinkhorn), mean over rows") {
    auto pred = torch::log(tf({0.5, 0.5, 0.2, 0.8}, {1, 2, 2}));
    auto l = output_loss(spec_of(out, Location::node, Type::permutation_pointer), tf({0, 1, 1, 0}, {1, 2, 2}), pred, 2);
    CHECK(value(l) == Approx((std::log(2.0) + std::log(5.0)) / 2));
  }
}

TEST_CASE("clrs_model: hint losses mask finished steps and masked entries", "[clrs_model]") {
  const auto hint = Stage::hint;
  auto lengths = torch::tensor(std::vector<int64_t>{3, 2});
  SECTION("scalar: step 1 of the length-2 sample does not count") {
    auto truth = torch::zeros({3, 2, 1});
    auto preds = tf({1, 2, 3, 100}, {2, 2, 1});
    auto l = hint_loss(spec_of(hint, Location::node, Type::scalar), truth, preds, lengths, 1);
    CHECK(value(l) == Approx(14.0 / 3.0));
  }
  SECTION("mask: -1 entries are excluded") {
    auto truth = tf({0, 0, 0, 0, 1, -1, 0, 0, 0, 0, 0, 0}, {3, 2, 2});
    auto preds = torch::zeros({2, 2, 2});
    // Counted: step 0 of b0 (truth 1, -1 masked), b1 (0, 0); step 1 of b0 (0, 0).
    auto l = hint_loss(spec_of(hint, Location::node, Type::mask), truth, preds, lengths, 2);
    CHECK(value(l) == Approx(std::log(2.0)));
  }
  SECTION("mask_one: rows without a positive are excluded") {
    auto truth = tf({0, 0, 0, 0, 0, 1, 0, 0}, {2, 2, 2});  // step 1: b0 [0, 1], b1 [0, 0]
    auto preds = tf({0, (float)std::log(3.0), 7, -7}, {1, 2, 2});
    auto l = hint_loss(spec_of(hint, Location::node, Type::mask_one), truth, preds,
                       torch::tensor(std::vector<int64_t>{2, 2}), 2);
    CHECK(value(l) == Approx(-std::log(0.75)));
  }
  SECTION("pointer: cross-entropy per node, averaged over valid steps") {
    auto truth = tf({0, 0, 0, 0, 1, 0, 1, 1}, {2, 2, 2});  // step 1: b0 [1, 0], b1 [1, 1]
    auto preds = torch::zeros({1, 2, 2, 2});
    auto l = hint_loss(spec_of(hint, Location::node, Type::pointer), truth, preds,
                       torch::tensor(std::vector<int64_t>{2, 1}), 2);
    CHECK(value(l) == Approx(std::log(2.0)));  // only b0 counts
  }
}

TEST_CASE("clrs_model: evaluation metrics", "[clrs_model]") {
  const auto out = Stage::output;
  SECTION("pointer accuracy") {
    CHECK(eval_metric(spec_of(out, Location::node, Type::pointer), tf({0, 1, 2, 2}, {1, 4}),
                      tf({0, 1, 1, 2}, {1, 4})) == Approx(0.75));
  }
  SECTION("mask F1 and its edge cases") {
    auto s = spec_of(out, Location::node, Type::mask);
    CHECK(eval_metric(s, tf({1, 1, 0, 0, -1}, {1, 5}), tf({1, 0, 1, 0, 1}, {1, 5})) == Approx(0.5));
    CHECK(eval_metric(s, tf({0, 0}, {1, 2}), tf({0, 0}, {1, 2})) == Approx(1.0));  // no positives at all
    CHECK(eval_metric(s, tf({1, 0}, {1, 2}), tf({0, 0}, {1, 2})) == Approx(0.0));  // recall 0
    CHECK(eval_metric(s, tf({1, 1, 0}, {1, 3}), tf({1, 0, 0}, {1, 3})) == Approx(2.0 / 3.0));
  }
  SECTION("categorical accuracy over unmasked rows") {
    CHECK(eval_metric(spec_of(out, Location::node, Type::categorical), tf({0, 1, 1, 0, -1, -1}, {1, 3, 2}),
                      tf({0, 1, 0, 1, 1, 0}, {1, 3, 2})) == Approx(0.5));
  }
  SECTION("hard postprocessing") {
    CHECK(torch::equal(hard_postprocess(spec_of(out, Location::node, Type::mask), tf({-1, 0.5}, {2})), tf({0, 1}, {2})));
    CHECK(torch::equal(hard_postprocess(spec_of(out, Location::node, Type::pointer), tf({0, 3, 1, 5, 0, 0}, {2, 3})),
                       tf({1, 0}, {2})));
  }
  SECTION("permutation pointer fused with its mask; score is the mean") {
    // Truth: node 0 first (points to itself after fusion), 1 -> 0, 2 -> 1.
    auto perm = tf({0, 0, 1, 1, 0, 0, 0, 1, 0}, {1, 3, 3});
    std::vector<ProbeTensor> truth{{spec_of(out, Location::node, Type::permutation_pointer, "pred"), perm},
                                   {spec_of(out, Location::node, Type::mask_one, "pred_mask"), tf({1, 0, 0}, {1, 3})}};
    std::map<std::string, Tensor> logits{{"pred", log_sinkhorn(10 * perm, 10, 0.1, true, false)},
                                         {"pred_mask", tf({5, 0, 0}, {1, 3})}};
    auto e = evaluate(truth, logits);
    CHECK(e.size() == 2);
    CHECK(e.at("pred") == Approx(1.0));
    CHECK(e.at("score") == Approx(1.0));
    logits["pred_mask"] = tf({0, 5, 0}, {1, 3});  // fused pred [2, 1, 1] vs [0, 0, 1]
    e = evaluate(truth, logits);
    CHECK(e.at("pred") == Approx(1.0 / 3.0));
    CHECK(e.at("score") == Approx(1.0 / 3.0));
  }
}

TEST_CASE("clrs_model: log-Sinkhorn gives a doubly stochastic matrix with an empty diagonal", "[clrs_model]") {
  torch::manual_seed(0);
  auto p = torch::exp(log_sinkhorn(torch::randn({2, 5, 5}), 100, 1.0, true, false));
  CHECK(torch::allclose(p.sum(-1), torch::ones({2, 5}), 1e-3, 1e-3));
  CHECK(torch::allclose(p.sum(-2), torch::ones({2, 5}), 1e-3, 1e-3));
  CHECK(p.diagonal(0, -2, -1).max().item<float>() < 1e-6);
}

TEST_CASE("clrs_model: parameter counts", "[clrs_model]") {
  torch::manual_seed(0);
  SECTION("the baseline triplet block: 11,448 (paper.md section 7)") {
    auto t = baseline_triplet(8, 128);
    auto out = t.forward(torch::zeros({2, 3, 256}), torch::zeros({2, 3, 3, 128}), torch::zeros({2, 128}));
    CHECK(out.sizes() == torch::IntArrayRef({2, 3, 3, 128}));
    CHECK(count_parameters(*t.module) == 11448);
  }
  SECTION("the Triplet-GMPNN processor: 258,872 (datasets.md B.7)") {
    TripletGMPNN p(128, 8);
    CHECK(count_parameters(*p) == 258872);
    CHECK(p->edge_out_size == 128);
  }
  SECTION("whole models as EvoPrompting reports them") {
    CHECK(count_parameters(*ClrsModel(sample_batch("bfs", 5, 2))) == 523963);
    BatchOptions perms;
    perms.process_permutations = true;
    // Bubble sort's 524,477; insertion sort has the same probes.
    CHECK(count_parameters(*ClrsModel(sample_batch("insertion_sort", 5, 2, perms))) == 524477);
    BatchOptions pred;
    pred.pred_as_input = true;
    CHECK(count_parameters(*ClrsModel(sample_batch("activity_selector", 5, 2, pred))) == 262204);
  }
}

TEST_CASE("clrs_model: shapes through encode-process-decode", "[clrs_model]") {
  torch::manual_seed(0);
  SECTION("bfs") {
    auto b = sample_batch("bfs", 8, 3);
    ClrsModel model(b);
    const auto S = std::max<int64_t>(1, b.max_steps() - 1);
    for (bool train : {true, false}) {
      auto p = model->forward(b, train);
      CHECK(p.outputs.at("pi").sizes() == torch::IntArrayRef({3, 8, 8}));
      CHECK(p.hints.at("pi_h").sizes() == torch::IntArrayRef({S, 3, 8, 8}));
      CHECK(p.hints.at("reach_h").sizes() == torch::IntArrayRef({S, 3, 8}));
      auto l = total_loss(b, p);
      CHECK(std::isfinite(l.item<double>()));
      auto e = evaluate(b.outputs, p.outputs);
      CHECK(e.count("pi") == 1);
      CHECK(e.at("score") >= 0.0);
      CHECK(e.at("score") <= 1.0);
    }
  }
  SECTION("insertion_sort with permutation outputs") {
    BatchOptions opts;
    opts.process_permutations = true;
    auto b = sample_batch("insertion_sort", 6, 2, opts);
    ClrsModel model(b);
    auto p = model->forward(b, true);
    CHECK(p.outputs.at("pred").sizes() == torch::IntArrayRef({2, 6, 6}));
    CHECK(p.outputs.at("pred_mask").sizes() == torch::IntArrayRef({2, 6}));
    CHECK(p.hints.at("pred_h").sizes() == torch::IntArrayRef({b.max_steps() - 1, 2, 6, 6}));
    CHECK(p.hints.at("i").sizes() == torch::IntArrayRef({b.max_steps() - 1, 2, 6}));
    auto l = total_loss(b, p);
    CHECK(std::isfinite(l.item<double>()));
    l.backward();
    auto e = evaluate(b.outputs, model->forward(b, false).outputs);
    CHECK(e.count("pred") == 1);
    CHECK(e.count("pred_mask") == 0);
  }
}

TEST_CASE("clrs_model: a replacement triplet function plugs in", "[clrs_model]") {
  torch::manual_seed(0);
  // An 8-wide triplet output without the out_size projection (as QUADNODEMINMAX):
  // the decoders' edge inputs shrink to h + 8.
  struct Narrow : torch::nn::Module {
    torch::nn::Linear lin{nullptr};
    explicit Narrow(int64_t nb) { lin = register_module("lin", torch::nn::Linear(256, nb)); }
  };
  TripletFactory factory = [](int64_t nb, int64_t) {
    auto m = std::make_shared<Narrow>(nb);
    Narrow* raw = m.get();
    return TripletInstance{m, [raw](const Tensor& z, const Tensor&, const Tensor&) {
                             auto t = raw->lin(z);  // [B, N, 8]
                             return (t.unsqueeze(1) + t.unsqueeze(2));
                           }};
  };
  ModelConfig cfg;
  cfg.triplet = factory;
  auto b = sample_batch("bfs", 5, 2);
  ClrsModel model(b, cfg);
  CHECK(model->processor->edge_out_size == 8);
  // Baseline 523,963 - 11,448 (triplet) + 256*8+8 - 2 pointer decoders x 120*128.
  CHECK(count_parameters(*model) == 523963 - 11448 + 2056 - 2 * 120 * 128);
  auto p = model->forward(b, true);
  CHECK(p.outputs.at("pi").sizes() == torch::IntArrayRef({2, 5, 5}));
}

TEST_CASE("clrs_model: clipping without a device sync gives libtorch's clip_grad_norm_ bit for bit", "[clrs_model]") {
  torch::manual_seed(3);
  for (double scale : {0.01, 10.0}) {  // under the norm (left as is) and over it (scaled down)
    std::vector<torch::Tensor> ours, theirs;
    for (auto shape : {std::vector<std::int64_t>{4, 3}, {7}, {2, 2, 5}}) {
      auto p = torch::zeros(shape, torch::requires_grad());
      p.mutable_grad() = torch::randn(shape) * scale;
      auto q = torch::zeros(shape, torch::requires_grad());
      q.mutable_grad() = p.grad().clone();
      ours.push_back(p);
      theirs.push_back(q);
    }
    ours.push_back(torch::zeros({3}, torch::requires_grad()));  // no gradient: skipped by both
    theirs.push_back(torch::zeros({3}, torch::requires_grad()));
    clip_grad_norm_in_place(ours, 1.0);
    torch::nn::utils::clip_grad_norm_(theirs, 1.0);
    for (std::size_t i = 0; i < 3; ++i) CHECK(torch::equal(ours[i].grad(), theirs[i].grad()));
    CHECK_FALSE(ours[3].grad().defined());
    const double norm = torch::stack({ours[0].grad().norm(), ours[1].grad().norm(), ours[2].grad().norm()}).norm().item<double>();
    if (scale > 1) CHECK(norm == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("clrs_model: 200 BFS training steps lower the loss", "[clrs_model][slow]") {
  // Batch 8, not the paper's 32: the same 200 steps in a quarter of the CI time.
  constexpr int kBatch = 8;
  torch::manual_seed(42);
  Sampler sampler("bfs", 1, 16);
  auto next = [&] {
    std::vector<Sample> samples;
    for (int i = 0; i < kBatch; ++i) samples.push_back(sampler.next());
    return to_tensors(make_batch(samples));
  };
  auto first = next();
  ClrsTrainer trainer(ClrsModel(first), 1e-3, 1.0);
  std::vector<double> losses;
  double model_seconds = 0;
  auto batch = first;
  for (int step = 0; step < 200; ++step) {
    if (step > 0) batch = next();
    auto t0 = std::chrono::steady_clock::now();
    losses.push_back(trainer.step(batch).item<double>());
    model_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  double head = 0, tail = 0;
  for (int i = 0; i < 10; ++i) head += losses[i] / 10, tail += losses[190 + i] / 10;
  std::cout << "clrs_model: bfs loss " << head << " (steps 0-9) -> " << tail << " (steps 190-199); "
            << 200.0 / model_seconds << " train steps/s (batch " << kBatch << ", n 16, " << torch::get_num_threads()
            << " threads)\n";
  CHECK(std::isfinite(tail));
  CHECK(tail < 0.7 * head);
  // The trained model on fresh samples, with its own hints fed back.
  trainer.model->eval();
  torch::NoGradGuard no_grad;
  auto val = next();
  auto score = evaluate(val.outputs, trainer.model->forward(val, false).outputs).at("score");
  std::cout << "clrs_model: bfs pi accuracy on a fresh batch after 200 steps: " << score << "\n";
  CHECK(score > 0.5);
}
