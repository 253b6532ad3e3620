// The search loop against a scripted LM and a fake evaluator: bookkeeping of
// Algorithms 1-3, the journal and resume, without compiling or training.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "evolution.hpp"
#include "lm_calls.hpp"
#include "prompt.hpp"
#include "report.hpp"
#include "token_fingerprint.hpp"

using namespace evoprompt;
using namespace evoprompt::engine;

namespace {

struct SimulatedCrash {};  // not a std::exception: nothing in the engine may swallow it

// Scores a child by the `// score PARAMS ACC` comment in its source.
class FakeEvaluator : public Evaluator {
 public:
  int calls = 0;
  int crash_at = -1;  // throw SimulatedCrash on this call (1-based)

  ChildResult evaluate(const std::string& source, const std::string&) override {
    ++calls;
    if (calls == crash_at) throw SimulatedCrash{};
    ChildResult r;
    if (source.find("BROKEN") != std::string::npos) {
      r.verdict = VerdictKind::compile_error;
      r.rule = "compile_error";
      r.message = "use of undeclared identifier 'BROKEN'";
      r.diagnostics = {"/__evoprompt__/child.cpp:3:3: error: use of undeclared identifier 'BROKEN'"};
      return r;
    }
    std::smatch m;
    static const std::regex score(R"(// score ([0-9]+) ([0-9.]+))");
    if (!std::regex_search(source, m, score)) {
      r.verdict = VerdictKind::runtime_error;
      r.message = "no score";
      return r;
    }
    r.verdict = VerdictKind::evaluated;
    r.params_used = r.params_total = std::stoll(m[1].str());
    r.best_val_acc = std::stod(m[2].str());
    r.test_acc = r.best_val_acc - 0.01;
    return r;
  }
  std::string fingerprint(const std::string& source) override { return jit::token_fingerprint(source); }
  std::string opening() const override { return codegen::kModelOpening; }
  std::string describe() const override { return "{}"; }
};

// The request's completions: number i (run-wide) is script(i).
std::vector<codegen::Completion> scripted(const std::function<std::string(std::uint64_t)>& script,
                                          const codegen::SampleRequest& r) {
  std::vector<codegen::Completion> out;
  for (std::size_t j = 0; j < r.temperatures.size(); ++j) out.push_back({script(r.first_sample + j), "stop", 7, 11, ""});
  return out;
}

class ScriptedLm : public codegen::LanguageModel {
 public:
  std::function<std::string(std::uint64_t)> script;
  bool tunable = false;
  std::vector<std::size_t> tuned_sizes;
  std::vector<std::vector<codegen::TuneExample>> tuned;  // the examples of each TRAIN call
  std::vector<codegen::SampleRequest> requests;

