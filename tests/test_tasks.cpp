// The registry, the option tables, the run settings built from them, the
// verdict names and the journal's format: torch-free.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "journal.hpp"
#include "run_settings.hpp"
#include "tasks/clrs/clrs_task.hpp"
#include "tasks/mnist1d/mnist1d_task.hpp"
#include "tasks/sim/sim_task.hpp"
#include "token_fingerprint.hpp"
#include "verdict.hpp"

using namespace evoprompt;
using nlohmann::json;

TEST_CASE("tasks: the registry is the one list, and parses every name", "[tasks]") {
  REQUIRE(tasks::all_tasks().size() == 4);
  CHECK(tasks::task_usages() == "mnist1d, clrs:ALGORITHM, arrays:DIR, sim");
  const auto m = tasks::find_task("mnist1d");
  CHECK(m.task->contract().record == "Model");
  CHECK(m.task->contract().opening == "struct Model : torch::nn::Module {");
  const auto c = tasks::find_task("clrs:quickselect");
  CHECK(c.name == "clrs:quickselect");
  CHECK(c.options.at("algorithm") == "quickselect");
  CHECK(c.task->contract().record == "Triplet");
  CHECK_THROWS_WITH(tasks::find_task("cifar"), "unknown task 'cifar' (available: mnist1d, clrs:ALGORITHM, arrays:DIR, sim)");
  CHECK_THROWS_WITH(tasks::find_task("clrs:nope"), "unknown CLRS-30 algorithm 'nope' in task 'clrs:nope'");
  CHECK_THROWS_WITH(tasks::task_config("clrs:bfs", {{"algorithm", "dfs"}}), "task clrs:bfs with the options of clrs:dfs");
}

TEST_CASE("tasks: options round-trip through JSON, unknown keys and wrong types are refused", "[tasks]") {
  const auto& table = tasks::mnist1d_option_table();
  Mnist1dEvaluatorOptions o;
  o.steps = 123;
  o.lr = 0.5;
  o.init = "torch";
  o.seed = 7;
  const auto back = table.from_json(table.to_json(o));
  CHECK(back.steps == 123);
  CHECK(back.lr == 0.5);
  CHECK(back.init == "torch");
  CHECK(back.seed == 7u);
  CHECK(back.batch_size == 128);
  CHECK_THROWS_WITH(table.from_json({{"hidden", 8}}), "unknown task option 'hidden'");
  CHECK_THROWS_WITH(table.from_json({{"steps", "many"}}), "task option 'steps' has the wrong type");
  CHECK_THROWS_WITH(table.from_json({{"seed", -1}}), "task option 'seed' has the wrong type");
  CHECK_THROWS_WITH(tasks::task_config("mnist1d", {{"steps", 0}}), "steps must be >= 1");
  CHECK_THROWS_WITH(tasks::task_config("clrs:bfs", {{"test_samples", -2}}),
                    "test-samples must be >= 0, or -1 for the whole split");
  // The machine's fields never reach the journal.
  const auto stored = tasks::find_task("clrs:bfs").stored_options();
  CHECK(stored.size() == 11);
  CHECK_FALSE(stored.contains("cache_dir"));
  CHECK_FALSE(stored.contains("gpu_memory_fraction"));
  CHECK(stored.at("algorithm") == "bfs");
}

TEST_CASE("tasks: every user setting has one flag, the same in every task", "[tasks]") {
  std::map<std::string, std::string> flag_of;  // key -> flag over all tasks
  for (const tasks::Task* t : tasks::all_tasks())
    for (const auto& f : t->options()) {
      if (f.scope != tasks::OptionScope::user) {
        CHECK(f.flag.empty());
        continue;
      }
      REQUIRE(f.flag.rfind("--", 0) == 0);
      CHECK_FALSE(f.help.empty());
      auto [it, fresh] = flag_of.emplace(f.key, f.flag);
      CHECK(it->second == f.flag);
    }
  CHECK(flag_of.at("seed") == "--train-seed");  // evolve's --seed is the search's
  CHECK(flag_of.at("data_dir") == "--data");
  CHECK(flag_of.at("batch_size") == "--batch-size");
}

