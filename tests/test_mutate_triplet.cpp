// The mutate operator on CLRS parents (codegen/operators/mutate_triplet.hpp), without
// torch: parsing the paper's triplet functions, single edits on v1 with their
// exact text, determinism, variety, the prompt path and the fallbacks. The
// JIT checks of the children are in test_clrs_triplets.cpp.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "extract.hpp"
#include "mutate_lm.hpp"
#include "mutate_triplet.hpp"
#include "prompt.hpp"

using namespace evoprompt::codegen;

namespace {

std::string triplet_seed(const std::string& name) {
  std::ifstream in(std::string(EVOPROMPT_SEEDS_DIR) + "/clrs/" + name + ".cpp");
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

PromptExample triplet_parent(const std::string& name) {
  PromptExample ex;
  ex.code = triplet_seed(name);
  ex.metrics.num_params = 11448;
  ex.metrics.val_accuracy = 0.9;
  return ex;
}

// v1's text after the opening line. The seed aligns its return comment with
// the line above; the operator writes two spaces.
std::string v1_body() {
  std::string s = triplet_seed("v1");
  s = s.substr(s.find(kTripletOpening) + std::string(kTripletOpening).size());
  const std::string aligned = "out_size);             //";
  s.replace(s.find(aligned), aligned.size(), "out_size);  //");
  return s;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

// The first child of v1 alone (one edit, temperature 0) made by exactly the
// edit `detail`.
std::string single_edit_of_v1(EditKind kind, const std::string& detail) {
  const std::vector<PromptExample> parents = {triplet_parent("v1")};
  for (std::uint64_t stream = 0; stream < 3000; ++stream) {
    const auto r = MutateOperator::make_child(parents, 0.0, stream);
    if (r.edits.size() == 1 && r.edits[0].kind == kind && r.edits[0].detail == detail) return r.completion;
  }
  FAIL("no child of v1 made by " << edit_kind_name(kind) << ": " << detail);
  return "";
}

const std::vector<std::string> kPaperSeeds = {"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"};

}  // namespace

TEST_CASE("mutate triplets: the seeds parse (v8 aside), with the paper's parameter counts", "[mutate_triplet]") {
  // The same Haiku counts as test_clrs_triplets.cpp measures with torch.
  const std::map<std::string, std::int64_t> params = {
      {"v1", 11448},          {"v2", 27960},         {"v3", 11448},     {"v4", 11664},
      {"v5", 11664},          {"v6", 11520},         {"v7", 10416},     {"v9", 237872},
      {"quadnodeminmax", 8224}, {"concatrep", 55504}, {"maxmean", 10416}, {"div2mean", 10416},
      {"tanhexpandtriplets", 11448}};
  for (const auto& [name, count] : params) {
    INFO(name);
    const std::string code = triplet_seed(name);
    CHECK(is_triplet_program(code));
    const std::string canon = MutateOperator::canonical(code);
    REQUIRE_FALSE(canon.empty());
    CHECK(triplet_params(code) == count);
    // The canonical form is a fixed point.
    CHECK(MutateOperator::canonical(kTripletOpening + canon) == canon);
  }
  // v8 (no triplets: an MLP of z tiled over N) is outside the idiom.
  CHECK(MutateOperator::canonical(triplet_seed("v8")).empty());
  CHECK(triplet_params(triplet_seed("v8")) == -1);
  // v1 is printed as written.
  CHECK(MutateOperator::canonical(triplet_seed("v1")) == v1_body());
}

TEST_CASE("mutate triplets: single edits of v1, exact text", "[mutate_triplet]") {
  const std::string v1 = v1_body();
  const std::string ret = "return linear(o3, \"o3\", std::get<0>(triplets.max(1)), out_size);";
  const std::string sum_line = "    auto triplets = tri_1 + tri_2 + tri_3 + tri_e_1 + tri_e_2 + tri_e_3 + tri_g;  // [B, N, N, N, H]\n";

  SECTION("the reduction: max -> mean, v3's sum, and the weighted sum") {
    CHECK(single_edit_of_v1(EditKind::reduction, "max->mean") ==
          replaced(v1, ret, "return linear(o3, \"o3\", triplets.mean(1), out_size);"));
    CHECK(single_edit_of_v1(EditKind::reduction, "max->sum") == MutateOperator::canonical(triplet_seed("v3")));
    CHECK(single_edit_of_v1(EditKind::reduction, "max->softmax-weighted sum") ==
          replaced(v1, ret, "return linear(o3, \"o3\", (torch::softmax(triplets, 1) * triplets).sum(1), out_size);"));
  }
  SECTION("an element-wise op on the triplets, and after the reduction") {
    CHECK(single_edit_of_v1(EditKind::activation, "triplets +clamp_min(-100.0)") ==
          replaced(v1, sum_line, sum_line + "    triplets = torch::clamp_min(triplets, -100.0);\n"));
    CHECK(single_edit_of_v1(EditKind::activation, "reduced +tanh") ==
          replaced(v1, ret, "return linear(o3, \"o3\", torch::tanh(std::get<0>(triplets.max(1))), out_size);"));
  }
  SECTION("dropping the graph term gives v7's layout with v1's node layers") {
    std::string expected = replaced(v1, "  torch::nn::Linear t_g{nullptr}, o3{nullptr};\n", "  torch::nn::Linear o3{nullptr};\n");
    expected = replaced(expected,
                        "    auto tri_g = linear(t_g, \"t_g\", graph_fts, nb_triplet_fts).unsqueeze(1).unsqueeze(1)."
                        "unsqueeze(1);  // [B, 1, 1, 1, H]\n",
                        "");
    expected = replaced(expected, " + tri_e_3 + tri_g;", " + tri_e_3;");
    CHECK(single_edit_of_v1(EditKind::remove, "tri_g") == expected);
  }
  SECTION("the triplet width, in every term at once") {
    std::string expected = v1;
    for (const char* t : {"t_1", "t_2", "t_3", "t_e_1", "t_e_2", "t_e_3", "t_g"}) {
      const std::string call = std::string(t) + "\", ";
      const auto at = expected.find(call);
      REQUIRE(at != std::string::npos);
      const auto size = expected.find("nb_triplet_fts)", at);
      expected.replace(size, 15, "nb_triplet_fts * 2)");
    }
    std::size_t at = 0;
    while ((at = expected.find(", H]", at)) != std::string::npos) expected.replace(at, 4, ", 2H]");
    CHECK(single_edit_of_v1(EditKind::width, "triplets nb_triplet_fts->nb_triplet_fts * 2") == expected);
  }
  SECTION("node representations: hk.Linear -> hk.nets.MLP([H, H]) is v4") {
    const std::string v4 = single_edit_of_v1(EditKind::representation, "node linear->mlp2");
    CHECK(v4 == MutateOperator::canonical(triplet_seed("v4")));
    CHECK(triplet_params(kTripletOpening + v4) == 11664);
  }
  SECTION("the output layer: hk.Linear -> hk.nets.MLP([out, out]) is v2") {
    CHECK(single_edit_of_v1(EditKind::representation, "output linear->mlp2") ==
          MutateOperator::canonical(triplet_seed("v2")));
  }
}

TEST_CASE("mutate triplets: restoring a term and crossover of components", "[mutate_triplet]") {
  // v7 lacks v1's graph term; restoring it takes the graph input.
  const std::vector<PromptExample> v7 = {triplet_parent("v7")};
  bool restored = false;
  for (std::uint64_t stream = 0; stream < 2000 && !restored; ++stream) {
    const auto r = MutateOperator::make_child(v7, 0.0, stream);
    if (r.edits.size() == 1 && r.edits[0].kind == EditKind::add && r.edits[0].detail == "tri_g (graph)") {
      restored = true;
      CHECK(r.completion.find("auto tri_g = mlp(t_g, \"t_g\", graph_fts, {nb_triplet_fts}).unsqueeze(1).unsqueeze(1)"
                              ".unsqueeze(1);") != std::string::npos);
      CHECK(r.completion.find(" + tri_e_3 + tri_g;") != std::string::npos);
      CHECK(r.params == 10416 + 1032);
    }
  }
  CHECK(restored);

  // v1 x QUADNODEMINMAX: taking the other's post-processing drops the
  // output layer and reduces max minus min; taking its node terms brings its
  // four broadcasts.
  const std::vector<PromptExample> pair = {triplet_parent("v1"), triplet_parent("quadnodeminmax")};
  std::set<std::string> seen;
  for (std::uint64_t stream = 0; stream < 3000 && seen.size() < 2; ++stream) {
    const auto r = MutateOperator::make_child(pair, 0.0, stream);
    if (r.edits.size() != 1 || r.edits[0].kind != EditKind::crossover) continue;
    const bool from_v1 = r.completion.find("tri_e_1") != std::string::npos;
    if (!from_v1) continue;
    if (r.edits[0].detail == "reduction and output of the other parent") {
      CHECK(r.completion.find("return std::get<0>(triplets.max(1)) - std::get<0>(triplets.min(1));  // [B, N, N, H]") !=
            std::string::npos);
      CHECK(r.completion.find("o3") == std::string::npos);
      seen.insert(r.edits[0].detail);
    } else if (r.edits[0].detail == "node terms of the other parent") {
      CHECK(r.completion.find("auto tri_4 = linear(t_4, \"t_4\", z, nb_triplet_fts).unsqueeze(1).unsqueeze(3);") !=
            std::string::npos);
      CHECK(r.params == 11448 + 2056);
      seen.insert(r.edits[0].detail);
    }
  }
  CHECK(seen.size() == 2);
}

TEST_CASE("mutate triplets: deterministic, new, and every edit kind occurs", "[mutate_triplet]") {
  std::map<EditKind, int> kinds;
  std::set<std::string> children;
  int made = 0;
  for (std::size_t i = 0; i < kPaperSeeds.size(); ++i) {
    for (std::size_t j = i + 1; j < kPaperSeeds.size(); ++j) {
      const std::vector<PromptExample> parents = {triplet_parent(kPaperSeeds[i]), triplet_parent(kPaperSeeds[j])};
      std::set<std::string> parent_texts;
      for (const auto& p : parents) parent_texts.insert(MutateOperator::canonical(p.code));
      for (double t : {0.2, 0.6, 1.0}) {
        const std::uint64_t stream = 97 * i + 13 * j + static_cast<std::uint64_t>(t * 10);
        const auto r = MutateOperator::make_child(parents, t, stream);
        INFO(kPaperSeeds[i] << " x " << kPaperSeeds[j] << " at " << t);
        CHECK(r.structured);
        CHECK_FALSE(r.edits.empty());
        CHECK(r.edits.size() <= (t <= 0.2 ? 1u : 3u));
        CHECK_FALSE(parent_texts.count(r.completion));
        CHECK(MutateOperator::canonical(kTripletOpening + r.completion) == r.completion);
        CHECK(r.params == triplet_params(kTripletOpening + r.completion));
        CHECK(MutateOperator::make_child(parents, t, stream).completion == r.completion);
        for (const auto& e : r.edits) ++kinds[e.kind];
        children.insert(r.completion);
        ++made;
      }
    }
  }
  CHECK(children.size() >= static_cast<std::size_t>(made) * 9 / 10);
  for (EditKind k : {EditKind::reduction, EditKind::activation, EditKind::remove, EditKind::add, EditKind::width,
                     EditKind::representation, EditKind::crossover}) {
    INFO(edit_kind_name(k));
    CHECK(kinds[k] > 0);
  }
}

TEST_CASE("mutate triplets: sample() on a CLRS prompt gives distinct complete children", "[mutate_triplet]") {
  const std::vector<PromptExample> parents = {triplet_parent("v1"), triplet_parent("v9")};
  SampleRequest req;
  req.prompt = make_few_shot_prompt(parents, kTripletOpening).text;
  req.temperatures = {0.2, 0.5, 0.8, 1.0, 0.2, 0.5, 0.8, 1.0};
  req.stop = {kStopSequence};
  req.seed = 5;
  MutateOperator op;
  const auto out = op.sample(req);
  std::set<std::string> texts;
  for (const auto& parent : parents) texts.insert(MutateOperator::canonical(parent.code));
  for (const auto& c : out) {
    INFO(c.error);
    REQUIRE(c.error.empty());
    const auto x = extract_child(c.text, kTripletOpening);
    CHECK(x.complete);
    CHECK(x.code.rfind(kTripletOpening, 0) == 0);
    CHECK(texts.insert(c.text).second);  // new: neither a parent nor an earlier sample
  }
  CHECK(op.sample(req)[3].text == out[3].text);
}

TEST_CASE("mutate triplets: text the parser does not read", "[mutate_triplet]") {
  SECTION("v8 gets a text-level edit of its MLP") {
    const auto r = MutateOperator::make_child({triplet_parent("v8")}, 0.5, 3);
    CHECK_FALSE(r.structured);
    REQUIRE(r.edits.size() == 1);
    CHECK(r.edits[0].kind == EditKind::fallback);
    CHECK(r.completion.find("mlp(linear_rep, \"linear_rep\", z, {out_size, out_size})") != std::string::npos);
  }
  SECTION("an unknown helper: the reduction is swapped as text") {
    PromptExample odd;
    odd.code = "struct Triplet : torch::nn::Module {\n"
               "  Triplet(int64_t nb, int64_t out) {}\n"
               "  torch::Tensor forward(torch::Tensor z, torch::Tensor e, torch::Tensor g) {\n"
               "    auto t = e.unsqueeze(1) + e.unsqueeze(2);\n"
               "    return t.mean(1);\n"
               "  }\n"
               "};";
    CHECK(MutateOperator::canonical(odd.code).empty());
    const auto r = MutateOperator::make_child({odd}, 0.5, 1);
    REQUIRE(r.edits.size() == 1);
    CHECK(r.edits[0].kind == EditKind::fallback);
    CHECK(r.completion.find("return t.mean(1);") == std::string::npos);
  }
  SECTION("broken text comes back unchanged or as an error, never a crash") {
    for (const std::string code :
         {"struct Triplet : torch::nn::Module {\n  torch::Tensor forward(", "struct Triplet : torch::nn::Module {}",
          "struct Triplet : torch::nn::Module {\n  Triplet(int64_t nb_triplet_fts, int64_t out_size) : "
          "nb_triplet_fts(nb_triplet_fts), out_size(out_size) {}\n  torch::Tensor forward(torch::Tensor z, "
          "torch::Tensor edge_fts, torch::Tensor graph_fts) { return linear(o3, \"o3\", (((, out_size); }\n};"}) {
      PromptExample p;
      p.code = code;
      const auto r = MutateOperator::make_child({p}, 1.0, 7);
      CHECK(r.edits.empty());
      CHECK_FALSE(r.structured);
      // Unchanged: the parent's text after the opening line, byte for byte.
      CHECK(r.completion == code.substr(std::string(kTripletOpening).size()));
      CHECK(r.params == -1);
    }
    MutateOperator op;
    SampleRequest req;
    req.prompt = "no parents here";
    req.temperatures = {0.5, 1.0};
    const auto out = op.sample(req);
    REQUIRE(out.size() == 2);
    for (const auto& c : out) {
      CHECK(c.error == "mutate: the prompt holds no parent programs");
      CHECK(c.text.empty());
    }
  }
}