  std::string name() const override { return "scripted"; }
  std::vector<codegen::Completion> sample(const codegen::SampleRequest& r) override {
    requests.push_back(r);
    return scripted(script, r);
  }
  bool can_tune() const override { return tunable; }
  codegen::TuneReport tune(const std::vector<codegen::TuneExample>& examples) override {
    tuned_sizes.push_back(examples.size());
    tuned.push_back(examples);
    return {true, 2.0, 1.0, "ok"};
  }
  // The "soft prompt" is how many rounds were tuned, as text.
  std::vector<std::string> loaded;
  std::string state = "0";
  void save_state(const std::string& path) const override {
    std::ofstream(path) << (std::stoi(state) + static_cast<int>(tuned_sizes.size()));
  }
  void load_state(const std::string& path) override {
    std::ifstream in(path);
    std::getline(in, state);
    loaded.push_back(path);
  }
};

// A valid child with a unique body and a chosen score.
std::string child(std::uint64_t i, long params, double acc) {
  return "\n  // score " + std::to_string(params) + " " + std::to_string(acc) + "\n  int v" + std::to_string(i) + " = 0;\n};";
}

std::string default_script(std::uint64_t i) { return child(i, 3000 - 37 * static_cast<long>(i), 0.70 + 0.005 * i); }

std::vector<SeedProgram> two_seeds() {
  return {{"big", "struct Model : torch::nn::Module {\n  // score 5000 0.9\n  int big = 0;\n};\n"},
          {"small", "struct Model : torch::nn::Module {\n  // score 1000 0.6\n  int small = 0;\n};\n"}};
}

std::string fresh_dir() {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("evoprompt_engine_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  return dir.string();
}

EvolutionConfig tiny(int rounds = 2, int prompts = 2, int samples = 3, int survivors = 2) {
  EvolutionConfig c;
  c.rounds = rounds;
  c.prompts = prompts;
  c.samples = samples;
  c.survivors = survivors;
  c.seed = 7;
  return c;
}

struct Run {
  std::string dir = fresh_dir();
  Journal journal = Journal::create(dir);
  ScriptedLm lm;
  FakeEvaluator evaluator;
  Run() { lm.script = default_script; }
  ~Run() { std::filesystem::remove_all(dir); }
  EvolutionResult evolve(const EvolutionConfig& c, const std::atomic<bool>* stop = nullptr) {
    return Evolution(c, journal, lm, evaluator, two_seeds(), {}, stop).run();
  }
};

std::vector<ChildRecord> non_seeds(const Journal& j) {
  std::vector<ChildRecord> out;
  for (auto& c : j.children())
    if (c.kind != "seed") out.push_back(c);
  return out;
}

// After each of the first `selecting` rounds t, the selection is the two
// fittest of G (rounds 0..t, less those already retired), never chosen twice,
// and it is round t+lag's parent pool.
void check_gettop(const Journal& j, int selecting, int lag) {
  const auto rows = non_seeds(j);
  std::set<std::int64_t> retired;
  for (int t = 0; t < selecting; ++t) {
    const auto selected = j.selections(t);
    REQUIRE(selected.size() == 2);
    std::vector<ChildRecord> g;
    for (const auto& r : rows)
      if (r.round <= t && r.in_history && !retired.count(r.id)) g.push_back(r);
    std::stable_sort(g.begin(), g.end(), [](const ChildRecord& a, const ChildRecord& b) { return a.fitness > b.fitness; });
    CHECK(selected == std::vector<std::int64_t>{g[0].id, g[1].id});
    CHECK(j.round(t + lag)->parent_pool == selected);
    for (auto id : selected) CHECK(retired.insert(id).second);
  }
}

// Everything but timings.
std::string row_text(const ChildRecord& c) {
  return std::to_string(c.id) + "|" + c.name + "|" + c.kind + "|" + std::to_string(c.round) + "|" +
         std::to_string(c.prompt_id) + "|" + std::to_string(c.temperature) + "|" + c.completion + "|" + to_string(c.verdict) +
         "|" + c.rule + "|" + std::to_string(c.duplicate_of) + "|" + std::to_string(c.params_used) + "|" +
         std::to_string(c.val_acc) + "|" + std::to_string(c.fitness) + "|" + std::to_string(c.in_history);
}

}  // namespace

TEST_CASE("fitness is -(params x val error)", "[engine]") {
  CHECK(fitness(6000, 0.91) == Approx(-540.0));  // the paper's Figure 1
  CHECK(fitness(5000, 0.80) == Approx(-1000.0));
}

TEST_CASE("GETTOP takes the p fittest and retires them", "[engine]") {
  Population g;
  for (int i = 1; i <= 5; ++i) g.add({i, "c" + std::to_string(i), "", 100, 0.0, -100.0 * (i % 3 + 1)});
  // fitness: c1 -200, c2 -300, c3 -100, c4 -200, c5 -300
  auto top = g.get_top(2);
  REQUIRE(top.size() == 2);
  CHECK(top[0].id == 3);
  CHECK(top[1].id == 1);  // ties go to the earlier child
  auto next = g.get_top(2);
  CHECK(next[0].id == 4);
  CHECK(next[1].id == 2);
  CHECK(g.selectable() == 1);
  CHECK(g.get_top(5).size() == 1);
  CHECK(g.get_top(5).empty());
  // The archive keeps retired children: the answer is over everything.
  auto answer = g.archive_top(2);
  CHECK(answer[0].id == 3);
  CHECK(answer[1].id == 1);
}

TEST_CASE("journal round-trips a child row", "[engine][journal]") {
  const std::string dir = fresh_dir();
  {
    Journal j = Journal::create(dir);
    ChildRecord c;
    c.round = 3;
    c.prompt_id = 9;
    c.sample = 2;
    c.name = "r3p1s2";
    c.lm = "scripted";
    c.temperature = 0.6;
    c.completion = "x\n'\"\xc3\xa9";
    c.source = "struct Model {};";
    c.token_hash = "abc";
    c.prompt_tokens = 5;
    c.completion_tokens = 6;
    c.verdict = VerdictKind::evaluated;
    c.rule = "r";
    c.message = "m";
    c.diagnostics = {"a:1:2: error: x", "b"};
    c.params_used = 410;
    c.params_total = 420;
    c.val_acc = 0.875;
    c.best_step = 250;
    c.test_acc = 0.86;
    c.fitness = fitness(410, 0.875);
    c.compile_ms = 1.5;
    c.train_ms = 2.5;
    c.total_ms = 4.5;
    c.in_history = true;
    c.step_path = "cuda_graph";
    c.id = j.insert_child(c);
    CHECK(c.id == 1);
    j.set_meta("k", "v1");
    j.set_meta("k", "v2");
  }
  Journal j = Journal::open(dir);
  const auto back = j.child(1);
  REQUIRE(back);
  CHECK(back->completion == "x\n'\"\xc3\xa9");
  CHECK(back->diagnostics == std::vector<std::string>{"a:1:2: error: x", "b"});
  CHECK(back->fitness == Approx(-51.25));
  CHECK(back->in_history);
  CHECK(back->best_step == 250);
  CHECK(back->step_path == "cuda_graph");
  CHECK(j.child_by_name("r3p1s2")->id == 1);
  CHECK(*j.meta("k") == "v2");
  CHECK_FALSE(j.meta("nope"));
  CHECK_THROWS_WITH(Journal::create(dir), dir + " already holds a run (use --resume, or another --run)");
  std::filesystem::remove_all(dir);
  CHECK_THROWS_WITH(Journal::open(dir), Catch::Contains("no run journal here"));
}

TEST_CASE("a journal from before worker ranks and step paths gains their columns on open", "[engine][journal]") {
  const std::string dir = fresh_dir();
  {
    Journal j = Journal::create(dir);
    ChildRecord c;
    c.name = "r0p0s0";
    c.verdict = VerdictKind::evaluated;
    j.insert_child(c);
  }
  {  // the tables as format-2 journals had them before
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir + "/journal.sqlite").c_str(), &db) == SQLITE_OK);
    for (const char* sql : {"ALTER TABLE children DROP COLUMN step_path", "ALTER TABLE workers DROP COLUMN rank",
                            "ALTER TABLE workers DROP COLUMN host"})
      CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  Journal j = Journal::open(dir);
  CHECK(j.child(1)->step_path.empty());
  ChildRecord later;
  later.name = "r0p0s1";
  later.step_path = "eager";
  CHECK(j.insert_child(later) == 2);
  CHECK(j.child(2)->step_path == "eager");
  std::filesystem::remove_all(dir);
}

