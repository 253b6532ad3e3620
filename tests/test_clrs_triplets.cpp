// The CLRS triplet functions (seeds_cpp/clrs/) as JIT children: every one
// compiles under the triplet contract, matches its ahead-of-time build, has
// the paper's parameter count, and plugs into the full model.
#include "torch_catch.hpp"

#include <map>

#include "clrs/batch.hpp"
#include "clrs/samplers.hpp"
#include "clrs_model/clrs_model.hpp"
#include "clrs_model/triplet_jit.hpp"
#include "jit_model.hpp"
#include "seeds.hpp"

using namespace evoprompt;
using namespace evoprompt::clrs;
using torch::Tensor;

namespace {

jit::ChildJit& triplet_jit() {
  static jit::ChildJit jit(torch_jit_options(EVOPROMPT_TEST_CACHE_DIR));
  return jit;
}

// The paper's shapes: h = 128 (z is 2h = 256 wide), nb_triplet_fts = 8,
// out_size = 128.
constexpr int64_t kH = 128, kNb = 8, kOut = 128;

struct Inputs {
  Tensor z, edge_fts, graph_fts;
};

Inputs fixed_inputs(int64_t b = 2, int64_t n = 5) {
  torch::manual_seed(1234);
  return {torch::randn({b, n, 2 * kH}), torch::randn({b, n, n, kH}), torch::randn({b, kH})};
}

// Parameter counts follow Haiku: the children make each layer on its first
// call (with the input width it sees), so after one forward the registered
// parameters are exactly those of the modules that were called; a module
// never called has none and one called several times is registered once.
int64_t haiku_params(const TripletFactory& factory) {
  auto t = factory(kNb, kOut);
  const auto in = fixed_inputs(1, 3);
  torch::NoGradGuard no_grad;
  (void)t.forward(in.z, in.edge_fts, in.graph_fts);
  return count_parameters(*t.module);
}

const ClrsSeed& seed(const std::string& name) {
  for (const auto& s : clrs_seeds())
    if (s.name == name) return s;
  throw std::out_of_range("no clrs seed " + name);
}

}  // namespace

TEST_CASE("clrs triplets: the fourteen seeds are listed with their files", "[clrs_triplets]") {
  const std::vector<std::string> names = {"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "quadnodeminmax",
                                          "concatrep", "maxmean", "div2mean", "tanhexpandtriplets"};
  REQUIRE(clrs_seeds().size() == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(clrs_seeds()[i].name == names[i]);
    CHECK(clrs_seeds()[i].file == "clrs/" + names[i] + ".cpp");
    CHECK(clrs_seeds()[i].source.find("struct Triplet : torch::nn::Module") != std::string::npos);
    CHECK(clrs_seeds()[i].source.find("#include") == std::string::npos);
  }
}

TEST_CASE("clrs triplets: exact parameter counts (Haiku semantics)", "[clrs_triplets]") {
  // z 256, edge/graph 128, H = nb_triplet_fts = 8, out_size = 128. Linear(i, o) has i*o + o:
  // Linear(256,8) = 2056, Linear(128,8) = 1032, Linear(8,128) = 1152, Linear(8,8) = 72.
  const std::map<std::string, int64_t> expected = {
      // Paper §7: 3*2056 + 3*1032 + 1032 + 1152.
      {"v1", 11448},
      // Output MLP([128, 128]): 1152 + 16512 (Linear(128,128)) replaces the 1152: 11448 - 1152 + 17664.
      {"v2", 27960},
      // Sum instead of max: same layers as v1.
      {"v3", 11448},
      // Node MLP([8, 8]): each 2056 + 72, three of them: 11448 + 3*72.
      {"v4", 11664},
      // Edge MLP([8, 8]): each 1032 + 72: 11448 + 3*72.
      {"v5", 11664},
      // Graph MLP([8, 8]): 1032 + 72: 11448 + 72.
      {"v6", 11520},
      // Node MLP([8]) = Linear, no graph term: 11448 - 1032.
      {"v7", 10416},
      // MLP([128]) of z only: Linear(256,128) = 256*128 + 128.
      {"v8", 32896},
      // rep_fn(x, s) = MLP([s]) * MLP([8s, s]). Node: 2056 + (256*64+64) + (64*8+8) = 19024, x3 = 57072;
      // edge: 1032 + (128*64+64) + 520 = 9808, x3 = 29424; graph 9808; output rep_fn(., 128) on 8 wide:
      // 1152 + (8*1024+1024) + (1024*128+128) = 141568. Sum 237872.
      {"v9", 237872},
      // Paper §10.7: 4 node Linear(256,8), nothing else.
      {"quadnodeminmax", 8224},
      // Paper §7: rep_fn = concat(MLP([8]), MLP([32, 8])). Node 2056 + 8224 + 264 = 10544 (x3),
      // edge 1032 + 4128 + 264 = 5424 (x3), graph 5424, output Linear(16,128) = 2176.
      {"concatrep", 55504},
      // Paper §7: v1 without the graph Linear (graph_rep is never called).
      {"maxmean", 10416},
      // Paper §7: v1 without the graph Linear.
      {"div2mean", 10416},
      // Paper §7: the graph MLP([8]) is called three times but counts once: as v1.
      {"tanhexpandtriplets", 11448},
  };
  REQUIRE(expected.size() == clrs_seeds().size());
  for (const auto& s : clrs_seeds()) {
    INFO(s.name);
    CHECK(haiku_params(s.factory) == expected.at(s.name));
  }
  // The baseline TripletFn of the model library agrees with seed v1.
  CHECK(haiku_params(baseline_triplet) == 11448);
}

