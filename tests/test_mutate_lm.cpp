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

SampleRequest mutate_request(const std::vector<PromptExample>& parents, std::uint64_t seed, std::uint64_t first,
                             const std::optional<TaskHeader>& header = std::nullopt) {
  SampleRequest r;
  r.prompt = make_few_shot_prompt(parents, kModelOpening, header).text;
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

// Compiles a child, runs forward on [4, shape...] and expects [4, classes].
MutateChild mutate_check_child(const std::string& completion, const std::string& label,
                               const std::vector<std::int64_t>& shape = {40}, std::int64_t classes = 10) {
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
    std::vector<std::int64_t> sizes{4};
    sizes.insert(sizes.end(), shape.begin(), shape.end());
    const auto y = instance.forward(torch::randn(sizes));
    c.forward_ok = y.sizes() == torch::IntArrayRef({4, classes});
  } catch (const std::exception& e) {
    c.problem = e.what();
    c.forward_ok = false;
  }
  if (c.forward_ok) {
    try {
      c.used_params = count_params(model.factory(), shape, classes).used;
    } catch (const std::exception& e) {
      c.problem = e.what();
      c.forward_ok = false;
    }
  }
  return c;
}

// One generation: a request for every ordered pair of parents in `pool`
// (first with itself too), until `n` children.
std::vector<std::string> mutate_generation(const std::vector<PromptExample>& pool, std::size_t n, std::uint64_t seed,
                                           const std::optional<TaskHeader>& header = std::nullopt) {
  MutateOperator op;
  std::vector<std::string> out;
  for (std::size_t k = 0; out.size() < n; ++k) {
    const std::size_t a = k % pool.size();
    const std::size_t b = (k / pool.size() + a) % pool.size();
    const auto completions = op.sample(mutate_request({pool[a], pool[b]}, seed, 4 * k, header));
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

namespace {

// The arrays task's seeds, as that task writes them for `shape` and `classes`.
std::string mutate_arrays_mlp(const std::vector<std::int64_t>& shape, std::int64_t classes) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return "struct Model : torch::nn::Module {\n"
         "  torch::nn::Linear input{nullptr}, hidden{nullptr}, output{nullptr};\n\n"
         "  Model() {\n"
         "    input = register_module(\"input\", torch::nn::Linear(" + std::to_string(n) + ", 64));\n"
         "    hidden = register_module(\"hidden\", torch::nn::Linear(64, 64));\n"
         "    output = register_module(\"output\", torch::nn::Linear(64, " + std::to_string(classes) + "));\n"
         "  }\n\n"
         "  torch::Tensor forward(torch::Tensor x) {\n"
         "    x = torch::relu(input(" + (shape.size() == 1 ? "x" : "x.flatten(1)") + "));\n"
         "    x = x + torch::relu(hidden(x));\n"
         "    return output(x);\n"
         "  }\n"
         "};\n";
}

// [C, L] or [C, H, W]: two strided convolutions, then one linear layer.
std::string mutate_arrays_cnn(const std::vector<std::int64_t>& shape, std::int64_t classes) {
  const bool image = shape.size() == 3;
  const std::string conv = image ? "Conv2d" : "Conv1d";
  const auto down = [](std::int64_t v) { return (v + 2 * 1 - 3) / 2 + 1; };
  std::vector<std::int64_t> s1(shape.begin() + 1, shape.end()), s2;
  for (auto& v : s1) v = down(v);
  for (auto v : s1) s2.push_back(down(v));
  const auto dims = [](std::int64_t c, const std::vector<std::int64_t>& s) {
    std::string t = "[B, " + std::to_string(c);
    for (auto v : s) t += ", " + std::to_string(v);
    return t + "]";
  };
  std::string in = "32";
  for (auto v : s2) in += " * " + std::to_string(v);
  const std::string opt = "torch::nn::" + conv + "(torch::nn::" + conv + "Options(";
  return "struct Model : torch::nn::Module {\n"
         "  torch::nn::" + conv + " conv1{nullptr}, conv2{nullptr};\n"
         "  torch::nn::Linear linear{nullptr};\n\n"
         "  Model() {\n"
         "    conv1 = register_module(\"conv1\", " + opt + std::to_string(shape[0]) + ", 16, 3).stride(2).padding(1)));\n"
         "    conv2 = register_module(\"conv2\", " + opt + "16, 32, 3).stride(2).padding(1)));\n"
         "    linear = register_module(\"linear\", torch::nn::Linear(" + in + ", " + std::to_string(classes) + "));\n"
         "  }\n\n"
         "  torch::Tensor forward(torch::Tensor x) {\n"
         "    x = torch::relu(conv1(x));  // " + dims(16, s1) + "\n"
         "    x = torch::relu(conv2(x));  // " + dims(32, s2) + "\n"
         "    return linear(x.flatten(1));\n"
         "  }\n"
         "};\n";
}

std::vector<PromptExample> mutate_arrays_parents(const TaskHeader& h) {
  std::vector<PromptExample> out{{mutate_arrays_mlp(h.input_shape, h.classes), {10000, 0.5}}};
  if (h.input_shape.size() == 2 || h.input_shape.size() == 3)
    out.push_back({mutate_arrays_cnn(h.input_shape, h.classes), {6000, 0.6}});
  return out;
}

}  // namespace

TEST_CASE("mutate: children of a task header's shapes, 2-d convolutions included", "[mutate]") {
  const std::vector<TaskHeader> tasks = {{"images", {3, 12, 12}, 4}, {"vectors", {20}, 3}, {"signals", {2, 30}, 5}};
  for (const auto& task : tasks) {
    const std::string name = task.description;
    INFO(name);
    const auto parents = mutate_arrays_parents(task);
    // The seeds parse for their shapes only, and their canonical form reparses to itself.
    for (const auto& p : parents) {
      const std::string canon = MutateOperator::canonical(p.code, task);
      REQUIRE_FALSE(canon.empty());
      CHECK(MutateOperator::canonical(std::string(kModelOpening) + canon, task) == canon);
      CHECK(MutateOperator::canonical(p.code).empty());  // not MNIST-1D's [B, 40] -> [B, 10]
    }

    // The operator reads the header out of the prompt itself.
    std::vector<PromptExample> pool = parents;
    for (int gen = 1; gen <= 2; ++gen) {
      const auto children = mutate_generation(pool, gen == 1 ? 32 : 16, 20 + gen, task);
      std::size_t accepted = 0, forward_ok = 0, reparse = 0;
      std::vector<PromptExample> survivors;
      for (std::size_t i = 0; i < children.size(); ++i) {
        const std::string label = name + "_gen" + std::to_string(gen) + "_" + std::to_string(i);
        const auto c = mutate_check_child(children[i], label, task.input_shape, task.classes);
        if (!c.forward_ok) UNSCOPED_INFO(label << " failed: " << c.problem << "\n" << c.code);
        accepted += c.accepted;
        forward_ok += c.forward_ok;
        reparse += MutateOperator::canonical(c.code, task) == children[i];
        if (c.forward_ok) survivors.push_back({c.code, {c.used_params, 0.5}});
      }
      WARN("mutate " << name << " gen " << gen << ": " << accepted << "/" << children.size()
                     << " pass the JIT filter, " << forward_ok << "/" << children.size() << " run forward -> [4, "
                     << task.classes << "], " << reparse << "/" << children.size() << " reparse to themselves");
      CHECK(accepted * 10 >= children.size() * 9);
      CHECK(forward_ok * 10 >= children.size() * 9);
      CHECK(reparse == children.size());
      REQUIRE(survivors.size() >= 2);
      pool = survivors;
    }

    // The operator's parameter count agrees with the runtime's.
    for (std::uint64_t s = 0; s < 6; ++s) {
      const auto r =
          MutateOperator::make_child({parents[s % parents.size()], parents[(s + 1) % parents.size()]}, 0.8, 300 + s, {},
                                     task);
      REQUIRE(r.structured);
      const auto c = mutate_check_child(r.completion, name + "_params_" + std::to_string(s), task.input_shape,
                                        task.classes);
      INFO(c.code << "\n" << c.problem);
      REQUIRE(c.forward_ok);
      CHECK(r.params == c.used_params);
    }
  }

  // On images, the convolutions' kernel, stride and width are edited, and
  // every convolution and pool stays 2-d.
  const auto& images = tasks[0];
  const auto parents = mutate_arrays_parents(images);
  std::map<EditKind, int> conv_edits;
  bool pool2d = false;
  for (std::uint64_t s = 0; s < 150; ++s) {
    const auto r = MutateOperator::make_child({parents[s % 2], parents[(s / 2) % 2]}, 1.0, s, {}, images);
    REQUIRE(r.structured);
    CHECK(r.completion.find("1d") == std::string::npos);
    pool2d = pool2d || r.completion.find("_pool2d(") != std::string::npos;
    for (const auto& e : r.edits)
      if (e.detail.rfind("conv", 0) == 0) ++conv_edits[e.kind];
  }
  CHECK(conv_edits[EditKind::kernel] > 0);
  CHECK(conv_edits[EditKind::stride] > 0);
  CHECK(conv_edits[EditKind::width] > 0);
  CHECK(pool2d);

  // The 2-d idiom beyond the seeds: square `{k, k}` sizes, 'same' padding,
  // dilation, 2-d batch norm and pools with padding.
  const std::string wide =
      "struct Model : torch::nn::Module {\n"
      "  torch::nn::Conv2d a{nullptr}, b{nullptr};\n"
      "  torch::nn::BatchNorm2d bn{nullptr};\n"
      "  torch::nn::Linear fc{nullptr};\n"
      "  Model() {\n"
      "    a = register_module(\"a\", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, {3, 3}).padding(torch::kSame)));\n"
      "    b = register_module(\"b\", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 8, 3).stride({2, 2}).padding(2).dilation(2)));\n"
      "    bn = register_module(\"bn\", torch::nn::BatchNorm2d(8));\n"
      "    fc = register_module(\"fc\", torch::nn::Linear(8 * 2 * 2, 4));\n"
      "  }\n"
      "  torch::Tensor forward(torch::Tensor x) {\n"
      "    x = torch::max_pool2d(torch::gelu(a(x)), 2, 2);\n"
      "    x = torch::avg_pool2d(bn(b(x)), 3, 2, 1);\n"
      "    return fc(x.flatten(1));\n"
      "  }\n"
      "};\n";
  const std::string wide_canon = MutateOperator::canonical(wide, images);
  REQUIRE_FALSE(wide_canon.empty());
  CHECK(wide_canon.find("torch::nn::Conv2dOptions(3, 8, 3).padding(torch::kSame)") != std::string::npos);
  INFO(wide_canon);
  CHECK(wide_canon.find("torch::avg_pool2d(x, 3, 2, 1)") != std::string::npos);
  CHECK(MutateOperator::canonical(std::string(kModelOpening) + wide_canon, images) == wide_canon);
  for (std::uint64_t s = 0; s < 3; ++s) {
    const auto r = MutateOperator::make_child({{wide, {1000, 0.5}}}, 0.2, s, {}, images);
    REQUIRE(r.structured);
    const auto c = mutate_check_child(r.completion, "wide_" + std::to_string(s), images.input_shape, images.classes);
    INFO(c.code << "\n" << c.problem);
    REQUIRE(c.forward_ok);
    CHECK(r.params == c.used_params);
  }

  // Another rank: only flatten(1) takes it, so children are MLPs on the flat input.
  const TaskHeader cube{"cubes", {2, 3, 4, 5}, 2};
  for (std::uint64_t s = 0; s < 4; ++s) {
    const auto r = MutateOperator::make_child(mutate_arrays_parents(cube), 0.8, s, {}, cube);
    REQUIRE(r.structured);
    const auto c = mutate_check_child(r.completion, "cube_" + std::to_string(s), cube.input_shape, cube.classes);
    INFO(c.code << "\n" << c.problem);
    CHECK(c.forward_ok);
    CHECK(r.params == c.used_params);
  }
}