TEST_CASE("every sample counts toward the budget; alpha, duplicates and failures", "[engine]") {
  Run run;
  // Samples 0..11 of a T=2, m=2, n=3 run.
  run.lm.script = [](std::uint64_t i) -> std::string {
    switch (i) {
      case 0: return child(0, 400, 0.45);                       // val error 0.55 >= alpha
      case 1: return "\n  BROKEN;\n};";                         // compile error
      case 2: return child(2, 900, 0.80);
      case 3: return "\n  /* other comment */ int   v2 =\n 0;\n};";  // same tokens as sample 2
      case 4: return "\n  int big = 0;\n};";                    // same tokens as seed "big" (comment differs)
      case 5: return "\n  int unfinished = 0;\n";               // never closes
      default: return default_script(i);
    }
  };
  const auto result = run.evolve(tiny());
  CHECK(result.samples_used == 12);
  const auto rows = non_seeds(run.journal);
  REQUIRE(rows.size() == 12);
  CHECK(rows[0].verdict == VerdictKind::filtered_alpha);
  CHECK_FALSE(rows[0].in_history);
  CHECK(rows[0].fitness == Approx(-220.0));
  CHECK(rows[1].verdict == VerdictKind::compile_error);
  CHECK(rows[1].diagnostics.size() == 1);
  CHECK(rows[2].verdict == VerdictKind::evaluated);
  CHECK(rows[2].in_history);
  CHECK(rows[3].verdict == VerdictKind::duplicate);
  CHECK(rows[3].duplicate_of == rows[2].id);
  CHECK(rows[4].verdict == VerdictKind::duplicate);
  CHECK(rows[4].duplicate_of == run.journal.child_by_name("big")->id);
  CHECK(rows[5].verdict == VerdictKind::compile_error);
  CHECK(rows[5].rule == "extraction");
  CHECK(rows[5].message == "completion ends before the closing '};' of struct Model (1 brace open)");
  // Seeds (2) + everything not a duplicate or an extraction failure.
  CHECK(run.evaluator.calls == 2 + 12 - 2 - 1);
  for (const auto& r : rows) CHECK(r.lm == "scripted");
  CHECK(rows[0].prompt_tokens == 7);
  CHECK(rows[0].completion_tokens == 11);

  const RunSummary s = summarize(run.journal);
  CHECK(s.samples_used == 12);
  CHECK(s.verdicts.at(VerdictKind::duplicate) == 2);
  CHECK(s.verdicts.at(VerdictKind::compile_error) == 2);
  CHECK(s.verdicts.at(VerdictKind::filtered_alpha) == 1);
  CHECK(s.verdicts.at(VerdictKind::evaluated) == 7);
}

TEST_CASE("CROSSMUT draws k parents uniformly with replacement; temperatures per sample", "[engine]") {
  Run run;
  auto c = tiny(1, 16, 4);
  run.evolve(c);
  const auto prompts = run.journal.prompts();
  REQUIRE(prompts.size() == 16);
  const std::int64_t big = run.journal.child_by_name("big")->id, small = run.journal.child_by_name("small")->id;
  int same = 0, mixed = 0;
  for (const auto& p : prompts) {
    REQUIRE(p.parent_ids.size() == 2);
    for (auto id : p.parent_ids) CHECK((id == big || id == small));
    (p.parent_ids[0] == p.parent_ids[1] ? same : mixed) += 1;
  }
  CHECK(same > 0);   // with replacement: both slots can hold the same parent
  CHECK(mixed > 0);
  std::set<double> temperatures;
  for (const auto& r : non_seeds(run.journal)) temperatures.insert(r.temperature);
  CHECK(temperatures == std::set<double>{0.2, 0.6, 0.8, 1.0});
  // Each prompt's text is the golden layout over its parents.
  const auto& p = prompts.front();
  std::vector<codegen::PromptExample> parents;
  for (auto id : p.parent_ids) {
    const auto row = run.journal.child(id);
    parents.push_back({row->source, {row->params_used, row->val_acc}});
  }
  CHECK(p.text == codegen::make_few_shot_prompt(parents).text);
  CHECK(run.lm.requests.front().stop == std::vector<std::string>{"/* Metrics:"});
}

