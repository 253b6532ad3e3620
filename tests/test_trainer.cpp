#include "torch_catch.hpp"

#include "canonical_mnist1d.hpp"
#include "mnist1d.hpp"
#include "seeds.hpp"
#include "trainer.hpp"

using namespace evoprompt;

namespace {

const ClassificationData& canonical_data() {
  static const ClassificationData data = [] {
    const auto& d = testing::canonical_mnist1d();
    return make_classification_data(d, holdout_split(d.num_train(), 500, 42), torch::kCPU);
  }();
  return data;
}

const Seed& cnn_seed() {
  for (const auto& s : mnist1d_seeds())
    if (s.name == "cnn") return s;
  throw std::logic_error("no cnn seed");
}

TrainOptions cpu_options(std::int64_t steps) {
  torch::set_num_threads(1);
  TrainOptions o;
  o.steps = steps;
  o.eval_every = 50;
  return o;
}

}  // namespace

TEST_CASE("classification data follows the 3500/500/1000 split", "[trainer]") {
  const auto& d = canonical_data();
  CHECK(d.x_train.sizes() == torch::IntArrayRef({3500, 40}));
  CHECK(d.x_val.sizes() == torch::IntArrayRef({500, 40}));
  CHECK(d.x_test.sizes() == torch::IntArrayRef({1000, 40}));
  CHECK(d.x_train.scalar_type() == torch::kFloat32);
  CHECK(d.y_val.scalar_type() == torch::kInt64);
  // Validation row k is canonical row split.val[k], converted to float32.
  const auto& canonical = testing::canonical_mnist1d();
  const auto split = holdout_split(4000, 500, 42);
  for (std::int64_t k : {0, 7, 499}) {
    const auto row = split.val[k];
    CHECK(d.x_val[k][39].item<float>() == static_cast<float>(canonical.x[row * 40 + 39]));
    CHECK(d.y_val[k].item<std::int64_t>() == canonical.y[row]);
  }
}

TEST_CASE("a short training run is deterministic on one CPU thread", "[trainer]") {
  const auto a = train_classifier(cnn_seed().factory, canonical_data(), cpu_options(100));
  const auto b = train_classifier(cnn_seed().factory, canonical_data(), cpu_options(100));
  CHECK(a.final_train_loss == b.final_train_loss);
  CHECK(a.best_val_acc == b.best_val_acc);
  CHECK(a.test_acc == b.test_acc);
  CHECK(a.best_step == b.best_step);
  auto other = cpu_options(100);
  other.seed = 1;
  CHECK(train_classifier(cnn_seed().factory, canonical_data(), other).final_train_loss != a.final_train_loss);
  CHECK(a.steps == 100);
  CHECK(a.params.used == 5210);
  CHECK(a.step_path == "eager");  // the CPU has no CUDA graphs, asked for or not
  auto no_graph = cpu_options(100);
  no_graph.cuda_graph = false;
  CHECK(train_classifier(cnn_seed().factory, canonical_data(), no_graph).final_train_loss == a.final_train_loss);
}

TEST_CASE("500 steps of the CNN seed reach validation accuracy 0.6", "[trainer]") {
  const auto r = train_classifier(cnn_seed().factory, canonical_data(), cpu_options(500));
  CHECK(r.best_val_acc >= 0.6);
  CHECK(r.test_acc >= 0.55);
  CHECK(r.best_step % 50 == 0);
  CHECK(r.steps_per_s() > 0.0);
}

TEST_CASE("training options are validated", "[trainer]") {
  auto o = cpu_options(0);
  CHECK_THROWS_WITH(train_classifier(cnn_seed().factory, canonical_data(), o), Catch::Contains("steps"));
  o = cpu_options(10);
  o.adamw.lr = -1;
  CHECK_THROWS_WITH(train_classifier(cnn_seed().factory, canonical_data(), o), Catch::Contains("learning rate"));
}

TEST_CASE("the CNN seed under the full 8000-step protocol reaches the reference accuracy", "[slow][trainer]") {
  auto o = cpu_options(8000);
  o.eval_every = 250;
  const auto r = train_classifier(cnn_seed().factory, canonical_data(), o);
  // The Python PyTorch 1.13 protocol reaches 0.946 on this data; seed 0 here
  // reproduces the Python loop step for step (tests/python_parity.sh).
  CHECK(r.test_acc == Approx(0.946).margin(0.01));
  CHECK(r.best_val_acc >= 0.92);
  CHECK(r.best_step % 250 == 0);
}
