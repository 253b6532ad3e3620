#include "run_commands.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <toml++/toml.h>

#include "evaluator.hpp"
#include "lm_factory.hpp"
#include "local_lm_factory.hpp"
#include "local_lm_options.hpp"
#include "prompt.hpp"
#include "report.hpp"
#include "run_lock.hpp"
#include "worker_protocol.hpp"

namespace evoprompt::cli {
namespace {

using nlohmann::json;

// Everything that decides a run, stored in its journal.
struct RunSettings {
  std::string task = "mnist1d";       // or clrs:ALGORITHM
  engine::EvolutionConfig evolution;
  Mnist1dEvaluatorOptions train;      // task mnist1d
  ClrsEvaluatorOptions clrs;          // tasks clrs:*
  codegen::LmSettings lm;
  std::string mode = "evoprompting";  // as written; becomes evolution.mode
  int workers = 0;                    // 0: the default rule (see worker_pool.hpp)
  bool in_process = false;            // evaluate in the driver: no isolation (debugging)
  WorkerLimits limits;

  bool is_clrs() const { return task.rfind("clrs:", 0) == 0; }
  EvaluatorOptions evaluator() const {
    if (is_clrs()) return clrs;
    return train;
  }
};

json workers_json(const RunSettings& s) {
  return {{"workers", s.workers},
          {"in_process", s.in_process},
          {"compile_timeout_s", s.limits.compile_timeout_s},
          {"train_timeout_s", s.limits.train_timeout_s},
          {"mem_limit_mb", s.limits.mem_limit_mb}};
}

void workers_from(const json& j, RunSettings& s) {
  s.workers = j.at("workers");
  s.in_process = j.at("in_process");
  s.limits.compile_timeout_s = j.at("compile_timeout_s");
  s.limits.train_timeout_s = j.at("train_timeout_s");
  s.limits.mem_limit_mb = j.at("mem_limit_mb");
}

// `paper`: Table 2 and the paper's training protocol (MNIST-1D: 8000 steps;
// CLRS: 2000 steps during search). `quick`: a few minutes on a 2-core CPU
// with the mutate operator (MNIST-1D), or a smoke run of the same pipeline
// (CLRS, whose every step costs about a second on such a CPU).
void apply_preset(const std::string& name, RunSettings& s) {
  s.evolution = engine::EvolutionConfig{};
  s.train = Mnist1dEvaluatorOptions{};
  const std::string algorithm = s.clrs.algorithm;
  s.clrs = ClrsEvaluatorOptions{};
  s.clrs.algorithm = algorithm;
  // A CLRS child trains for about a second a step on a CPU.
  s.limits.train_timeout_s = s.is_clrs() ? 12 * 3600.0 : WorkerLimits{}.train_timeout_s;
  if (name == "paper") {
    s.train.steps = 8000;
    s.train.eval_every = 250;
    s.clrs.steps = 2000;
    s.clrs.eval_every = 50;
  } else if (name == "quick") {
    s.evolution.rounds = 3;
    s.evolution.prompts = 4;
    s.evolution.samples = 4;
    s.evolution.survivors = 4;
    s.train.steps = 2000;
    s.train.eval_every = 100;
    if (s.is_clrs()) {
      s.evolution.rounds = 2;
      s.evolution.prompts = 2;
      s.evolution.samples = 2;
    }
    s.clrs.steps = 60;
    s.clrs.eval_every = 20;
  } else {
    throw UsageError("unknown preset '" + name + "' (quick, paper)");
  }
}

json options_json(const EvaluatorOptions& o) {
  json j = worker::to_json(o);
  j.erase("cache_dir");  // a property of the machine, not of the run
  return j;
}

json lm_json(const codegen::LmSettings& l) {
  return {{"spec", l.spec},           {"model", l.model},           {"api", l.api},
          {"api_key_env", l.api_key_env}, {"timeout_s", l.timeout_s}, {"max_retries", l.max_retries},
          {"max_requests", l.max_requests}, {"max_total_tokens", l.max_total_tokens},
          {"soft_prompt_tokens", l.soft_prompt_tokens}, {"tune_epochs", l.tune_epochs},
          {"tune_batch", l.tune_batch}, {"tune_lr", l.tune_lr}};
}

codegen::LmSettings lm_from(const json& j) {
  codegen::LmSettings l;
  l.spec = j.at("spec");
  l.model = j.at("model");
  l.api = j.at("api");
  l.api_key_env = j.at("api_key_env");
  l.timeout_s = j.at("timeout_s");
  l.max_retries = j.at("max_retries");
  l.max_requests = j.at("max_requests");
  l.max_total_tokens = j.at("max_total_tokens");
  l.soft_prompt_tokens = j.value("soft_prompt_tokens", l.soft_prompt_tokens);
  l.tune_epochs = j.value("tune_epochs", l.tune_epochs);
  l.tune_batch = j.value("tune_batch", l.tune_batch);
  l.tune_lr = j.value("tune_lr", l.tune_lr);
  return l;
}

// --- the TOML config: [evolution], [train] and [lm] tables -----------------

class TomlReader {
 public:
  explicit TomlReader(const std::string& path) : path_(path) {
    try {
      root_ = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      throw UsageError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    } catch (const std::exception& e) {
      throw UsageError(path + ": " + e.what());
    }
  }

