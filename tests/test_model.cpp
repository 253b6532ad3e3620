#include "torch_catch.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "jit_model.hpp"
#include "model.hpp"
#include "seeds.hpp"

using namespace evoprompt;

namespace {

const Seed& seed_named(const std::string& name) {
  for (const auto& s : mnist1d_seeds())
    if (s.name == name) return s;
  FAIL("no seed " << name);
  throw;
}

template <typename M>
ModelInstance instance_of() {
  auto m = std::make_shared<M>();
  M* raw = m.get();
  return {m, [raw](const torch::Tensor& x) { return raw->forward(x); }};
}

// Registers a layer it never calls, and calls another one twice.
struct UnusedAndShared : torch::nn::Module {
  torch::nn::Linear shared{nullptr}, unused{nullptr}, head{nullptr};
  UnusedAndShared() {
    shared = register_module("shared", torch::nn::Linear(40, 40));
    unused = register_module("unused", torch::nn::Linear(40, 1000));
    head = register_module("head", torch::nn::Linear(40, 10));
  }
  torch::Tensor forward(torch::Tensor x) { return head(shared(shared(x))); }
};

struct WrongShape : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  WrongShape() { fc = register_module("fc", torch::nn::Linear(40, 7)); }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};

}  // namespace

TEST_CASE("the four MNIST-1D seeds have the paper's parameter counts", "[seeds][params]") {
  const std::map<std::string, ParamCount> expected = {
      {"large_cnn", {91082, 91082}},
      {"cnn", {5210, 5210}},
      {"gru", {4810, 5134}},  // the frozen GRU's 324 weights are registered but never trained
      {"residual_mlp", {15210, 15210}},
  };
  REQUIRE(mnist1d_seeds().size() == 4);
  for (const auto& seed : mnist1d_seeds()) {
    INFO(seed.name);
    const auto count = count_params(seed.factory(), 40, 10);
    CHECK(count.used == expected.at(seed.name).used);
    CHECK(count.total == expected.at(seed.name).total);
  }
}

TEST_CASE("seed files keep the child contract: one struct Model, no includes", "[seeds]") {
  for (const auto& seed : mnist1d_seeds()) {
    INFO(seed.file);
    std::ifstream in(std::string(EVOPROMPT_SEEDS_DIR) + "/" + seed.file);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str().find("#include") == std::string::npos);
    CHECK(text.str().find("struct Model : torch::nn::Module {") != std::string::npos);
    CHECK(text.str().find("torch::Tensor forward(torch::Tensor x)") != std::string::npos);
  }
  const auto out = seed_named("cnn").factory().forward(torch::zeros({3, 40}));
  CHECK(out.sizes() == torch::IntArrayRef({3, 10}));
}

TEST_CASE("count_params counts used parameters once and skips unused modules", "[params]") {
  const auto count = count_params(instance_of<UnusedAndShared>(), 40, 10);
  CHECK(count.used == 40 * 40 + 40 + 40 * 10 + 10);
  CHECK(count.total == count.used + 40 * 1000 + 1000);
}

TEST_CASE("count_params rejects a forward with the wrong output shape", "[params]") {
  CHECK_THROWS_WITH(count_params(instance_of<WrongShape>(), 40, 10),
                    Catch::Contains("expected [2, 10]") && Catch::Contains("[2, 7]"));
}

TEST_CASE("children compile with the standard library ABI of the linked libtorch", "[jit]") {
  const auto flags = torch_jit_options("").flags;
  const std::string abi = "-D_GLIBCXX_USE_CXX11_ABI=" + std::to_string(_GLIBCXX_USE_CXX11_ABI);
  CHECK(std::count(flags.begin(), flags.end(), abi) == 1);
  CHECK(std::count_if(flags.begin(), flags.end(),
                      [](const std::string& f) { return f.rfind("-D_GLIBCXX_USE_CXX11_ABI=", 0) == 0; }) == 1);
}

TEST_CASE("flax init: zero biases and LeCun-normal kernels truncated at 2 std", "[init]") {
  torch::manual_seed(1);
  auto lin = torch::nn::Linear(400, 300);
  auto conv = torch::nn::Conv1d(torch::nn::Conv1dOptions(20, 50, 5));
  apply_init(*lin, InitScheme::flax);
  apply_init(*conv, InitScheme::flax);
  CHECK(lin->bias.abs().max().item<double>() == 0.0);
  CHECK(conv->bias.abs().max().item<double>() == 0.0);
  // Variance 1 / fan_in after truncation; values stay within 2 / 0.8796 of that std.
  CHECK(lin->weight.std().item<double>() == Approx(std::sqrt(1.0 / 400)).epsilon(0.03));
  CHECK(conv->weight.std().item<double>() == Approx(std::sqrt(1.0 / 100)).epsilon(0.03));
  CHECK(lin->weight.abs().max().item<double>() <= 2.0 * std::sqrt(1.0 / 400) / 0.87962566103423978 + 1e-6);

  auto keep = torch::nn::Linear(10, 10);
  const auto before = keep->weight.clone();
  apply_init(*keep, InitScheme::torch);
  CHECK(torch::equal(before, keep->weight));
  CHECK_THROWS_AS(parse_init_scheme("xavier"), std::invalid_argument);
}

TEST_CASE("resolve_device picks CPU without a GPU and rejects bad names", "[device]") {
  CHECK(resolve_device("cpu") == torch::Device(torch::kCPU));
  CHECK(resolve_device("auto").is_cuda() == torch::cuda::is_available());
  CHECK_THROWS_WITH(resolve_device("tpu"), Catch::Contains("unknown device 'tpu'"));
  if (!torch::cuda::is_available()) CHECK_THROWS_WITH(resolve_device("cuda"), Catch::Contains("no CUDA GPU"));
}

TEST_CASE("claim_compute refuses a GPU memory cap it cannot set", "[device]") {
  // Built without c10_cuda (Debian's CPU libtorch) there is no caching
  // allocator to cap: a worker told to keep to its share must fail, not
  // overcommit the GPU unnoticed. Built with it, the cap is set.
  const torch::Device gpu(torch::kCUDA, 0);
  if (gpu_memory_cap_supported()) {
    CHECK_NOTHROW(claim_compute(gpu, 0, 0.45));
    CHECK_NOTHROW(claim_compute(gpu, 0, 1.0));
  } else {
    CHECK_THROWS_WITH(claim_compute(gpu, 0, 0.45), Catch::Contains("cannot cap GPU memory"));
  }
  CHECK_NOTHROW(claim_compute(gpu, 0, 0.0));  // no cap asked for
  CHECK_NOTHROW(claim_compute(torch::kCPU, 0, 0.45));                   // the CPU has none
}
