#include "torch_catch.hpp"

#include <map>
#include <set>

#include "jit_model.hpp"
#include "mutate_lm.hpp"
#include "prompt.hpp"
#include "seeds.hpp"

using namespace evoprompt;
using namespace evoprompt::codegen;

namespace {

jit::ChildJit& mutate_test_jit() {
  static jit::ChildJit jit(torch_jit_options(EVOPROMPT_TEST_CACHE_DIR));
  return jit;
}

std::vector<PromptExample> mutate_seed_parents() {
  static const std::map<std::string, std::int64_t> params = {
      {"cnn", 5210}, {"large_cnn", 91082}, {"gru", 4810}, {"residual_mlp", 15210}};
  std::vector<PromptExample> out;
  for (const auto& seed : mnist1d_seeds()) {
    PromptExample ex;
    ex.code = seed.source;
    ex.metrics.num_params = params.count(seed.name) ? params.at(seed.name) : 10000;
    ex.metrics.val_accuracy = 0.9;
    out.push_back(ex);
  }
  return out;
}

const std::vector<double> kMutateTemperatures = {0.2, 0.5, 0.8, 1.0};

SampleRequest mutate_request(const std::vector<PromptExample>& parents, std::uint64_t seed, std::uint64_t first) {
  SampleRequest r;
  r.prompt = make_few_shot_prompt(parents).text;
  r.temperatures = kMutateTemperatures;
  r.stop = {kStopSequence};
  r.seed = seed;
  r.first_sample = first;
  return r;
}

struct MutateChild {
  std::string code;
  bool accepted = false;
  bool forward_ok = false;
  std::int64_t used_params = -1;
  std::string problem;  // why it failed, for INFO
};

MutateChild mutate_check_child(const std::string& completion, const std::string& label) {
  MutateChild c;
  c.code = std::string(kModelOpening) + completion;
  const auto model = compile_model(mutate_test_jit(), c.code, label);
  c.accepted = model.verdict.accepted();
  if (!c.accepted) {
    c.problem = std::string(evoprompt::to_string(model.verdict.kind)) + ": " + model.verdict.message;
    return c;
  }
  try {
    torch::NoGradGuard no_grad;
    const auto instance = model.factory();
    const auto y = instance.forward(torch::randn({4, 40}));
    c.forward_ok = y.sizes() == torch::IntArrayRef({4, 10});
  } catch (const std::exception& e) {
    c.problem = e.what();
    c.forward_ok = false;
  }
  if (c.forward_ok) {
    try {
      c.used_params = count_params(model.factory(), 40, 10).used;
    } catch (const std::exception& e) {
      c.problem = e.what();
      c.forward_ok = false;
    }
  }
  return c;
}

// One generation: a request for every ordered pair of parents in `pool`
// (first with itself too), until `n` children.
std::vector<std::string> mutate_generation(const std::vector<PromptExample>& pool, std::size_t n, std::uint64_t seed) {
  MutateOperator op;
  std::vector<std::string> out;
  for (std::size_t k = 0; out.size() < n; ++k) {
    const std::size_t a = k % pool.size();
    const std::size_t b = (k / pool.size() + a) % pool.size();
    const auto completions = op.sample(mutate_request({pool[a], pool[b]}, seed, 4 * k));
    for (const auto& c : completions) {
      REQUIRE(c.error.empty());
      if (out.size() < n) out.push_back(c.text);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("mutate: the seeds parse, and the canonical form is a fixed point", "[mutate]") {
  for (const auto& seed : mnist1d_seeds()) {
    INFO(seed.name);
    const std::string canon = MutateOperator::canonical(seed.source);
    REQUIRE_FALSE(canon.empty());
    CHECK(MutateOperator::canonical(std::string(kModelOpening) + canon) == canon);
  }
  CHECK(MutateOperator::canonical("struct Model : torch::nn::Module { int x; };").empty());
}

TEST_CASE("mutate: deterministic, distinct children, and the repair prompt", "[mutate]") {
  const auto parents = mutate_seed_parents();
  MutateOperator op;
  CHECK(op.name() == "mutate");
  const auto req = mutate_request({parents[0], parents[1]}, 11, 40);
  const auto a = op.sample(req);
  const auto b = op.sample(req);
  REQUIRE(a.size() == kMutateTemperatures.size());
  std::set<std::string> texts;
  for (std::size_t j = 0; j < a.size(); ++j) {
    CHECK(a[j].text == b[j].text);
    CHECK(a[j].error.empty());
    CHECK(a[j].finish_reason == "stop");
    texts.insert(a[j].text);
  }
  CHECK(texts.size() == a.size());
  for (const auto& p : {parents[0], parents[1]}) CHECK(texts.count(MutateOperator::canonical(p.code)) == 0);

  // Another seed or another run-wide index gives other children.
  auto other = req;
  other.seed = 12;
  CHECK(op.sample(other)[0].text != a[0].text);

  // A repair prompt holds no parent examples.
  SampleRequest repair;
  repair.prompt = "The program below fails to compile:\n" + std::string(kModelOpening);
  repair.temperatures = {0.5, 0.7};
  const auto r = op.sample(repair);
  REQUIRE(r.size() == 2);
  for (const auto& c : r) CHECK(c.error == "mutate: the prompt holds no parent programs");
}

TEST_CASE("mutate: every operation kind occurs, and unparseable parents get the text fallback", "[mutate]") {
  const auto parents = mutate_seed_parents();
  std::map<EditKind, int> kinds;
  for (std::uint64_t s = 0; s < 200; ++s) {
    const auto& pa = parents[s % parents.size()];
    const auto& pb = parents[(s / parents.size() + 1 + s) % parents.size()];
    const auto r = MutateOperator::make_child({pa, pb}, kMutateTemperatures[s % 4], s);
    REQUIRE_FALSE(r.completion.empty());
    CHECK(r.structured);
    for (const auto& e : r.edits) ++kinds[e.kind];
  }
  for (EditKind k : {EditKind::width, EditKind::kernel, EditKind::stride, EditKind::padding, EditKind::add,
                     EditKind::remove, EditKind::duplicate, EditKind::activation, EditKind::crossover}) {
    INFO(edit_kind_name(k));
    CHECK(kinds[k] > 0);
  }

  // Two identical parents: mutation only.
  for (std::uint64_t s = 0; s < 20; ++s) {
    const auto r = MutateOperator::make_child({parents[0], parents[0]}, 1.0, s);
    for (const auto& e : r.edits) CHECK(e.kind != EditKind::crossover);
  }

  // A parent outside the parser's grammar (a member function) gets an activation swapped.
  PromptExample odd;
  odd.code =
      "struct Model : torch::nn::Module {\n"
      "  torch::nn::Linear fc{nullptr};\n"
      "  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
      "  torch::Tensor act(torch::Tensor x) { return torch::relu(x); }\n"
      "  torch::Tensor forward(torch::Tensor x) { return fc(act(x)); }\n"
      "};";
  odd.metrics = {410, 0.6};
  const auto r = MutateOperator::make_child({odd, odd}, 0.5, 3);
  CHECK_FALSE(r.structured);
  REQUIRE(r.edits.size() == 1);
  CHECK(r.edits[0].kind == EditKind::fallback);
  CHECK(r.completion.find("torch::relu(") == std::string::npos);
  const auto child = mutate_check_child(r.completion, "fallback");
  INFO(child.problem);
  CHECK(child.accepted);
  CHECK(child.forward_ok);
}

TEST_CASE("mutate: children pass the JIT filter and run forward, over two generations", "[mutate]") {
  const auto parents = mutate_seed_parents();
  const auto gen1 = mutate_generation(parents, 48, 5);
  std::size_t accepted = 0, forward_ok = 0, params_match = 0, structured = 0;
  std::vector<PromptExample> survivors;
  for (std::size_t i = 0; i < gen1.size(); ++i) {
    const auto c = mutate_check_child(gen1[i], "gen1_" + std::to_string(i));
    if (!c.forward_ok) UNSCOPED_INFO("gen1_" << i << " failed: " << c.problem << "\n" << c.code);
    accepted += c.accepted;
    forward_ok += c.forward_ok;
    if (c.forward_ok) {
      PromptExample ex;
      ex.code = c.code;
      ex.metrics = {c.used_params, 0.8};
      survivors.push_back(ex);
      // Children are in the operator's canonical form: they reparse to themselves.
      const std::string canon = MutateOperator::canonical(c.code);
      if (!canon.empty()) {
        ++structured;
        params_match += canon == gen1[i];
      }
    }
  }
  const double n1 = static_cast<double>(gen1.size());
  WARN("mutate gen 1: " << accepted << "/" << gen1.size() << " pass the JIT filter (" << accepted / n1
                        << "), " << forward_ok << "/" << gen1.size() << " run forward [4,40] -> [4,10] ("
                        << forward_ok / n1 << "), " << params_match << "/" << structured
                        << " reparse to themselves");
  // Every child of the seeds passes the filter and runs forward.
  CHECK(accepted == gen1.size());
  CHECK(forward_ok == gen1.size());
  CHECK(structured == forward_ok);
  CHECK(params_match == structured);

  // The operator's own parameter count agrees with the runtime's.
  for (std::uint64_t s = 0; s < 8; ++s) {
    const auto r = MutateOperator::make_child({parents[s % 4], parents[(s + 1) % 4]}, 0.8, 100 + s);
    const auto c = mutate_check_child(r.completion, "params_" + std::to_string(s));
    INFO(c.code << "\n" << c.problem);
    REQUIRE(c.forward_ok);
    CHECK(r.params == c.used_params);
  }

  REQUIRE(survivors.size() >= 2);
  const auto gen2 = mutate_generation(survivors, 24, 6);
  std::size_t accepted2 = 0, forward2 = 0;
  for (std::size_t i = 0; i < gen2.size(); ++i) {
    const auto c = mutate_check_child(gen2[i], "gen2_" + std::to_string(i));
    if (!c.forward_ok) UNSCOPED_INFO("gen2_" << i << " failed: " << c.problem << "\n" << c.code);
    accepted2 += c.accepted;
    forward2 += c.forward_ok;
  }
  const double n2 = static_cast<double>(gen2.size());
  WARN("mutate gen 2: " << accepted2 << "/" << gen2.size() << " pass the JIT filter (" << accepted2 / n2 << "), "
                        << forward2 << "/" << gen2.size() << " run forward (" << forward2 / n2 << ")");
  // And so does every child of those children.
  CHECK(accepted2 == gen2.size());
  CHECK(forward2 == gen2.size());
}
