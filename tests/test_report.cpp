// What the report, export and reeval compute from a journal: the bootstrap
// bands (against a direct enumeration), the Pareto front, the best-so-far
// curve, the per-round figures, re-evaluation rows and their means, and the
// page's assembly. No compiling or training: journals are written by hand.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "bootstrap.hpp"
#include "journal.hpp"
#include "population.hpp"
#include "reeval.hpp"
#include "report_page.hpp"
#include "run_data.hpp"

using namespace evoprompt;
using namespace evoprompt::engine;

namespace {

std::string fresh_run_dir() {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("evoprompt_report_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  return dir.string();
}

ChildRecord scored(const std::string& name, int round, std::int64_t params, double val, bool in_history = true) {
  ChildRecord c;
  c.name = name;
  c.round = round;
  c.kind = round < 0 ? "seed" : "sample";
  c.source = "struct Model : torch::nn::Module {\n  // " + name + "\n};\n";
  c.verdict = in_history || round < 0 ? VerdictKind::evaluated : VerdictKind::filtered_alpha;
  c.params_used = c.params_total = params;
  c.val_acc = val;
  c.test_acc = val - 0.01;
  c.fitness = fitness(params, val);
  c.in_history = round >= 0 && in_history;
  return c;
}

ChildRecord failed(const std::string& name, int round, VerdictKind verdict) {
  ChildRecord c;
  c.name = name;
  c.round = round;
  c.verdict = verdict;
  c.source = "broken";
  return c;
}

// The exact bootstrap distribution of the mean of `v`: all n^n resamples.
std::vector<double> all_resample_means(const std::vector<double>& v) {
  const std::size_t n = v.size();
  std::vector<std::size_t> idx(n, 0);
  std::vector<double> means;
  while (true) {
    double s = 0.0;
    for (const std::size_t i : idx) s += v[i];
    means.push_back(s / static_cast<double>(n));
    std::size_t k = 0;
    while (k < n && ++idx[k] == n) idx[k++] = 0;
    if (k == n) break;
  }
  return means;
}

// Trains nothing: a child's accuracy is 0.8 + 0.01 * training seed, and it
// writes a weights file where asked.
class SeededEvaluator : public Evaluator {
 public:
  SeededEvaluator(std::int64_t seed, std::string weights_dir, int* calls)
      : seed_(seed), weights_dir_(std::move(weights_dir)), calls_(calls) {}
  ChildResult evaluate(const std::string&, const std::string& name) override {
    ++*calls_;
    ChildResult r;
    r.verdict = VerdictKind::evaluated;
    r.params_used = r.params_total = 1000;
    r.best_val_acc = 0.8 + 0.01 * static_cast<double>(seed_);
    r.test_acc = r.best_val_acc - 0.05;
    std::ofstream(weights_dir_ + "/" + name + ".safetensors") << "weights";
    return r;
  }
  std::string fingerprint(const std::string& s) override { return s; }
  std::string opening() const override { return "struct Model : torch::nn::Module {"; }
  std::string describe() const override { return "{}"; }

 private:
  std::int64_t seed_;
  std::string weights_dir_;
  int* calls_;
};

}  // namespace

TEST_CASE("quantile interpolates between order statistics as numpy does") {
  CHECK(quantile({3, 1, 2, 4}, 0.0) == 1.0);
  CHECK(quantile({3, 1, 2, 4}, 1.0) == 4.0);
  CHECK(quantile({3, 1, 2, 4}, 0.5) == Approx(2.5));
  CHECK(quantile({1, 2, 3, 4, 5}, 0.25) == Approx(2.0));
  CHECK(quantile({10, 20}, 0.1) == Approx(11.0));
  CHECK_THROWS(quantile({}, 0.5));
}

TEST_CASE("bootstrap bands match the exact bootstrap distribution of the mean") {
  const std::vector<double> runs{1, 2, 4, 8};
  // Directly: every one of the 4^4 resamples, equally likely.
  const std::vector<double> exact = all_resample_means(runs);
  REQUIRE(exact.size() == 256);
  const double exact_lo = quantile(exact, 0.025), exact_hi = quantile(exact, 0.975);
  CHECK(exact_lo == Approx(1.5));
  CHECK(exact_hi == Approx(6.5));

  // Per x: run r's curve is runs[r] at x=0, 5 everywhere at x=1, twice
  // runs[r] at x=2; one run is longer (cut to the common length).
  std::vector<std::vector<double>> curves;
  for (const double v : runs) curves.push_back({v, 5.0, 2 * v});
  curves[2].push_back(100.0);
  const BootstrapBand band = bootstrap_mean_band(curves, 20000, 7);
  REQUIRE(band.mean.size() == 3);
  CHECK(band.mean[0] == Approx(3.75));
  CHECK(band.lo[0] == Approx(exact_lo));
  CHECK(band.hi[0] == Approx(exact_hi));
  CHECK(band.mean[1] == Approx(5.0));
  CHECK(band.lo[1] == Approx(5.0));
  CHECK(band.hi[1] == Approx(5.0));
  CHECK(band.lo[2] == Approx(2 * exact_lo));
  CHECK(band.hi[2] == Approx(2 * exact_hi));

  // One run: the band is the curve itself; the same seed, the same band.
  const BootstrapBand one = bootstrap_mean_band({{1.0, 2.0}});
  CHECK(one.lo == std::vector<double>{1.0, 2.0});
  CHECK(one.hi == std::vector<double>{1.0, 2.0});
  CHECK(bootstrap_mean_band(curves, 500, 3).lo == bootstrap_mean_band(curves, 500, 3).lo);
}

TEST_CASE("the Pareto front and the max-fitness-so-far curve of a journal") {
  std::vector<ChildRecord> rows = {
      scored("seed_big", -1, 5000, 0.90),       // 1
      scored("seed_small", -1, 1000, 0.60),     // 2
      scored("a", 0, 2000, 0.85),               // 3: front
      failed("b", 0, VerdictKind::compile_error),
      scored("c", 0, 2500, 0.80),               // dominated by a
      scored("d", 0, 800, 0.40, false),         // filtered by alpha, still the smallest
      scored("e", 1, 5000, 0.95),               // front
      scored("f", 1, 1000, 0.60),               // ties seed_small: not strictly better
  };
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].id = static_cast<std::int64_t>(i + 1);
  CHECK(pareto_front(rows) == std::vector<std::int64_t>{6, 2, 3, 7});