  template <class T>
  void read(const std::string& table, const std::string& key, T& field) {
    const toml::node* node = root_.at_path(table + "." + key).node();
    used_.push_back(table + "." + key);
    if (!node) return;
    bad_type_if(!assign(*node, field), table + "." + key);
  }

  // A setting of another task: an error when present.
  void refuse(const std::string& table, const std::string& key, const std::string& why) {
    used_.push_back(table + "." + key);
    if (root_.at_path(table + "." + key).node()) throw UsageError(path_ + ": '" + table + "." + key + "' " + why);
  }

  // Everything in the file must have been read: a typo is an error, not a default.
  void reject_unknown() const {
    for (auto&& [table, node] : root_) {
      const std::string t(table.str());
      const toml::table* entries = node.as_table();
      if (!entries) throw UsageError(path_ + ": unknown setting '" + t + "' (tables: evolution, train, lm, workers)");
      for (auto&& [key, value] : *entries) {
        (void)value;
        const std::string name = t + "." + std::string(key.str());
        if (std::find(used_.begin(), used_.end(), name) == used_.end())
          throw UsageError(path_ + ": unknown setting '" + name + "'");
      }
    }
  }

 private:
  void bad_type_if(bool bad, const std::string& name) const {
    if (bad) throw UsageError(path_ + ": '" + name + "' has the wrong type");
  }
  static bool assign(const toml::node& n, std::string& f) { return set(n.value<std::string>(), f); }
  static bool assign(const toml::node& n, bool& f) { return set(n.value<bool>(), f); }
  static bool assign(const toml::node& n, double& f) { return set(n.value<double>(), f); }
  template <class I>
  static bool assign(const toml::node& n, I& f) {
    auto v = n.value<std::int64_t>();
    if (!v || *v < 0 && std::is_unsigned_v<I>) return false;
    f = static_cast<I>(*v);
    return true;
  }
  static bool assign(const toml::node& n, std::vector<double>& f) {
    const toml::array* a = n.as_array();
    if (!a) return false;
    f.clear();
    for (auto&& x : *a) {
      auto v = x.value<double>();
      if (!v) return false;
      f.push_back(*v);
    }
    return true;
  }
  template <class T>
  static bool set(const std::optional<T>& v, T& f) {
    if (!v) return false;
    f = *v;
    return true;
  }