TEST_CASE("after each round but the last, P is GETTOP of G and the chosen are retired", "[engine]") {
  Run run;
  run.evolve(tiny(3, 2, 3, 2));
  check_gettop(run.journal, 2, 1);
  CHECK(run.journal.selections(2).empty());  // no selection after the last round
  CHECK(run.journal.round(0)->parent_pool ==
        std::vector<std::int64_t>{run.journal.child_by_name("big")->id, run.journal.child_by_name("small")->id});
}

TEST_CASE("resume after a crash reaches the same journal as an uninterrupted run", "[engine][resume]") {
  Run whole;
  whole.lm.script = [](std::uint64_t i) { return i % 5 == 3 ? std::string("\n  BROKEN;\n};") : default_script(i % 9); };
  const auto expected = whole.evolve(tiny(3, 2, 3, 2));
  std::vector<std::string> expected_rows;
  for (const auto& r : whole.journal.children()) expected_rows.push_back(row_text(r));

  for (int crash_at : {1, 3, 8, 12}) {
    Run broken;
    broken.lm.script = whole.lm.script;
    broken.evaluator.crash_at = crash_at;
    CHECK_THROWS_AS(broken.evolve(tiny(3, 2, 3, 2)), SimulatedCrash);
    // A new process: fresh LM and evaluator, the same journal.
    Journal reopened = Journal::open(broken.dir);
    ScriptedLm lm;
    lm.script = whole.lm.script;
    FakeEvaluator evaluator;
    const auto result = Evolution(tiny(3, 2, 3, 2), reopened, lm, evaluator, two_seeds()).run();
    std::vector<std::string> rows;
    for (const auto& r : reopened.children()) rows.push_back(row_text(r));
    CHECK(rows == expected_rows);
    REQUIRE(result.top.size() == expected.top.size());
    for (std::size_t i = 0; i < result.top.size(); ++i) CHECK(result.top[i].id == expected.top[i].id);
    for (int t = 0; t < 2; ++t) CHECK(reopened.selections(t) == whole.journal.selections(t));
    // Finished children are never evaluated twice: only the interrupted one again.
    CHECK(evaluator.calls + (crash_at - 1) == whole.evaluator.calls);
  }
}

TEST_CASE("a raised stop flag interrupts between children and the run resumes", "[engine][resume]") {
  Run run;
  std::atomic<bool> stop{true};
  CHECK_THROWS_AS(run.evolve(tiny(), &stop), Interrupted);
  stop = false;
  const auto result = run.evolve(tiny(), &stop);
  CHECK(result.samples_used == 12);
}

TEST_CASE("ablation modes", "[engine][modes]") {
  SECTION("evoprompting tunes on C_EVALED minus P after every round but the last") {
    Run run;
    run.lm.tunable = true;
    // Every third sample misses alpha (val error 0.6 >= 0.5): never in C_EVALED.
    run.lm.script = [](std::uint64_t i) { return i % 3 == 1 ? child(i, 900, 0.4) : default_script(i); };
    run.evolve(tiny(3, 2, 3, 2));
    REQUIRE(run.lm.tuned.size() == 2);
    for (int t = 0; t < 2; ++t) {
      INFO("round " << t);
      // C_EVALED: this round's children that entered G; P: the parents picked after it.
      const auto picked = run.journal.selections(t);
      REQUIRE(picked.size() == 2);
      std::multiset<std::string> expected, got;
      for (const auto& c : run.journal.children()) {
        if (c.round != t || !c.in_history) continue;
        CHECK(c.val_acc > 0.5);
        if (std::find(picked.begin(), picked.end(), c.id) != picked.end()) continue;
        expected.insert(codegen::metrics_block({c.params_used, c.val_acc}) + c.source);
      }
      for (const auto& e : run.lm.tuned[t]) got.insert(e.metrics_block + e.code);
      CHECK(expected.size() == 6 - 2 - 2);  // 6 samples, 2 filtered by alpha, 2 picked as parents
      CHECK(got == expected);
    }
    CHECK(run.journal.round(0)->tune.find("\"tuned\":true") != std::string::npos);
  }
  SECTION("no-tune never tunes") {
    Run run;
    run.lm.tunable = true;
    auto c = tiny(3, 2, 3, 2);
    c.mode = Mode::no_tune;
    run.evolve(c);
    CHECK(run.lm.tuned_sizes.empty());
    CHECK(run.journal.round(0)->tune.find("skipped: mode no-tune") != std::string::npos);
  }
  SECTION("naive is one round of m prompts of T*n samples over the seeds, the same budget") {
    Run run;
    auto c = tiny(3, 2, 3, 2);
    c.mode = Mode::naive;
    const auto result = run.evolve(c);
    CHECK(result.samples_used == 18);
    CHECK(run.journal.rounds().size() == 1);
    const auto prompts = run.journal.prompts();
    CHECK(prompts.size() == 2);
    const auto rows = run.journal.children();
    for (const auto& p : prompts)  // T*n = 3*3 samples each
      CHECK(std::count_if(rows.begin(), rows.end(), [&](const ChildRecord& c) { return c.prompt_id == p.id; }) == 9);
    const std::set<std::int64_t> seeds{run.journal.child_by_name("big")->id, run.journal.child_by_name("small")->id};
    for (const auto& p : prompts)
      for (auto id : p.parent_ids) CHECK(seeds.count(id) == 1);
  }
  SECTION("random-parents draws P from G at random, retiring them") {
    Run run;
    auto c = tiny(3, 3, 3, 2);
    c.mode = Mode::random_parents;
    run.evolve(c);
    const auto rows = non_seeds(run.journal);
    bool differs_from_top = false;
    std::set<std::int64_t> retired;
    for (int t = 0; t < 2; ++t) {
      const auto selected = run.journal.selections(t);
      REQUIRE(selected.size() == 2);
      std::vector<ChildRecord> g;
      for (const auto& r : rows)
        if (r.round <= t && r.in_history && !retired.count(r.id)) g.push_back(r);
      std::stable_sort(g.begin(), g.end(), [](const ChildRecord& a, const ChildRecord& b) { return a.fitness > b.fitness; });
      for (auto id : selected) {
        CHECK(std::any_of(g.begin(), g.end(), [&](const ChildRecord& r) { return r.id == id; }));
        CHECK(retired.insert(id).second);
      }
      differs_from_top |= selected != std::vector<std::int64_t>{g[0].id, g[1].id};
    }
    CHECK(differs_from_top);
  }
}