  // Seeds start it; only children that entered G raise it; every sample is a step.
  const double seed_best = std::max(fitness(5000, 0.90), fitness(1000, 0.60));
  const double a = fitness(2000, 0.85);
  REQUIRE(a > seed_best);
  const auto curve = best_fitness_so_far(rows);
  REQUIRE(curve.size() == 6);
  CHECK(curve[0] == Approx(a));
  CHECK(curve[1] == Approx(a));  // b failed
  CHECK(curve[2] == Approx(a));  // c is worse
  CHECK(curve[3] == Approx(a));  // d never entered G, though it is fitter
  CHECK(curve[4] == Approx(std::max(a, fitness(5000, 0.95))));
}

TEST_CASE("run_data gives per-round verdicts, kept, fitness, LM use and tuning") {
  const std::string dir = fresh_run_dir();
  Journal j = Journal::create(dir, {{"status", "running"}});
  const auto seed = j.insert_child(scored("seed", -1, 5000, 0.9));
  j.start_round({0, "rng", {seed}, false, ""});
  PromptRecord p;
  p.round = 0;
  p.text = "prompt";
  p.parent_ids = {seed, seed};
  const auto prompt = j.insert_prompt(p);
  std::vector<ChildRecord> kids = {scored("r0p0s0", 0, 1000, 0.8), scored("r0p0s1", 0, 3000, 0.9),
                                   failed("r0p0s2", 0, VerdictKind::policy)};
  for (auto& k : kids) k.prompt_id = prompt;
  const auto ids = j.insert_children(kids, {prompt, 3, 100, 200, 1500.0, ""});
  j.finish_round(0, {ids[0]}, R"({"tuned":true,"loss_before":2.5,"loss_after":1.25,"detail":"ok","state":"x"})");

  // Without a settings row, run_data cannot name the task: it needs a real run.
  CHECK_THROWS(run_data(j, "r"));

  const std::vector<std::int64_t> parents{seed, seed};
  const auto rows = child_rows(j);
  REQUIRE(rows.size() == 4);
  CHECK(rows[1]["parent_ids"] == nlohmann::json(parents));
  CHECK(rows[3]["verdict"] == "policy");
  CHECK(rows[1]["reeval"].is_null());
  for (const char* field : {"id", "round", "prompt_id", "sample", "kind", "name", "repair_of", "lm", "temperature",
                            "prompt_tokens", "completion_tokens", "verdict", "rule", "message", "diagnostics",
                            "duplicate_of", "params_used", "params_total", "val_acc", "best_step", "test_acc",
                            "fitness", "compile_ms", "train_ms", "total_ms", "step_path", "in_history", "token_hash",
                            "source", "completion"})
    CHECK(rows[1].contains(field));
  CHECK(rows[1].size() == 32);
  std::filesystem::remove_all(dir);
}

