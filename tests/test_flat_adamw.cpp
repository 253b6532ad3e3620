#include "torch_catch.hpp"

#include "flat_adamw.hpp"

using namespace evoprompt;

namespace {

struct TwoLayer : torch::nn::Module {
  torch::nn::Linear a{nullptr}, b{nullptr};
  TwoLayer() {
    a = register_module("a", torch::nn::Linear(6, 5));
    b = register_module("b", torch::nn::Linear(5, 3));
  }
  torch::Tensor forward(torch::Tensor x) { return b(torch::tanh(a(x))); }
};

// Two models with the same initial weights (drawn after seeding with `seed`).
std::pair<std::shared_ptr<TwoLayer>, std::shared_ptr<TwoLayer>> twins(std::uint64_t seed) {
  torch::manual_seed(seed);
  auto first = std::make_shared<TwoLayer>();
  auto second = std::make_shared<TwoLayer>();
  torch::NoGradGuard g;
  for (std::size_t i = 0; i < first->parameters().size(); ++i) second->parameters()[i].copy_(first->parameters()[i]);
  return {first, second};
}

}  // namespace

TEST_CASE("FlatAdamW takes the same steps as torch::optim::AdamW", "[adamw]") {
  const auto [flat, ref] = twins(3);
  AdamWOptions o;
  o.lr = 0.05;
  o.weight_decay = 0.1;
  FlatAdamW mine(flat->parameters(), o);
  torch::optim::AdamW theirs(ref->parameters(),
                             torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(o.weight_decay));
  const auto x = torch::randn({8, 6});
  const auto y = torch::randint(0, 3, {8});
  for (int step = 0; step < 10; ++step) {
    mine.zero_grad();
    torch::nn::functional::cross_entropy(flat->forward(x), y).backward();
    mine.step();
    theirs.zero_grad();
    torch::nn::functional::cross_entropy(ref->forward(x), y).backward();
    theirs.step();
  }
  for (std::size_t i = 0; i < flat->parameters().size(); ++i)
    CHECK(torch::allclose(flat->parameters()[i], ref->parameters()[i], 1e-5, 1e-6));
  // The module's parameters and gradients live in one buffer each.
  const auto& p = flat->parameters();
  CHECK(p[1].data_ptr<float>() == p[0].data_ptr<float>() + p[0].numel());
  CHECK(p[1].grad().data_ptr<float>() == p[0].grad().data_ptr<float>() + p[0].numel());
}

TEST_CASE("FlatAdamW leaves frozen parameters alone and decays unused ones", "[adamw]") {
  auto used = torch::ones({2}, torch::requires_grad());
  auto unused = torch::ones({3}, torch::requires_grad());
  auto frozen = torch::ones({4});  // requires_grad false, like a frozen layer's weight
  const void* frozen_storage = frozen.data_ptr();
  AdamWOptions o;
  o.lr = 0.1;
  o.weight_decay = 0.5;
  FlatAdamW opt({used, frozen, unused}, o);
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    (used * 2 + (frozen * used.sum()).sum()).sum().backward();
    opt.step();
    if (step == 0) {
      // First step: adam moves by lr (m_hat / sqrt(v_hat) = 1) after decay 1 - lr*wd.
      CHECK(used[0].item<double>() == Approx(0.95 - 0.1).margin(1e-6));
      CHECK(unused[0].item<double>() == Approx(0.95).margin(1e-6));
    }
  }
  // The frozen parameter: not decayed, not updated, not re-seated in a flat buffer, no gradient.
  CHECK(torch::equal(frozen, torch::ones({4})));
  CHECK(frozen.data_ptr() == frozen_storage);
  CHECK_FALSE(frozen.grad().defined());
  CHECK(unused[0].item<double>() == Approx(std::pow(0.95, 3)).margin(1e-6));
}

TEST_CASE("capturable FlatAdamW, its step count on the device, takes the host-count steps bit for bit", "[adamw]") {
  const auto [host, device] = twins(5);
  AdamWOptions o;
  o.lr = 0.03;
  o.weight_decay = 0.01;
  FlatAdamW plain(host->parameters(), o);
  o.capturable = true;
  FlatAdamW capturable(device->parameters(), o);
  const auto x = torch::randn({16, 6});
  const auto y = torch::randint(0, 3, {16});
  for (int step = 0; step < 40; ++step) {
    plain.zero_grad();
    torch::nn::functional::cross_entropy(host->forward(x), y).backward();
    plain.step();
    capturable.zero_grad();
    torch::nn::functional::cross_entropy(device->forward(x), y).backward();
    capturable.step();
  }
  for (std::size_t i = 0; i < host->parameters().size(); ++i) {
    CHECK(torch::equal(host->parameters()[i], device->parameters()[i]));
    CHECK(!torch::equal(host->parameters()[i], TwoLayer().parameters()[i]));
  }
}