TEST_CASE("repair sends a compile error back once, and the fix counts", "[engine][repair]") {
  Run run;
  run.lm.script = [](std::uint64_t i) -> std::string { return i == 0 ? "\n  BROKEN;\n};" : default_script(i); };
  auto c = tiny(1, 2, 3);
  c.repair = true;
  const auto result = run.evolve(c);
  CHECK(result.samples_used == 6);  // the round's m*n, the repair included
  const auto rows = non_seeds(run.journal);
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].verdict == VerdictKind::compile_error);
  const auto fix = std::find_if(rows.begin(), rows.end(), [](const ChildRecord& r) { return r.kind == "repair"; });
  REQUIRE(fix != rows.end());
  CHECK(fix->repair_of == rows[0].id);
  CHECK(fix->name == "r0p0s0-fix");
  CHECK(fix->verdict == VerdictKind::evaluated);
  const auto prompts = run.journal.prompts();
  const auto repair_prompt = std::find_if(prompts.begin(), prompts.end(), [](const PromptRecord& p) { return p.repair_of != 0; });
  REQUIRE(repair_prompt != prompts.end());
  CHECK(repair_prompt->text ==
        "/* This program fails to compile:\n"
        "/__evoprompt__/child.cpp:3:3: error: use of undeclared identifier 'BROKEN'\n*/\n"
        "struct Model : torch::nn::Module {\n  BROKEN;\n};\n\n"
        "/* The same program with the errors fixed:\n*/\nstruct Model : torch::nn::Module {");
  // The second prompt got the samples left: 6 - 3 - 1.
  CHECK(std::count_if(rows.begin(), rows.end(), [](const ChildRecord& r) { return r.name.rfind("r0p1", 0) == 0; }) == 2);
}

namespace {

// An LM that answers after a delay, from several threads at once; later
// samples answer sooner, so answers arrive out of journal order.
class SlowLm : public codegen::LanguageModel {
 public:
  std::function<std::string(std::uint64_t)> script = default_script;
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  std::string name() const override { return "scripted"; }
  int max_concurrent_calls() const override { return codegen::kAnyConcurrency; }
  std::vector<codegen::Completion> sample(const codegen::SampleRequest& r) override {
    const int now = ++running;
    for (int seen = most_running.load(); now > seen && !most_running.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 - static_cast<int>(r.first_sample % 30)));
    auto out = scripted(script, r);
    --running;
    return out;
  }
};