  std::string path_;
  toml::table root_;
  std::vector<std::string> used_;
};

void apply_toml(const std::string& path, RunSettings& s) {
  TomlReader r(path);
  auto& e = s.evolution;
  r.read("evolution", "rounds", e.rounds);
  r.read("evolution", "prompts", e.prompts);
  r.read("evolution", "samples", e.samples);
  r.read("evolution", "parents", e.parents);
  r.read("evolution", "survivors", e.survivors);
  r.read("evolution", "alpha", e.alpha);
  r.read("evolution", "temperatures", e.temperatures);
  r.read("evolution", "mode", s.mode);
  r.read("evolution", "seed", e.seed);
  r.read("evolution", "repair", e.repair);
  r.read("evolution", "max_tokens", e.max_tokens);
  r.read("evolution", "top_p", e.top_p);
  if (s.is_clrs()) {
    auto& c = s.clrs;
    r.read("train", "steps", c.steps);
    r.read("train", "batch_size", c.batch_size);
    r.read("train", "lr", c.lr);
    r.read("train", "eval_every", c.eval_every);
    r.read("train", "seed", c.seed);
    r.read("train", "device", c.device);
    r.read("train", "threads", c.threads);
    r.read("train", "hidden", c.hidden);
    r.read("train", "nb_triplet_fts", c.nb_triplet_fts);
    r.read("train", "test_samples", c.test_samples);
    for (const char* key : {"data", "weight_decay", "val_size", "split_seed", "init"})
      r.refuse("train", key, "is a setting of task mnist1d, not " + s.task);
  } else {
    auto& t = s.train;
    r.read("train", "data", t.data_dir);
    r.read("train", "steps", t.steps);
    r.read("train", "batch_size", t.batch_size);
    r.read("train", "lr", t.lr);
    r.read("train", "weight_decay", t.weight_decay);
    r.read("train", "eval_every", t.eval_every);
    r.read("train", "seed", t.seed);
    r.read("train", "val_size", t.val_size);
    r.read("train", "split_seed", t.split_seed);
    r.read("train", "init", t.init);
    r.read("train", "device", t.device);
    r.read("train", "threads", t.threads);
    for (const char* key : {"hidden", "nb_triplet_fts", "test_samples"})
      r.refuse("train", key, "is a setting of the clrs:ALGORITHM tasks, not " + s.task);
  }
  auto& l = s.lm;
  r.read("lm", "spec", l.spec);
  r.read("lm", "model", l.model);
  r.read("lm", "api", l.api);
  r.read("lm", "api_key_env", l.api_key_env);
  r.read("lm", "timeout_s", l.timeout_s);
  r.read("lm", "max_retries", l.max_retries);
  r.read("lm", "max_requests", l.max_requests);
  r.read("lm", "max_total_tokens", l.max_total_tokens);
  r.read("lm", "soft_prompt_tokens", l.soft_prompt_tokens);
  r.read("lm", "tune_epochs", l.tune_epochs);
  r.read("lm", "tune_batch", l.tune_batch);
  r.read("lm", "tune_lr", l.tune_lr);
  r.read("workers", "workers", s.workers);
  r.read("workers", "in_process", s.in_process);
  r.read("workers", "compile_timeout_s", s.limits.compile_timeout_s);
  r.read("workers", "train_timeout_s", s.limits.train_timeout_s);
  r.read("workers", "mem_limit_mb", s.limits.mem_limit_mb);
  r.reject_unknown();
}

// --- output ---------------------------------------------------------------

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

void print_table(const char* title, const std::vector<engine::ChildRecord>& rows) {
  std::printf("%s\n  %-4s %-14s %9s %8s %8s %10s\n", title, "rank", "child", "params", "val_acc", "test_acc",
              "fitness");
  int rank = 1;
  for (const auto& c : rows) {
    if (c.verdict != "evaluated") {
      std::printf("  %-4s %-14s %s\n", "-", c.name.c_str(), c.verdict.c_str());
      continue;
    }
    std::printf("  %-4d %-14s %9lld %8.4f %8.4f %10.1f\n", rank++, c.name.c_str(),
                static_cast<long long>(c.params_used), c.val_acc, c.test_acc, c.fitness);
  }
}

json row_json(const engine::ChildRecord& c) {
  return {{"id", c.id},           {"name", c.name},       {"verdict", c.verdict},   {"params_used", c.params_used},
          {"val_acc", c.val_acc}, {"test_acc", c.test_acc}, {"fitness", c.fitness}};
}

json summary_json(const engine::RunSummary& s) {
  json seeds = json::array(), top = json::array();
  for (const auto& c : s.seeds) seeds.push_back(row_json(c));
  for (const auto& c : s.top) top.push_back(row_json(c));
  json workers = json::array();
  for (const auto& w : s.workers)
    workers.push_back({{"slot", w.slot}, {"pid", w.pid}, {"state", w.state}, {"children", w.children},
                       {"restarts", w.restarts}, {"last_exit", w.last_exit}});
  return {{"status", s.status},
          {"rounds_finished", s.rounds_finished},
          {"rounds", s.rounds},
          {"samples_used", s.samples_used},
          {"budget", s.budget},
          {"verdicts", s.verdicts},
          {"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens},
          {"seeds", seeds},
          {"top", top},
          {"workers", workers}};
}

void print_summary(const engine::RunSummary& s) {
  std::printf("status: %s\nrounds: %d of %d finished\nbudget: %lld of %lld samples used\n", s.status.c_str(),
              s.rounds_finished, s.rounds, static_cast<long long>(s.samples_used), static_cast<long long>(s.budget));
  std::printf("verdicts:");
  for (const auto& [verdict, count] : s.verdicts) std::printf(" %s %lld", verdict.c_str(), static_cast<long long>(count));
  std::printf("\n");
  if (s.prompt_tokens || s.completion_tokens)
    std::printf("LM tokens: %lld prompt, %lld completion\n", static_cast<long long>(s.prompt_tokens),
                static_cast<long long>(s.completion_tokens));
  if (!s.workers.empty()) {
    std::printf("workers:\n");
    for (const auto& w : s.workers)
      std::printf("  %d: pid %d %s, %lld children, %d restarts%s%s\n", w.slot, w.pid, w.state.c_str(),
                  static_cast<long long>(w.children), w.restarts, w.last_exit.empty() ? "" : ", last exit ",
                  w.last_exit.c_str());
  }
  print_table("seeds:", s.seeds);
  print_table("top children (the answer):", s.top);
  if (!s.top.empty() && !s.seeds.empty() && s.seeds.front().verdict == "evaluated")
    std::printf("best child %s: fitness %.1f; best seed %s: fitness %.1f\n", s.top.front().name.c_str(),
                s.top.front().fitness, s.seeds.front().name.c_str(), s.seeds.front().fitness);
}

std::string duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

// Live progress on stderr: one updating line on a terminal, a line per
// child otherwise; with --json, one event per line on stdout instead.
class Progress {
 public:
  explicit Progress(bool as_json) : json_(as_json), tty_(::isatty(STDERR_FILENO) != 0) {}

  void operator()(const std::string& type, const json& d) {
    if (json_) {
      json event = d;
      event["event"] = type;
      std::cout << event.dump() << std::endl;
      return;
    }
    if (type == "seed") {
      std::fprintf(stderr, "seed %-13s %s params %lld val_acc %.4f fitness %.1f\n", d["name"].get<std::string>().c_str(),
                   d["verdict"].get<std::string>().c_str(), static_cast<long long>(d["params"].get<std::int64_t>()),
                   d["val_acc"].get<double>(), d["fitness"].get<double>());
    } else if (type == "round_start") {
      round_ = d["round"].get<int>();
      rounds_ = d["rounds"].get<int>();
    } else if (type == "child") {
      const auto done = d["done"].get<std::int64_t>();
      const auto kept = d["kept"].get<std::int64_t>();
      char line[256];
      std::snprintf(line, sizeof line, "round %d/%d | %lld/%lld children | %.0f%% kept | best fitness %.1f | ETA %s",
                    round_ + 1, rounds_, static_cast<long long>(done), static_cast<long long>(d["budget"].get<std::int64_t>()),
                    done ? 100.0 * static_cast<double>(kept) / static_cast<double>(done) : 0.0,
                    d["best_fitness"].get<double>(), duration(d["eta_s"].get<double>()).c_str());
      if (tty_) {
        std::fprintf(stderr, "\r\033[K%s", line);
      } else {
        std::fprintf(stderr, "%-12s %-14s %s\n", d["name"].get<std::string>().c_str(),
                     d["verdict"].get<std::string>().c_str(), line);
      }
    } else if (type == "done" && tty_) {
      std::fprintf(stderr, "\n");
    }
  }

 private:
  bool json_;
  bool tty_;
  int round_ = 0;
  int rounds_ = 0;
};

std::atomic<bool> g_stop{false};

// First SIGINT/SIGTERM: stop after the current child. Second: leave now
// (every journal write is a transaction, so the journal stays consistent).
void on_signal(int) {
  if (g_stop.exchange(true)) _exit(kInterrupted);
}

class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::string versions_json() {
  // The evaluator's settings (journal meta "evaluator") carry the torch version.
  return json{{"evoprompt", "0.3.0"}, {"journal_format", 1}, {"llvm", 19}, {"sqlite", engine::Journal::sqlite_version()}}
      .dump();
}

// --- evolve ------------------------------------------------------------------

// A training setting both tasks have, in the running task's options.
template <class T>
auto common(T Mnist1dEvaluatorOptions::*mnist1d, T ClrsEvaluatorOptions::*clrs) {
  return [mnist1d, clrs](RunSettings& s) -> T& { return s.is_clrs() ? s.clrs.*clrs : s.train.*mnist1d; };
}

class EvolveCommand {
 public:
  EvolveCommand(int* exit_code, TaskSeeds seeds) : exit_code_(exit_code), seeds_(std::move(seeds)) {}

  void add_to(CLI::App& app) {
    cmd_ = app.add_subcommand("evolve", "Run EvoPrompting: evolve child architectures with an LM operator");
    cmd_->add_option("--run", run_dir_, "Run folder (journal, dumps)")->required();
    cmd_->add_option("--preset", preset_, "quick (minutes on a CPU) or paper (the paper's full setting)")
        ->capture_default_str();
    cmd_->add_option("--config", config_file_, "TOML file with [evolution], [train] and [lm] tables");
    cmd_->add_flag("--resume", resume_, "Continue the interrupted run in --run with its stored settings");
    cmd_->add_flag("--json", json_, "Print one JSON event per line instead of the progress display");
    task_option_ = cmd_->add_option("--task", task_, "Task: mnist1d, or clrs:ALGORITHM (a CLRS-30 algorithm, e.g. clrs:bfs)")
                       ->capture_default_str();
    setting("--lm", [](RunSettings& s) -> std::string& { return s.lm.spec; },
            "mutate (default; a code-level operator, NOT a language model), replay:FILE or openai:URL");
    setting("--model", [](RunSettings& s) -> std::string& { return s.lm.model; }, "Model name for openai:URL");
    setting("--api", [](RunSettings& s) -> std::string& { return s.lm.api; }, "completions or chat (openai:URL)");
    setting("--api-key-env", [](RunSettings& s) -> std::string& { return s.lm.api_key_env; },
            "Environment variable holding the API key");
    setting("--lm-timeout-s", [](RunSettings& s) -> double& { return s.lm.timeout_s; }, "Timeout per LM request");
    setting("--lm-retries", [](RunSettings& s) -> int& { return s.lm.max_retries; }, "Retries per LM request");
    setting("--max-requests", [](RunSettings& s) -> std::int64_t& { return s.lm.max_requests; },
            "Cap on LM requests (0: none)");
    setting("--max-lm-tokens", [](RunSettings& s) -> std::int64_t& { return s.lm.max_total_tokens; },
            "Cap on LM tokens (0: none)");
    setting("--soft-prompt-tokens", [](RunSettings& s) -> std::int64_t& { return s.lm.soft_prompt_tokens; },
            "local:DIR: trainable prompt vectors (the paper: 16)");
    setting("--tune-epochs", [](RunSettings& s) -> int& { return s.lm.tune_epochs; }, "local:DIR: prompt-tuning epochs");
    setting("--tune-batch", [](RunSettings& s) -> std::int64_t& { return s.lm.tune_batch; },
            "local:DIR: prompt-tuning batch size");
    setting("--tune-lr", [](RunSettings& s) -> double& { return s.lm.tune_lr; }, "local:DIR: prompt-tuning learning rate");
    setting("--rounds", [](RunSettings& s) -> int& { return s.evolution.rounds; }, "T, rounds of evolution");
    setting("--prompts", [](RunSettings& s) -> int& { return s.evolution.prompts; }, "m, prompts per round");
    setting("--samples", [](RunSettings& s) -> int& { return s.evolution.samples; }, "n, samples per prompt");
    setting("--parents", [](RunSettings& s) -> int& { return s.evolution.parents; }, "k, parents per prompt");
    setting("--survivors", [](RunSettings& s) -> int& { return s.evolution.survivors; }, "p, parents kept per round");
    setting("--alpha", [](RunSettings& s) -> double& { return s.evolution.alpha; }, "Keep children with val error < alpha");
    setting("--temperatures", [](RunSettings& s) -> std::vector<double>& { return s.evolution.temperatures; },
            "Sampling temperatures, one drawn per sample");
    setting("--mode", [](RunSettings& s) -> std::string& { return s.mode; },
            "evoprompting, naive, no-tune or random-parents");
    setting("--seed", [](RunSettings& s) -> std::uint64_t& { return s.evolution.seed; }, "Search seed");
    cmd_->add_flag("--repair", repair_flag_, "Send a child that fails to compile back once with its errors (beyond the paper)");
    setting("--max-tokens", [](RunSettings& s) -> int& { return s.evolution.max_tokens; }, "Max new tokens per sample");
    setting("--steps", common(&Mnist1dEvaluatorOptions::steps, &ClrsEvaluatorOptions::steps),
            "Training steps per child");
    setting("--eval-every", common(&Mnist1dEvaluatorOptions::eval_every, &ClrsEvaluatorOptions::eval_every),
            "Validate every N steps");
    setting("--train-seed", common(&Mnist1dEvaluatorOptions::seed, &ClrsEvaluatorOptions::seed),
            "Init and data-order seed");
    setting("--data", [](RunSettings& s) -> std::string& { return s.train.data_dir; }, "MNIST-1D folder",
            Scope::mnist1d);
    setting("--hidden", [](RunSettings& s) -> std::int64_t& { return s.clrs.hidden; },
            "CLRS: Triplet-GMPNN width h (128)", Scope::clrs);
    setting("--nb-triplet-fts", [](RunSettings& s) -> std::int64_t& { return s.clrs.nb_triplet_fts; },
            "CLRS: triplet feature width (8)", Scope::clrs);
    setting("--test-samples", [](RunSettings& s) -> std::int64_t& { return s.clrs.test_samples; },
            "CLRS: the first samples of the n=64 test split scored per child (-1: all)", Scope::clrs);
    setting("--val-size", [](RunSettings& s) -> std::int64_t& { return s.train.val_size; },
            "Training rows held out for validation");
    setting("--batch-size", common(&Mnist1dEvaluatorOptions::batch_size, &ClrsEvaluatorOptions::batch_size),
            "Minibatch size");
    setting("--lr", common(&Mnist1dEvaluatorOptions::lr, &ClrsEvaluatorOptions::lr),
            "Learning rate (MNIST-1D: AdamW; CLRS: Adam)");
    setting("--device", common(&Mnist1dEvaluatorOptions::device, &ClrsEvaluatorOptions::device),
            "auto, cpu, cuda or cuda:N");
    setting("--threads", common(&Mnist1dEvaluatorOptions::threads, &ClrsEvaluatorOptions::threads),
            "libtorch CPU threads per worker (0: the rule: 1 on CPU, the cores split over workers with GPUs)");
    setting("--workers", [](RunSettings& s) -> int& { return s.workers; },
            "Worker processes (0: one per GPU, else one per core)");
    setting("--compile-timeout-s", [](RunSettings& s) -> double& { return s.limits.compile_timeout_s; },
            "Per-child compile time limit (verdict timeout)");
    setting("--train-timeout-s", [](RunSettings& s) -> double& { return s.limits.train_timeout_s; },
            "Per-child training time limit (verdict timeout)");
    setting("--mem-limit-mb", [](RunSettings& s) -> std::int64_t& { return s.limits.mem_limit_mb; },
            "Per-worker resident memory limit (verdict oom; 0: 3/4 of RAM over the workers, 1-16 GiB)");
    cmd_->add_flag("--in-process", in_process_flag_, "Evaluate in this process, without workers (no isolation; for debugging)");
    cmd_->callback([this] { run(); });
  }

 private:
  // Which tasks a setting belongs to.
  enum class Scope { any, mnist1d, clrs };

  // A flag that overrides the preset and the config file when given. CLI11
  // parses into given_, whose task is always mnist1d.
  template <class Get>
  void setting(const std::string& flag, Get get, const std::string& help, Scope scope = Scope::any) {
    CLI::Option* opt = cmd_->add_option(flag, get(given_), help);
    overrides_.push_back([opt, get, scope, flag, this](RunSettings& s) {
      if (opt->count() == 0) return false;
      if (scope == Scope::mnist1d && s.is_clrs()) throw UsageError(flag + " is a setting of task mnist1d, not " + s.task);
      if (scope == Scope::clrs && !s.is_clrs())
        throw UsageError(flag + " is a setting of the clrs:ALGORITHM tasks, not " + s.task);
      get(s) = get(given_);
      return true;
    });
  }


  RunSettings resolve() {
    RunSettings s;
    try {
      const auto options = task_options(task_);
      s.task = task_name(options);
      if (const auto* c = std::get_if<ClrsEvaluatorOptions>(&options)) s.clrs.algorithm = c->algorithm;
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    apply_preset(preset_, s);
    if (!config_file_.empty()) apply_toml(config_file_, s);
    for (auto& apply : overrides_) apply(s);
    if (repair_flag_) s.evolution.repair = true;
    if (in_process_flag_) s.in_process = true;
    if (s.workers < 0) throw UsageError("--workers must be >= 0");
    if (s.limits.compile_timeout_s <= 0 || s.limits.train_timeout_s <= 0) throw UsageError("timeouts must be > 0");
    if (s.limits.mem_limit_mb < 0) throw UsageError("--mem-limit-mb must be >= 0");
    try {
      s.evolution.mode = engine::parse_mode(s.mode);
      s.evolution.validate();
      if (s.is_clrs()) validate(s.clrs);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    return s;
  }

  void run() {
    RunSettings s;
    std::unique_ptr<engine::Journal> journal;
    std::optional<engine::RunLock> driver;  // this process is the run's one driver while it holds this
    auto take_run = [&] {
      try {
        driver.emplace(engine::RunLock::acquire(run_dir_));
      } catch (const engine::RunLocked& e) {
        throw UsageError(e.what());
      }
    };
    if (resume_) {
      bool overridden = false;
      RunSettings scratch;
      for (auto& apply : overrides_) {
        try {
          overridden |= apply(scratch);
        } catch (const UsageError&) {
          overridden = true;  // a flag of another task: given all the same
        }
      }
      if (overridden || repair_flag_ || in_process_flag_ || !config_file_.empty() || cmd_->count("--preset") ||
          task_option_->count())
        throw UsageError("--resume continues with the run's stored settings; give only --run (and --json)");
      if (!std::filesystem::is_regular_file(engine::Journal::path_in(run_dir_)))
        throw UsageError(run_dir_ + ": no run journal here (" + engine::Journal::path_in(run_dir_) + ")");
      take_run();
      try {
        journal = std::make_unique<engine::Journal>(engine::Journal::open(run_dir_));
      } catch (const std::runtime_error& e) {
        throw UsageError(e.what());
      }
      auto stored = [&](const char* key) {
        const auto value = journal->meta(key);
        if (!value) throw std::runtime_error(run_dir_ + ": the journal lacks its '" + key + "' settings");
        return json::parse(*value);
      };
      s.task = journal->meta("task").value_or("mnist1d");
      s.evolution = engine::evolution_config_from_json(stored("evolution"));
      const EvaluatorOptions train = worker::evaluator_options_from(s.task, stored("train"));
      if (const auto* c = std::get_if<ClrsEvaluatorOptions>(&train))
        s.clrs = *c;
      else
        s.train = std::get<Mnist1dEvaluatorOptions>(train);
      s.lm = lm_from(stored("lm"));
      workers_from(stored("workers"), s);
      if (journal->meta("status") == std::optional<std::string>("finished")) {
        std::fprintf(stderr, "evoprompt: %s already finished\n", run_dir_.c_str());
        if (!json_) print_summary(engine::summarize(*journal));
        return;
      }
    } else {
      s = resolve();
      try {
        engine::RunLock::check_free(run_dir_);
      } catch (const engine::RunLocked& e) {
        throw UsageError(e.what());
      }
      if (std::filesystem::exists(engine::Journal::path_in(run_dir_)))
        throw UsageError(run_dir_ + " already holds a run (use --resume, or another --run)");
    }

    // Everything that can reject the settings runs before the journal exists.
    // An embedded LM loads after the workers have started: they are forked,
    // and nothing may fork once this process has a CUDA context.
    std::unique_ptr<codegen::LanguageModel> lm;
    std::unique_ptr<Evaluator> evaluator;
    const bool local_lm = s.lm.spec.rfind("local:", 0) == 0;
    try {
      if (!local_lm) lm = codegen::make_language_model(s.lm);
    } catch (const std::exception& e) {
      throw UsageError(e.what());
    }
    WorkerPool* pool = nullptr;
    try {
      if (s.in_process) {
        evaluator = make_evaluator(s.evaluator());
      } else {
        WorkerPoolOptions o;
        o.workers = s.workers;
        o.evaluator = s.evaluator();
        o.limits = s.limits;
        if (!s.lm.api_key_env.empty()) o.secret_variables.push_back(s.lm.api_key_env);
        auto p = std::make_unique<WorkerPool>(o);
        pool = p.get();
        evaluator = std::move(p);
      }
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (local_lm) {
      const std::string dir = s.lm.spec.substr(6);
      if (dir.empty()) throw UsageError("--lm local:DIR needs a model folder");
      // The soft prompt is part of the model from the first prompt on (16
      // embeddings of random vocabulary tokens), as in prompt-tuning; the
      // modes that never tune sample from the plain LM.
      codegen::lm::LocalLmOptions local;
      const bool tunes = s.evolution.mode == engine::Mode::evoprompting || s.evolution.mode == engine::Mode::random_parents;
      local.soft_prompt_tokens = tunes ? s.lm.soft_prompt_tokens : 0;
      local.tune_epochs = s.lm.tune_epochs;
      local.tune_batch = s.lm.tune_batch;
      local.tune_lr = s.lm.tune_lr;
      local.seed = s.evolution.seed;
      local.prefix_before_tuning = true;
      try {
        lm = codegen::lm::make_local_language_model(dir, local);
      } catch (const std::exception& e) {
        const std::string message = e.what();
        throw UsageError("--lm " + s.lm.spec + ": " + message.substr(0, message.find('\n')));
      }
    }
    if (!journal) {
      take_run();
      journal = std::make_unique<engine::Journal>(engine::Journal::create(
          run_dir_, {{"task", s.task},
                     {"evolution", engine::to_json(s.evolution).dump()},
                     {"train", options_json(s.evaluator()).dump()},
                     {"evaluator", evaluator->describe()},
                     {"lm", lm_json(s.lm).dump()},
                     {"workers", workers_json(s).dump()},
                     {"versions", versions_json()},
                     {"status", "running"}}));
    }
    journal->set_meta("status", "running");
    if (pool) {
      auto record = [j = journal.get()](const WorkerState& w) {
        j->record_worker({w.slot, w.pid, w.state, w.children, w.restarts, w.last_exit});
      };
      for (const auto& w : pool->states()) record(w);
      pool->on_state_change(record);
    }

    Progress progress(json_);
    SignalGuard signals;
    g_stop = false;
    engine::Evolution evolution(s.evolution, *journal, *lm, *evaluator, s.is_clrs() ? seeds_.clrs : seeds_.mnist1d,
                                [&](const std::string& type, const json& d) { progress(type, d); }, &g_stop);
    evolution.keep_lm_state_in(run_dir_);
    try {
      evolution.run();
    } catch (const engine::Interrupted&) {
      journal->set_meta("status", "interrupted");
      std::fprintf(stderr, "\nevoprompt: interrupted; continue with: evoprompt evolve --run %s --resume\n",
                   run_dir_.c_str());
      *exit_code_ = kInterrupted;
      return;
    } catch (const std::exception& e) {
      journal->set_meta("status", "stopped");
      throw std::runtime_error(std::string(e.what()) + " (the journal is consistent: evolve --run " + run_dir_ +
                               " --resume continues)");
    }
    journal->set_meta("status", "finished");
    const engine::RunSummary summary = engine::summarize(*journal);
    if (json_)
      std::cout << json{{"event", "summary"}, {"summary", summary_json(summary)}}.dump() << std::endl;
    else
      print_summary(summary);
  }

  int* exit_code_;
  TaskSeeds seeds_;
  CLI::App* cmd_ = nullptr;
  std::string task_ = "mnist1d";
  CLI::Option* task_option_ = nullptr;
  std::string run_dir_;
  std::string preset_ = "quick";
  std::string config_file_;
  bool resume_ = false;
  bool json_ = false;
  bool repair_flag_ = false;
  bool in_process_flag_ = false;
  RunSettings given_;
  std::vector<std::function<bool(RunSettings&)>> overrides_;
};

// --- show and dump -----------------------------------------------------------

engine::Journal open_run(const std::string& dir) {
  try {
    return engine::Journal::open(dir);
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
}

void add_show(CLI::App& app) {
  struct Show {
    std::string dir;
    bool json = false;
  };
  auto state = std::make_shared<Show>();
  auto* cmd = app.add_subcommand("show", "Summarise a run: budget used, verdict counts, the top-p table");
  cmd->add_option("dir", state->dir, "Run folder")->required();
  cmd->add_flag("--json", state->json, "Print one JSON object");
  cmd->callback([state] {
    const engine::Journal journal = open_run(state->dir);
    const auto summary = engine::summarize(journal);
    if (state->json)
      std::cout << summary_json(summary).dump() << std::endl;
    else
      print_summary(summary);
  });
}

std::string dumped_file(const engine::ChildRecord& c, const std::string& run_dir) {
  std::string text;
  if (c.verdict == "evaluated" || c.verdict == "filtered_alpha")
    text += codegen::metrics_block({c.params_used, c.val_acc});
  char line[512];
  std::snprintf(line, sizeof line, "// evoprompt run %s, child %s (id %lld): %s%s%s", run_dir.c_str(), c.name.c_str(),
                static_cast<long long>(c.id), c.verdict.c_str(), c.rule.empty() ? "" : " ", c.rule.c_str());
  text += line;
  if (c.verdict == "evaluated" || c.verdict == "filtered_alpha")
    text += ", fitness " + fmt("%.1f", c.fitness) + ", test acc " + fmt("%.4f", c.test_acc);
  text += "\n" + c.source;
  if (!text.empty() && text.back() != '\n') text += "\n";
  return text;
}

void add_dump(CLI::App& app) {
  struct Dump {
    std::string dir, out;
    int top = 0;
    bool all = false;
  };
  auto state = std::make_shared<Dump>();
  auto* cmd = app.add_subcommand("dump", "Write children of a run as standalone .cpp files with their metrics");
  cmd->add_option("dir", state->dir, "Run folder")->required();
  cmd->add_option("--out", state->out, "Output folder (created if missing)")->required();
  auto* top = cmd->add_option("--top", state->top, "The K fittest children (default: the run's p)");
  cmd->add_flag("--all", state->all, "Every child and seed, whatever its verdict")->excludes(top);
  cmd->callback([state] {
    const engine::Journal journal = open_run(state->dir);
    std::vector<engine::ChildRecord> chosen;
    if (state->all) {
      chosen = journal.children();
    } else {
      std::size_t k = static_cast<std::size_t>(state->top);
      if (k == 0) k = engine::evolution_config_from_json(json::parse(journal.meta("evolution").value())).survivors;
      if (state->top < 0) throw UsageError("--top must be >= 1");
      chosen = engine::ranked_archive(journal);
      if (chosen.size() > k) chosen.resize(k);
    }
    std::error_code ec;
    std::filesystem::create_directories(state->out, ec);
    if (ec) throw std::runtime_error("cannot create " + state->out + ": " + ec.message());
    int rank = 0;
    for (const auto& c : chosen) {
      ++rank;
      char prefix[16];
      std::snprintf(prefix, sizeof prefix, "%03d_", rank);
      const std::string name = (state->all ? std::string() : std::string(prefix)) + c.name + ".cpp";
      const std::string path = state->out + "/" + name;
      const std::string tmp = path + ".tmp";
      {
        std::ofstream f(tmp, std::ios::binary);
        f << dumped_file(c, state->dir);
        if (!f.flush()) throw std::runtime_error("cannot write " + tmp);
      }
      std::filesystem::rename(tmp, path);
    }
    std::printf("wrote %zu children to %s\n", chosen.size(), state->out.c_str());
  });
}

}  // namespace

void add_run_commands(CLI::App& app, int* exit_code, TaskSeeds seeds) {
  // CLI11 keeps pointers into the command object: it lives as long as the program.
  static EvolveCommand evolve(exit_code, std::move(seeds));
  evolve.add_to(app);
  add_show(app);
  add_dump(app);
}

bool is_run_child(const std::string& target) {
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || std::filesystem::exists(target)) return false;
  return std::filesystem::is_regular_file(engine::Journal::path_in(target.substr(0, colon)));
}

void LimitFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--compile-timeout-s", values.compile_timeout_s, "Compile time limit (verdict timeout)")
      ->capture_default_str();
  cmd->add_option("--train-timeout-s", values.train_timeout_s, "Training time limit (verdict timeout)")
      ->capture_default_str();
  cmd->add_option("--mem-limit-mb", values.mem_limit_mb, "Resident memory limit (verdict oom; 0: automatic)")
      ->capture_default_str();
}

int replay_run_child(const std::string& target, bool as_json, const LimitFlags& limits) {
  const auto colon = target.rfind(':');
  const std::string dir = target.substr(0, colon), which = target.substr(colon + 1);
  const engine::Journal journal = open_run(dir);
  auto child = journal.child_by_name(which);
  if (!child && !which.empty() && which.find_first_not_of("0123456789") == std::string::npos)
    child = journal.child(std::stoll(which));
  if (!child) throw UsageError(dir + " has no child '" + which + "' (names as in `evoprompt show`, or ids)");
  WorkerPoolOptions o;
  o.workers = 1;
  o.evaluator = worker::evaluator_options_from(journal.meta("task").value_or("mnist1d"),
                                               json::parse(journal.meta("train").value()));
  o.limits = limits.limits();
  WorkerPool worker(o);
  const ChildResult now = worker.evaluate(child->source, child->name);
  const double fitness_now = now.evaluated() ? engine::fitness(now.params_used, now.best_val_acc) : 0.0;
  if (as_json) {
    std::cout << json{{"child", child->name},
                      {"stored", {{"verdict", child->verdict}, {"params_used", child->params_used},
                                  {"val_acc", child->val_acc}, {"test_acc", child->test_acc},
                                  {"fitness", child->fitness}, {"train_ms", child->train_ms}}},
                      {"new", {{"verdict", now.verdict}, {"rule", now.rule}, {"message", now.message},
                               {"params_used", now.params_used}, {"val_acc", now.best_val_acc},
                               {"test_acc", now.test_acc}, {"fitness", fitness_now}, {"train_ms", now.train_ms}}}}
                     .dump()
              << std::endl;
  } else {
    std::printf("child %s (id %lld) of %s\n%-10s %16s %16s\n", child->name.c_str(), static_cast<long long>(child->id),
                dir.c_str(), "", "stored", "new");
    std::printf("%-10s %16s %16s\n", "verdict", child->verdict.c_str(), now.verdict.c_str());
    std::printf("%-10s %16lld %16lld\n", "params", static_cast<long long>(child->params_used),
                static_cast<long long>(now.params_used));
    std::printf("%-10s %16.4f %16.4f\n", "val_acc", child->val_acc, now.best_val_acc);
    std::printf("%-10s %16.4f %16.4f\n", "test_acc", child->test_acc, now.test_acc);
    std::printf("%-10s %16.1f %16.1f\n", "fitness", child->fitness, fitness_now);
    std::printf("%-10s %16.0f %16.0f\n", "train_ms", child->train_ms, now.train_ms);
    if (!now.evaluated()) std::printf("message: %s\n", now.message.c_str());
  }
  return now.evaluated() ? 0 : 1;
}

}  // namespace evoprompt::cli