TEST_CASE("tasks: text of a flag parses by the field's type", "[tasks]") {
  const auto& fields = tasks::find_task("mnist1d").task->options();
  auto field = [&](const std::string& key) {
    return *std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.key == key; });
  };
  CHECK(tasks::parse_option_text(field("steps"), "20") == 20);
  CHECK(tasks::parse_option_text(field("lr"), "1e-3") == 1e-3);
  CHECK(tasks::parse_option_text(field("init"), "torch") == "torch");
  CHECK_THROWS_WITH(tasks::parse_option_text(field("steps"), "2x"), "--steps: '2x' is not an integer");
  CHECK_THROWS_WITH(tasks::parse_option_text(field("seed"), "-3"), "--train-seed: '-3' is not a non-negative integer");
  CHECK_THROWS_WITH(tasks::parse_option_text(field("lr"), ""), "--lr: '' is not a number");
}

TEST_CASE("run settings: the task's defaults, its preset, then each layer", "[tasks]") {
  const auto quick = engine::resolve_run_settings("mnist1d", "quick", {}, {});
  CHECK(quick.evolution.rounds == 3);
  CHECK(quick.evolution.samples == 4);
  CHECK(quick.task.options.at("steps") == 2000);
  CHECK(quick.task.options.at("eval_every") == 100);
  CHECK(quick.workers.limits.train_timeout_s == 3600.0);
  const auto clrs = engine::resolve_run_settings("clrs:bfs", "quick", {}, {});
  CHECK(clrs.evolution.rounds == 2);
  CHECK(clrs.evolution.survivors == 4);
  CHECK(clrs.task.options.at("steps") == 60);
  CHECK(clrs.workers.limits.train_timeout_s == 12 * 3600.0);
  const auto paper = engine::resolve_run_settings("clrs:bfs", "paper", {}, {});
  CHECK(paper.evolution.rounds == 10);
  CHECK(paper.task.options.at("steps") == 2000);

  const json file = {{"evolution", {{"rounds", 5}}}, {"train", {{"steps", 999}, {"lr", 1}}}};
  const json flags = {{"evolution", {{"rounds", 1}}}, {"lm", {{"spec", "replay:x.jsonl"}}}};
  const auto s = engine::resolve_run_settings("mnist1d", "quick", {file, flags}, {"run.toml", ""});
  CHECK(s.evolution.rounds == 1);
  CHECK(s.task.options.at("steps") == 999);
  CHECK(s.task.options.at("lr") == 1.0);
  CHECK(s.lm.spec == "replay:x.jsonl");

  auto refused = [](const json& layer) {
    try {
      engine::resolve_run_settings("mnist1d", "quick", {layer}, {"f.toml"});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused({{"train", {{"hidden", 8}}}}) == "f.toml: 'train.hidden' is not a setting of task mnist1d");
  CHECK(refused({{"train", {{"cache_dir", "/x"}}}}) == "f.toml: unknown setting 'train.cache_dir'");
  CHECK(refused({{"train", {{"stepz", 8}}}}) == "f.toml: unknown setting 'train.stepz'");
  CHECK(refused({{"evolution", {{"roundz", 3}}}}) == "f.toml: unknown setting 'evolution.roundz'");
  CHECK(refused({{"evolution", {{"rounds", "two"}}}}) == "f.toml: 'evolution.rounds' has the wrong type");
  CHECK(refused({{"evolution", {{"rounds", 1.5}}}}) == "f.toml: 'evolution.rounds' has the wrong type");
  CHECK(refused({{"gpu", {{"x", 1}}}}) == "f.toml: unknown setting 'gpu' (tables: evolution, train, lm, workers)");
  CHECK(refused({{"lm", {{"spec", "gpt"}}}}) == "unknown --lm 'gpt' (mutate, replay:FILE, openai:URL, local:DIR)");
  CHECK_THROWS_WITH(engine::resolve_run_settings("mnist1d", "huge", {}, {}), "unknown preset 'huge' (quick, paper)");
}

TEST_CASE("LM specs: one parser for all four kinds, only local:DIR prompt-tunes", "[tasks]") {
  using Kind = codegen::LmSpec::Kind;
  CHECK(codegen::parse_lm_spec("mutate").kind == Kind::mutate);
  CHECK(codegen::parse_lm_spec("replay:a.jsonl").arg == "a.jsonl");
  CHECK(codegen::parse_lm_spec("openai:http://h:1/v1").arg == "http://h:1/v1");
  CHECK(codegen::parse_lm_spec("local:/m").kind == Kind::local);
  CHECK(codegen::parse_lm_spec("local:/m").can_prompt_tune());
  CHECK_FALSE(codegen::parse_lm_spec("openai:http://h:1/v1").can_prompt_tune());
  CHECK_THROWS_WITH(codegen::parse_lm_spec("mutate:x"), "--lm mutate takes no argument");
  CHECK_THROWS_WITH(codegen::parse_lm_spec("local:"), "--lm local:DIR needs a model folder");
  CHECK_THROWS_WITH(codegen::parse_lm_spec("openai:"), Catch::StartsWith("--lm openai:URL needs a base URL"));
}

TEST_CASE("verdicts: fourteen names, each one way back", "[tasks]") {
  std::set<std::string> names;
  for (int k = 0; k <= static_cast<int>(VerdictKind::lm_error); ++k) {
    const auto kind = static_cast<VerdictKind>(k);
    const std::string name = to_string(kind);
    names.insert(name);
    CHECK(verdict_from_string(name) == kind);
  }
  CHECK(names.size() == 14);
  CHECK(names.count("filtered_alpha") == 1);
  CHECK_FALSE(verdict_from_string("Evaluated"));
}

TEST_CASE("journal: a run's settings come back as stored, another format is refused in one line", "[tasks]") {
  const auto dir = std::filesystem::temp_directory_path() / ("evoprompt_tasks_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto settings = engine::resolve_run_settings("clrs:dfs", "quick", {{{"train", {{"hidden", 16}}}}}, {""});
  {
    auto journal = engine::Journal::create(dir.string(), engine::run_meta(settings, "{}"));
    const auto back = engine::stored_run_settings(journal);
    CHECK(back.task.name == "clrs:dfs");
    CHECK(back.task.options == settings.task.options);
    CHECK(back.evolution.rounds == 2);
    CHECK(back.workers.limits.train_timeout_s == 12 * 3600.0);
    CHECK(json::parse(*journal.meta("train")).at("hidden") == 16);
    CHECK(journal.meta("journal_format") == std::optional<std::string>("2"));
    journal.set_meta("journal_format", "1");
  }
  CHECK_THROWS_WITH(engine::Journal::open(dir.string()),
                    dir.string() + ": a journal of format 1; this evoprompt reads format 2 only (start a new run)");
  CHECK_THROWS_WITH(engine::Journal::open((dir / "none").string()), Catch::Contains("no run journal here"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("sim: a child's duration and scores come from its tokens and the seed", "[tasks]") {
  const SimChild a = simulate_child("tokens", 0, 2.0);
  CHECK(simulate_child("tokens", 0, 2.0).seconds == a.seconds);
  CHECK(simulate_child("tokens", 1, 2.0).seconds != a.seconds);
  CHECK(simulate_child("tokens!", 0, 2.0).params != a.params);
  for (int i = 0; i < 200; ++i) {
    const SimChild c = simulate_child("child " + std::to_string(i), 7, 2.0);
    CHECK(c.seconds >= 1.0);
    CHECK(c.seconds < 3.0);
    CHECK(c.params >= 1000);
    CHECK(c.params < 10000);
    CHECK(c.val_acc >= 0.55);
    CHECK(c.val_acc < 0.95);
  }
  const auto task = tasks::task_config("sim", {{"child_seconds", 0.05}});
  auto evaluator = tasks::make_evaluator(task);
  const std::string source = task.task->seeds(task.options).at(0).source;
  const ChildResult r = evaluator->evaluate(source, "cnn");
  const SimChild expected = simulate_child(jit::token_fingerprint(source), 0, 0.05);
  CHECK(r.verdict == VerdictKind::evaluated);
  CHECK(r.params_used == expected.params);
  CHECK(r.best_val_acc == expected.val_acc);
  CHECK(r.train_ms >= 1000 * expected.seconds);
  // Whitespace and comments are not tokens: the same child.
  CHECK(evaluator->evaluate(source + "\n// again\n", "cnn2").params_used == expected.params);
  CHECK_THROWS_WITH(tasks::task_config("sim", {{"child_seconds", -1.0}}), "child seconds must be >= 0");
}