// Finishes the latest child first (the stream's order is the evaluator's to
// choose): each poll compiles the last child that came, or, when all are
// compiled, finishes the last one. Tells whether the LM was answering while
// children were in flight.
class LastFirstEvaluator : public FakeEvaluator {
 public:
  const SlowLm* lm = nullptr;
  bool overlapped = false;
  std::vector<std::pair<std::size_t, EvaluationJob>> arrived, training;
  std::size_t most_rounds = 0;  // the most rounds with children in flight at once
  bool hold_while_lm_asks = false;  // finish nothing while an LM call runs, so that rounds pile up
  void submit(std::size_t ticket, EvaluationJob job) override {
    arrived.emplace_back(ticket, std::move(job));
    std::set<std::string> rounds;  // from the names, r<round>p<prompt>s<sample>
    for (const auto* list : {&arrived, &training})
      for (const auto& child : *list) rounds.insert(child.second.name.substr(0, child.second.name.find('p')));
    most_rounds = std::max(most_rounds, rounds.size());
  }
  std::vector<EvaluationEvent> poll(std::chrono::milliseconds) override {
    if (in_flight() > 0 && lm && lm->running > 0) overlapped = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (hold_while_lm_asks && lm && lm->running > 0) return {};
    EvaluationEvent e;
    if (!arrived.empty()) {
      auto child = arrived.back();
      arrived.pop_back();
      e.ticket = child.first;
      if (child.second.source.find("BROKEN") == std::string::npos) {
        e.kind = EvaluationEvent::Kind::compiled;
        training.push_back(std::move(child));
      } else {
        e.result = evaluate(child.second.source, child.second.name);
      }
      return {e};
    }
    if (training.empty()) return {};
    auto [ticket, job] = training.back();
    training.pop_back();
    e.ticket = ticket;
    e.result = evaluate(job.source, job.name);
    return {e};
  }
  std::size_t in_flight() const override { return arrived.size() + training.size(); }
  void abandon() override { arrived.clear(), training.clear(); }
};

// Every row the run wrote, timings aside.
std::vector<std::string> journal_rows(const Journal& j) {
  std::vector<std::string> rows;
  for (const auto& c : j.children()) rows.push_back(row_text(c));
  for (const auto& p : j.prompts())
    rows.push_back("prompt|" + std::to_string(p.id) + "|" + std::to_string(p.round) + "|" + std::to_string(p.index) +
                   "|" + std::to_string(p.seed) + "|" + std::to_string(p.repair_of) + "|" + p.text);
  for (const auto& c : j.lm_calls())
    rows.push_back("call|" + std::to_string(c.prompt_id) + "|" + std::to_string(c.samples) + "|" +
                   std::to_string(c.prompt_tokens) + "|" + std::to_string(c.completion_tokens));
  for (const auto& r : j.rounds()) {
    std::string pool = "round|" + std::to_string(r.round) + "|" + r.tune;
    for (auto id : r.parent_pool) pool += "|" + std::to_string(id);
    rows.push_back(pool);
    for (auto id : j.selections(r.round)) rows.push_back("selected|" + std::to_string(r.round) + "|" + std::to_string(id));
  }
  return rows;
}

// The same search twice over one script: one prompt at a time, in order, and
// pipelined, with an LM that answers out of order and an evaluator that
// finishes the latest child first.
struct SerialAndPipelined {
  std::string one_dir = fresh_dir(), many_dir = fresh_dir();
  Journal one = Journal::create(one_dir), many = Journal::create(many_dir);
  SlowLm one_lm, many_lm;
  FakeEvaluator serial;
  LastFirstEvaluator last_first;
  explicit SerialAndPipelined(const std::function<std::string(std::uint64_t)>& script) {
    one_lm.script = many_lm.script = script;
    last_first.lm = &many_lm;
  }
  ~SerialAndPipelined() {
    std::filesystem::remove_all(one_dir);
    std::filesystem::remove_all(many_dir);
  }
  // Both wrote the same rows, spent the same budget and found the same top.
  void run(const EvolutionConfig& config, int lm_concurrency) {
    const auto a = Evolution(config, one, one_lm, serial, two_seeds()).run();
    Evolution pipelined(config, many, many_lm, last_first, two_seeds());
    pipelined.overlap_lm_calls(lm_concurrency);
    const auto b = pipelined.run();
    CHECK(journal_rows(many) == journal_rows(one));
    CHECK(b.samples_used == a.samples_used);
    REQUIRE(b.top.size() == a.top.size());
    for (std::size_t i = 0; i < a.top.size(); ++i) CHECK(b.top[i].id == a.top[i].id);
  }
};

// Broken children (repairable), duplicates and low scorers in the mix.
std::string mixed_script(std::uint64_t i) {
  return i % 7 == 2 ? std::string("\n  BROKEN;\n};") : default_script(i % 5 == 4 ? 1 : i);
}

}  // namespace

TEST_CASE("a pipelined round writes the rows of prompts taken one at a time", "[engine][pipeline]") {
  for (bool repair : {false, true}) {
    DYNAMIC_SECTION("repair " << repair) {
      auto config = tiny(3, 3, 4, 2);
      config.repair = repair;
      SerialAndPipelined twins(mixed_script);
      twins.run(config, 4);
      CHECK(twins.one_lm.most_running == 1);
      if (repair) {
        // A prompt's sample count waits for the repairs before it.
        const auto rows = twins.many.children();
        CHECK(std::any_of(rows.begin(), rows.end(), [](const ChildRecord& c) { return c.kind == "repair"; }));
      } else {
        CHECK(twins.many_lm.most_running == 3);  // the round's 3 prompts asked at once
      }
      CHECK(twins.last_first.overlapped);  // children in flight while the LM answered
    }
  }
}