TEST_CASE("clrs triplets: every seed compiles through the JIT and matches its AOT build", "[clrs_triplets]") {
  const auto in = fixed_inputs();
  for (const auto& s : clrs_seeds()) {
    INFO(s.name);
    auto compiled = compile_triplet(triplet_jit(), s.source, s.file);
    INFO(compiled.verdict.rule << ": " << compiled.verdict.message);
    REQUIRE(compiled.verdict.accepted());
    REQUIRE(compiled.factory);

    torch::manual_seed(7);
    auto aot = s.factory(kNb, kOut);
    const Tensor expected = aot.forward(in.z, in.edge_fts, in.graph_fts);
    torch::manual_seed(7);
    auto jitted = compiled.factory(kNb, kOut);
    const Tensor got = jitted.forward(in.z, in.edge_fts, in.graph_fts);

    const int64_t width = s.name == "quadnodeminmax" ? kNb : kOut;  // QUADNODEMINMAX has no output layer
    CHECK(got.sizes() == torch::IntArrayRef({2, 5, 5, width}));
    REQUIRE(got.sizes() == expected.sizes());
    CHECK(torch::equal(got, expected));
    CHECK(count_parameters(*jitted.module) == count_parameters(*aot.module));
    // Gradients reach every parameter of the JIT child.
    got.sum().backward();
    for (const auto& p : jitted.module->named_parameters()) {
      INFO(p.key());
      CHECK(p.value().grad().defined());
    }
  }
}

TEST_CASE("clrs triplets: the contract check has its own rules", "[clrs_triplets]") {
  auto rule_of = [](const std::string& source) {
    auto compiled = compile_triplet(triplet_jit(), source, "child.cpp");
    CHECK(compiled.verdict.kind == jit::Verdict::Kind::contract);
    CHECK_FALSE(compiled.factory);
    return compiled.verdict.rule;
  };
  SECTION("no struct Triplet") {
    CHECK(rule_of("struct Model : torch::nn::Module {\n"
                  "  Model() {}\n"
                  "  torch::Tensor forward(torch::Tensor x) { return x; }\n"
                  "};\n") == "no_triplet");
  }
  SECTION("not a module") {
    CHECK(rule_of("struct Triplet {\n"
                  "  Triplet(int64_t, int64_t) {}\n"
                  "  torch::Tensor forward(torch::Tensor z, torch::Tensor e, torch::Tensor g) { return e; }\n"
                  "};\n") == "not_a_module");
  }
  SECTION("wrong constructor") {
    CHECK(rule_of("struct Triplet : torch::nn::Module {\n"
                  "  explicit Triplet(int64_t nb) {}\n"
                  "  torch::Tensor forward(torch::Tensor z, torch::Tensor e, torch::Tensor g) { return e; }\n"
                  "};\n") == "constructor_signature");
  }
  SECTION("wrong forward") {
    CHECK(rule_of("struct Triplet : torch::nn::Module {\n"
                  "  Triplet(int64_t nb, int64_t out) {}\n"
                  "  torch::Tensor forward(torch::Tensor z) { return z; }\n"
                  "};\n") == "forward_signature");
  }
  SECTION("forward returning something else") {
    CHECK(rule_of("struct Triplet : torch::nn::Module {\n"
                  "  Triplet(int64_t nb, int64_t out) {}\n"
                  "  int forward(torch::Tensor z, torch::Tensor e, torch::Tensor g) { return 0; }\n"
                  "};\n") == "forward_signature");
  }
  SECTION("an MNIST-1D-style child is no triplet either") {
    CHECK(rule_of(mnist1d_seeds().front().source) == "no_triplet");
  }
}

TEST_CASE("clrs triplets: a JIT-compiled triplet runs in the full BFS model", "[clrs_triplets]") {
  Sampler sampler("bfs", 1, 5);
  std::vector<Sample> samples;
  for (int i = 0; i < 2; ++i) samples.push_back(sampler.next());
  const auto b = to_tensors(make_batch(samples, {}));

  for (const std::string name : {"concatrep", "quadnodeminmax"}) {
    INFO(name);
    auto compiled = compile_triplet(triplet_jit(), seed(name).source, seed(name).file);
    REQUIRE(compiled.verdict.accepted());
    ModelConfig cfg;
    cfg.triplet = compiled.factory;
    torch::manual_seed(0);
    ClrsModel model(b, cfg);
    const int64_t width = name == "quadnodeminmax" ? kNb : kOut;
    CHECK(model->processor->edge_out_size == width);
    // The baseline BFS model has 523,963 parameters, 11,448 of them the triplet
    // block; a narrower triplet output also narrows the two pointer decoders'
    // edge inputs (120 x 128 weights each for 8 instead of 128 wide).
    const int64_t expected = name == "concatrep" ? 523963 - 11448 + 55504 : 523963 - 11448 + 8224 - 2 * 120 * 128;
    CHECK(count_parameters(*model) == expected);
    const auto S = std::max<int64_t>(1, b.max_steps() - 1);
    for (bool train : {true, false}) {
      auto p = model->forward(b, train);
      CHECK(p.outputs.at("pi").sizes() == torch::IntArrayRef({2, 5, 5}));
      CHECK(p.hints.at("pi_h").sizes() == torch::IntArrayRef({S, 2, 5, 5}));
      CHECK(p.hints.at("reach_h").sizes() == torch::IntArrayRef({S, 2, 5}));
      auto l = total_loss(b, p);
      CHECK(std::isfinite(l.item<double>()));
      if (train) l.backward();
    }
  }
}