TEST_CASE("reevaluate stores K rows per child, skips those it has, and gives the same means again") {
  const std::string dir = fresh_run_dir();
  Journal j = Journal::create(dir);
  std::vector<ChildRecord> answer = {scored("x", 0, 1000, 0.80), scored("y", 0, 2000, 0.90)};
  for (auto& c : answer) c.id = j.insert_child(c);
  int calls = 0;
  std::vector<std::int64_t> seeds_used;
  auto factory = [&](std::int64_t seed, const std::string& weights_dir) -> std::unique_ptr<Evaluator> {
    seeds_used.push_back(seed);
    return std::make_unique<SeededEvaluator>(seed, weights_dir, &calls);
  };
  reevaluate(j, dir, answer, 3, 10, factory);
  CHECK(calls == 6);
  CHECK(seeds_used == std::vector<std::int64_t>{11, 12, 13});
  const auto rows = j.reevals();
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].child_id == answer[0].id);
  CHECK(rows[0].k == 1);
  CHECK(rows[0].train_seed == 11);
  CHECK(rows[2].k == 3);
  CHECK(rows[0].val_acc == Approx(0.91));
  CHECK(rows[0].fitness == Approx(fitness(1000, 0.91)));
  CHECK(rows[0].weights == "weights/k1/x.safetensors");
  CHECK(std::filesystem::exists(std::filesystem::path(dir) / rows[0].weights));

  // x: its first training (0.80) and 0.91, 0.92, 0.93.
  const auto stats = reeval_stats(j);
  const ReevalStats& x = stats.at(answer[0].id);
  CHECK(x.trainings == 4);
  CHECK(x.val_mean == Approx((0.80 + 0.91 + 0.92 + 0.93) / 4));
  const double m = x.val_mean;
  const double var = ((0.80 - m) * (0.80 - m) + (0.91 - m) * (0.91 - m) + (0.92 - m) * (0.92 - m) +
                      (0.93 - m) * (0.93 - m)) / 3;
  CHECK(x.val_sd == Approx(std::sqrt(var)));
  CHECK(x.test_mean == Approx((0.79 + 0.86 + 0.87 + 0.88) / 4));
  CHECK(x.fitness_mean ==
        Approx((fitness(1000, 0.80) + fitness(1000, 0.91) + fitness(1000, 0.92) + fitness(1000, 0.93)) / 4));
  // Ranked by mean fitness: x (1000 params) beats y (2000 params) at equal accuracy gains.
  const auto ranked = ranked_by_mean(j);
  REQUIRE(ranked.size() == 2);
  CHECK(ranked[0].child_id == answer[0].id);

  // Again with the same K: nothing trains, the same means.
  reevaluate(j, dir, answer, 3, 10, factory);
  CHECK(calls == 6);
  CHECK(reeval_stats(j).at(answer[0].id).fitness_mean == x.fitness_mean);
  // A larger K trains only the new seed.
  reevaluate(j, dir, answer, 4, 10, factory);
  CHECK(calls == 8);
  CHECK(j.reevals().size() == 8);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the report page inlines its libraries and its data, and no child text can close a script") {
  nlohmann::json run = {{"mode", "evoprompting"}, {"best_so_far", {-3.0, -2.0}}};
  run["children"] = nlohmann::json::array({{{"source", "</script><script>alert(1)</script>"}}});
  const nlohmann::json data = report_data({run, run});
  REQUIRE(data["groups"].size() == 1);
  CHECK(data["groups"][0]["runs"] == nlohmann::json({0, 1}));
  CHECK(data["groups"][0]["mean"] == nlohmann::json({-3.0, -2.0}));
  const std::string page = report_html(data);
  for (const char* marker : {"@@STYLE_HLJS@@", "@@SCRIPT_D3@@", "@@SCRIPT_HLJS@@", "@@SCRIPT_PAGE@@", "@@DATA@@"})
    CHECK(page.find(marker) == std::string::npos);
  CHECK(page.find("alert(1)") != std::string::npos);
  CHECK(page.find("</script><script>alert") == std::string::npos);
  CHECK(page.find("\\u003c/script>\\u003cscript>alert(1)") != std::string::npos);
  CHECK(page.find("var d3={version:\"3.5") != std::string::npos);          // Debian's d3
  CHECK(page.find("hljs.registerLanguage(\"cpp\"") != std::string::npos);   // Debian's highlight.js
  CHECK(page.find("Content-Security-Policy") != std::string::npos);
  CHECK(page.find("function drawLineage()") != std::string::npos);
}