TEST_CASE("the tuned LM state is kept with each round and restored on resume", "[engine][resume]") {
  Run run;
  run.lm.tunable = true;
  run.evaluator.crash_at = 2 + 6 + 6 + 2;  // seeds, rounds 0 and 1, then in round 2
  {
    Evolution evolution(tiny(3, 2, 3, 2), run.journal, run.lm, run.evaluator, two_seeds());
    evolution.keep_lm_state_in(run.dir);
    CHECK_THROWS_AS(evolution.run(), SimulatedCrash);
  }
  CHECK(run.lm.tuned_sizes.size() == 2);
  CHECK(std::filesystem::exists(run.dir + "/lm_state_round0.safetensors"));
  CHECK(std::filesystem::exists(run.dir + "/lm_state_round1.safetensors"));
  CHECK_FALSE(std::filesystem::exists(run.dir + "/lm_state_round1.safetensors.tmp"));
  CHECK(run.journal.round(1)->tune.find("\"state\":\"lm_state_round1.safetensors\"") != std::string::npos);

  ScriptedLm fresh;
  fresh.script = default_script;
  fresh.tunable = true;
  FakeEvaluator evaluator;
  Evolution resumed(tiny(3, 2, 3, 2), run.journal, fresh, evaluator, two_seeds());
  resumed.keep_lm_state_in(run.dir);
  resumed.run();
  // Finished rounds are not tuned again; their states are read back in order.
  CHECK(fresh.tuned_sizes.empty());
  CHECK(fresh.loaded == std::vector<std::string>{run.dir + "/lm_state_round0.safetensors",
                                                 run.dir + "/lm_state_round1.safetensors"});
  CHECK(fresh.state == "2");
}

TEST_CASE("with N rounds in flight, round t's parents are GETTOP after round t-N, the seeds before", "[engine][pipeline]") {
  Run run;
  auto config = tiny(4, 2, 3, 2);
  config.rounds_in_flight = 2;
  const auto result = run.evolve(config);
  CHECK(result.samples_used == 4 * 2 * 3);
  const std::vector<std::int64_t> seeds{run.journal.child_by_name("big")->id, run.journal.child_by_name("small")->id};
  CHECK(run.journal.round(0)->parent_pool == seeds);
  CHECK(run.journal.round(1)->parent_pool == seeds);
  check_gettop(run.journal, 2, 2);  // G after round t: rounds 0..t only, though round t+1 was in flight
  CHECK(run.journal.selections(2).empty());  // no round 4 or 5 to take them
  CHECK(run.journal.selections(3).empty());
  for (const auto& r : run.journal.rounds()) CHECK(r.finished);
}

TEST_CASE("rounds in flight write the same rows whatever the timing", "[engine][pipeline]") {
  for (bool repair : {false, true}) {
    DYNAMIC_SECTION("repair " << repair) {
      auto config = tiny(4, 3, 4, 2);
      config.repair = repair;
      config.rounds_in_flight = 3;
      SerialAndPipelined twins(mixed_script);
      twins.last_first.hold_while_lm_asks = true;
      twins.run(config, 8);
      CHECK(twins.last_first.most_rounds == 3);  // children of three rounds in flight at once
      if (!repair) CHECK(twins.many_lm.most_running > 3);  // a later round asked before an earlier one ended
    }
  }
}

TEST_CASE("with rounds in flight, resume after a crash reaches the same journal", "[engine][resume]") {
  auto config = tiny(4, 2, 3, 2);
  config.rounds_in_flight = 2;
  Run whole;
  whole.lm.script = [](std::uint64_t i) { return i % 5 == 3 ? std::string("\n  BROKEN;\n};") : default_script(i % 9); };
  whole.evolve(config);
  const auto expected = journal_rows(whole.journal);
  const int calls = whole.evaluator.calls;
  REQUIRE(calls > 8);
  for (int crash_at : {2, calls / 3, 2 * calls / 3, calls - 1}) {
    Run broken;
    broken.lm.script = whole.lm.script;
    broken.evaluator.crash_at = crash_at;
    CHECK_THROWS_AS(broken.evolve(config), SimulatedCrash);
    Journal reopened = Journal::open(broken.dir);
    ScriptedLm lm;
    lm.script = whole.lm.script;
    FakeEvaluator evaluator;
    Evolution(config, reopened, lm, evaluator, two_seeds()).run();
    CHECK(journal_rows(reopened) == expected);
    CHECK(evaluator.calls + (crash_at - 1) == whole.evaluator.calls);  // only the interrupted child again
  }
}

