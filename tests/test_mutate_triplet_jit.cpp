// The mutate operator's CLRS children through the real JIT: children of the
// paper's seeds v1..v9 (every pair, several temperatures, and a second
// generation bred from them) compile under the triplet contract, run forward
// to [B, N, N, F], reach every parameter with gradients, and have the
// parameter count the operator states. The torch-free checks of the edits
// are in test_mutate_triplet.cpp.
#include "torch_catch.hpp"

#include <set>

#include "clrs_model/clrs_model.hpp"
#include "clrs_model/triplet_jit.hpp"
#include "extract.hpp"
#include "jit_model.hpp"
#include "mutate_lm.hpp"
#include "mutate_triplet.hpp"
#include "prompt.hpp"
#include "seeds.hpp"

using namespace evoprompt;
using namespace evoprompt::codegen;
using torch::Tensor;

namespace {

jit::ChildJit& mutate_triplet_jit() {
  static jit::ChildJit jit(torch_jit_options(EVOPROMPT_TEST_CACHE_DIR));
  return jit;
}

// The paper's shapes (as in test_clrs_triplets.cpp): z 2h = 256, h = 128,
// nb_triplet_fts 8, out_size 128.
constexpr int64_t kH = 128, kNb = 8, kOut = 128;

PromptExample clrs_parent(const std::string& name) {
  for (const auto& s : clrs_seeds())
    if (s.name == name) return PromptExample{s.source, Metrics{10000, 0.5}};
  throw std::out_of_range("no clrs seed " + name);
}

struct Checked {
  bool ok = false;
  std::string problem;
};

// Compiles one completion as the engine would (extract, JIT), runs it
// forward and backward, and compares the Haiku parameter count.
Checked check_child(const std::string& completion, const std::string& label) {
  Checked c;
  const auto x = extract_child(completion, kTripletOpening);
  if (!x.complete) return {false, "extraction: " + x.problem};
  auto compiled = clrs::compile_triplet(mutate_triplet_jit(), x.code, label);
  if (!compiled.verdict.accepted())
    return {false, compiled.verdict.rule + ": " + compiled.verdict.message + "\n" + x.code};
  try {
    torch::manual_seed(3);
    const int64_t b = 2, n = 5;
    const Tensor z = torch::randn({b, n, 2 * kH}), e = torch::randn({b, n, n, kH}), g = torch::randn({b, kH});
    auto t = compiled.factory(kNb, kOut);
    const Tensor out = t.forward(z, e, g);
    // F is out_size, or the triplet width when the child has no output layer.
    const bool has_out = completion.find("// [B, N, N, out_size]") != std::string::npos;
    if (out.dim() != 4 || out.size(0) != b || out.size(1) != n || out.size(2) != n ||
        (has_out ? out.size(3) != kOut : (out.size(3) < 2 || out.size(3) > 64)))
      return {false, "shape " + std::to_string(out.dim()) + "-d, last " + std::to_string(out.size(-1))};
    if (!torch::isfinite(out).all().item<bool>()) return {false, "non-finite output"};
    out.sum().backward();
    for (const auto& p : t.module->named_parameters())
      if (!p.value().grad().defined()) return {false, "no gradient for " + p.key()};
    const auto stated = triplet_params(kTripletOpening + completion);
    if (clrs::count_parameters(*t.module) != stated)
      return {false, "params " + std::to_string(clrs::count_parameters(*t.module)) + " != " + std::to_string(stated)};
  } catch (const std::exception& ex) {
    return {false, std::string("runtime: ") + ex.what()};
  }
  c.ok = true;
  return c;
}

}  // namespace

TEST_CASE("mutate triplets: children of v1..v9 compile through the JIT and run", "[mutate_triplet]") {
  const std::vector<std::string> seeds = {"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"};
  const std::vector<double> temps = {0.2, 0.6, 1.0};
  MutateOperator op;
  std::vector<std::string> children;
  int total = 0, accepted = 0, k = 0;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    for (std::size_t j = i + 1; j < seeds.size(); ++j, ++k) {
      const std::vector<PromptExample> parents = {clrs_parent(seeds[i]), clrs_parent(seeds[j])};
      std::set<std::string> parent_texts;
      for (const auto& p : parents) parent_texts.insert(MutateOperator::canonical(p.code));
      SampleRequest req;
      req.prompt = make_few_shot_prompt(parents, kTripletOpening).text;
      req.temperatures = {temps[k % 3], temps[(k + 1) % 3]};
      req.stop = {kStopSequence};
      req.seed = 11;
      const auto out = op.sample(req);
      for (std::size_t s = 0; s < out.size(); ++s) {
        const std::string label = seeds[i] + "x" + seeds[j] + "_" + std::to_string(s);
        INFO(label << " at temperature " << req.temperatures[s]);
        REQUIRE(out[s].error.empty());
        CHECK_FALSE(parent_texts.count(out[s].text));
        const auto c = check_child(out[s].text, label);
        INFO(c.problem);
        CHECK(c.ok);
        ++total;
        accepted += c.ok;
        children.push_back(out[s].text);
      }
    }
  }
  CHECK(total == 72);
  CHECK(accepted == total);
  // Distinct within a prompt; across prompts, pairs that share a parent may
  // meet on the same child (the engine's fingerprint filter drops repeats).
  for (std::size_t s = 0; s + 1 < children.size(); s += 2) CHECK(children[s] != children[s + 1]);
  CHECK(std::set<std::string>(children.begin(), children.end()).size() >= children.size() * 9 / 10);

  // A second generation: pairs of the children as parents.
  for (std::size_t p = 0; p + 1 < children.size() && p < 24; p += 2) {
    const std::vector<PromptExample> parents = {PromptExample{kTripletOpening + children[p], Metrics{10000, 0.5}},
                                                PromptExample{kTripletOpening + children[p + 1], Metrics{10000, 0.5}}};
    const auto r = MutateOperator::make_child(parents, 0.8, 1000 + p);
    INFO("second generation " << p);
    CHECK(r.structured);
    CHECK(r.completion != children[p]);
    CHECK(r.completion != children[p + 1]);
    const auto c = check_child(r.completion, "gen2_" + std::to_string(p));
    INFO(c.problem);
    CHECK(c.ok);
  }
}