namespace {
// `config` with 2 rounds in flight, `limit` LM requests at once.
void evolve_two_in_flight(codegen::LanguageModel& lm, EvolutionConfig config, int limit) {
  const std::string dir = fresh_dir();
  Journal journal = Journal::create(dir);
  FakeEvaluator evaluator;
  config.rounds_in_flight = 2;
  Evolution evolution(config, journal, lm, evaluator, two_seeds());
  evolution.overlap_lm_calls(limit);
  evolution.run();
  std::filesystem::remove_all(dir);
}

// Logs its calls in order: "s<first sample>" per sample call, "tune" per TRAIN.
class LoggingLm : public ScriptedLm {
 public:
  std::vector<std::string> log;
  std::vector<codegen::Completion> sample(const codegen::SampleRequest& r) override {
    log.push_back("s" + std::to_string(r.first_sample));
    return ScriptedLm::sample(r);
  }
  codegen::TuneReport tune(const std::vector<codegen::TuneExample>& examples) override {
    log.push_back("tune");
    return ScriptedLm::tune(examples);
  }
};
}  // namespace

TEST_CASE("with rounds in flight, TRAIN after round t comes after the answers of the rounds already open",
          "[engine][pipeline]") {
  LoggingLm lm;
  lm.script = default_script;
  lm.tunable = true;
  evolve_two_in_flight(lm, tiny(4, 2, 3, 2), 4);
  // Rounds 0 and 1 sample from theta_0; round 2 from theta after round 0's
  // TRAIN, round 3 after round 1's; rounds 2 and 3 have no later round to tune for.
  CHECK(lm.log == std::vector<std::string>{"s0", "s3", "s6", "s9", "tune", "s12", "s15", "tune", "s18", "s21"});
}

TEST_CASE("an LM answer waiting to be taken holds no call slot", "[engine][pipeline]") {
  SlowLm lm;
  LmCalls calls(lm, 1);
  codegen::SampleRequest request;
  request.temperatures = {0.5, 0.7};
  calls.start(7, request);
  CHECK_FALSE(calls.can_start(request));
  CHECK_FALSE(calls.take(8));  // no such call
  for (int i = 0; i < 200 && calls.running() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(calls.running() == 0);
  CHECK(calls.can_start(request));  // call 7 is answered but not taken: a later round may ask meanwhile
  calls.start(9, request);
  CHECK_FALSE(calls.can_start(request));
  const auto answer = calls.take(7);
  REQUIRE(answer);
  CHECK(answer->completions.size() == 2);
  CHECK_FALSE(calls.take(7));  // taken once
}

namespace {
// A call holds weight(first sample) of the back-end's requests. Logs "+s<i>"
// when call i starts and "-s<i>" when it ends, and the most requests held.
class WeighedLm : public codegen::LanguageModel {
 public:
  std::function<int(std::uint64_t)> weight;
  std::mutex mutex;
  std::vector<std::string> log;
  int held = 0, most_held = 0;
  std::string name() const override { return "scripted"; }
  int max_concurrent_calls() const override { return codegen::kAnyConcurrency; }
  int requests_for(const codegen::SampleRequest& r) const override { return weight(r.first_sample); }
  std::vector<codegen::Completion> sample(const codegen::SampleRequest& r) override {
    const std::string call = "s" + std::to_string(r.first_sample);
    {
      std::lock_guard<std::mutex> lock(mutex);
      log.push_back("+" + call);
      most_held = std::max(most_held, held += weight(r.first_sample));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // long enough to overlap on a loaded machine
    auto out = scripted(default_script, r);
    std::lock_guard<std::mutex> lock(mutex);
    log.push_back("-" + call);
    held -= weight(r.first_sample);
    return out;
  }
};

codegen::SampleRequest request_at(std::uint64_t first_sample) {
  codegen::SampleRequest r;
  r.first_sample = first_sample;
  r.temperatures = {0.5};
  return r;
}
}  // namespace

TEST_CASE("LmCalls counts the back-end's requests, not its calls", "[engine][pipeline]") {
  WeighedLm lm;
  lm.weight = [](std::uint64_t i) { return static_cast<int>(i); };
  LmCalls calls(lm, 4);
  calls.start(1, request_at(3));
  CHECK(calls.running() == 3);
  CHECK(calls.can_start(request_at(1)));
  CHECK_FALSE(calls.can_start(request_at(2)));  // 3 + 2 > 4
  for (int i = 0; i < 200 && calls.running() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(calls.can_start(request_at(6)));  // nothing out: a call larger than the limit still goes
  CHECK(calls.take(1));
}

TEST_CASE("LM calls go out in journal order: a later round's never before an earlier round's", "[engine][pipeline]") {
  WeighedLm lm;
  // Round 0 asks s0, s3, s6 (3 requests each), round 1 s9, s12, s15 (1 each).
  lm.weight = [](std::uint64_t i) { return i < 9 ? 3 : 1; };
  evolve_two_in_flight(lm, tiny(2, 3, 3, 2), 4);
  // s9 would fit beside s0, but waits until round 0's s3 and s6 have gone out.
  REQUIRE(lm.log.size() == 12);
  CHECK(std::vector<std::string>(lm.log.begin(), lm.log.begin() + 4) == std::vector<std::string>{"+s0", "-s0", "+s3", "-s3"});
  CHECK(std::find(lm.log.begin(), lm.log.end(), "+s9") > std::find(lm.log.begin(), lm.log.end(), "-s3"));
  CHECK(lm.most_held == 4);  // s6 and s9 together: the limit is used and never passed
}
