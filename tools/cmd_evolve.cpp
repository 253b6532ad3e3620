// evoprompt evolve --run DIR: flags, a preset and a config file into
// RunSettings (engine/run_settings.hpp), then an engine::Run.
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <unistd.h>

#include "cli.hpp"
#include "commands.hpp"
#include "run.hpp"
#include "run_report.hpp"

namespace evoprompt::cli {
namespace {

using nlohmann::json;

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

class EvolveCommand {
 public:
  EvolveCommand(int* exit_code, MpiJob* job) : exit_code_(exit_code), job_(job) {}

  void add_to(CLI::App& app) {
    cmd_ = app.add_subcommand("evolve", "Run EvoPrompting: evolve child architectures with an LM operator");
    cmd_->add_option("--run", run_dir_, "Run folder (journal, dumps)")->required();
    cmd_->add_option("--preset", preset_, "quick (minutes on a CPU) or paper (the paper's full setting)")
        ->capture_default_str();
    cmd_->add_option("--config", config_file_, "TOML file with [evolution], [train], [lm] and [workers] tables");
    cmd_->add_flag("--resume", resume_, "Continue the interrupted run in --run with its stored settings");
    cmd_->add_flag("--json", json_, "Print one JSON event per line instead of the progress display");
    cmd_->add_option("--reeval", reeval_,
                     "After the search, re-train the top p with K more training seeds and rank them by mean fitness "
                     "(off: the paper's single run)")
        ->check(CLI::PositiveNumber);
    task_flags_.add_to(cmd_, "mnist1d");
    setting("--lm", "lm", "spec", given_.lm.spec,
            "mutate (default; a code-level operator, NOT a language model), replay:FILE, openai:URL (an LM server: "
            "the paper's no-tuning arm) or local:DIR (an embedded model, soft prompt-tuned between rounds)");
    setting("--model", "lm", "model", given_.lm.model, "Model name for openai:URL (checked before the run starts)");
    setting("--api", "lm", "api", given_.lm.api, "completions or chat (openai:URL)");
    setting("--api-key-env", "lm", "api_key_env", given_.lm.api_key_env, "Environment variable holding the API key");
    setting("--lm-timeout-s", "lm", "timeout_s", given_.lm.timeout_s, "Timeout per LM request");
    setting("--lm-retries", "lm", "max_retries", given_.lm.max_retries, "Retries per LM request");
    setting("--max-requests", "lm", "max_requests", given_.lm.max_requests, "Cap on LM requests (0: none)");
    setting("--lm-concurrency", "lm", "concurrency", given_.lm.concurrency,
            "LM requests in flight at once, overlapping the evaluation of the round's children");
    setting("--lm-gpu-memory", "lm", "gpu_memory", given_.lm.gpu_memory,
            "local:DIR on a GPU: the embedded LM's share of cuda:0; the workers on it split the rest of 0.9");
    setting("--max-lm-tokens", "lm", "max_total_tokens", given_.lm.max_total_tokens, "Cap on LM tokens (0: none)");
    setting("--soft-prompt-tokens", "lm", "soft_prompt_tokens", given_.lm.soft_prompt_tokens,
            "local:DIR: trainable prompt vectors (the paper: 16)");
    setting("--tune-epochs", "lm", "tune_epochs", given_.lm.tune_epochs, "local:DIR: prompt-tuning epochs");
    setting("--tune-batch", "lm", "tune_batch", given_.lm.tune_batch, "local:DIR: prompt-tuning batch size");
    setting("--tune-lr", "lm", "tune_lr", given_.lm.tune_lr, "local:DIR: prompt-tuning learning rate");
    auto& e = given_.evolution;
    setting("--rounds", "evolution", "rounds", e.rounds, "T, rounds of evolution");
    setting("--prompts", "evolution", "prompts", e.prompts, "m, prompts per round");
    setting("--samples", "evolution", "samples", e.samples, "n, samples per prompt");
    setting("--parents", "evolution", "parents", e.parents, "k, parents per prompt");
    setting("--survivors", "evolution", "survivors", e.survivors, "p, parents kept per round");
    setting("--alpha", "evolution", "alpha", e.alpha, "Keep children with val error < alpha");
    setting("--temperatures", "evolution", "temperatures", e.temperatures, "Sampling temperatures, one drawn per sample");
    setting("--mode", "evolution", "mode", mode_, "evoprompting, naive, no-tune or random-parents");
    setting("--seed", "evolution", "seed", e.seed, "Search seed");
    setting("--max-tokens", "evolution", "max_tokens", e.max_tokens, "Max new tokens per sample");
    setting("--rounds-in-flight", "evolution", "rounds_in_flight", e.rounds_in_flight,
            "N rounds at once: round t's parents are the top after round t-N (1: the paper; beyond it, "
            "N > 1 keeps many workers busy across the round barrier)");
    flag("--repair", "evolution", "repair", "Send a child that fails to compile back once with its errors (beyond the paper)");
    auto& w = given_.workers;
    setting("--workers", "workers", "workers", w.workers,
            "Worker processes (0: --workers-per-gpu per GPU, else one per core)");
    setting("--workers-per-gpu", "workers", "workers_per_gpu", w.workers_per_gpu,
            "Workers per visible GPU when --workers is 0 (small children share a GPU)");
    setting("--compile-timeout-s", "workers", "compile_timeout_s", w.limits.compile_timeout_s,
            "Per-child compile time limit (verdict timeout)");
    setting("--train-timeout-s", "workers", "train_timeout_s", w.limits.train_timeout_s,
            "Per-child training time limit (verdict timeout)");
    setting("--mem-limit-mb", "workers", "mem_limit_mb", w.limits.mem_limit_mb,
            "Per-worker resident memory limit (verdict oom; 0: 3/4 of RAM over the workers, 1-16 GiB)");
    flag("--in-process", "workers", "in_process", "Evaluate in this process, without workers (no isolation; for debugging)");
    cmd_->callback([this] { run(); });
  }

 private:
  // A flag that, when given, sets `table.key` over the preset and the config file.
  template <class T>
  void setting(const std::string& flag, const std::string& table, const std::string& key, T& storage,
               const std::string& help) {
    CLI::Option* opt = cmd_->add_option(flag, storage, help);
    layer_.push_back([opt, table, key, &storage](json& tables) {
      if (opt->count()) tables[table][key] = storage;
    });
    options_.push_back(opt);
  }
  void flag(const std::string& name, const std::string& table, const std::string& key, const std::string& help) {
    CLI::Option* opt = cmd_->add_flag(name, help);
    layer_.push_back([opt, table, key](json& tables) {
      if (opt->count()) tables[table][key] = true;
    });
    options_.push_back(opt);
  }

  bool any_setting_given() const {
    for (const auto* o : options_)
      if (o->count()) return true;
    return task_flags_.any_given() || task_flags_.task_option()->count() || cmd_->count("--preset") ||
           !config_file_.empty();
  }

  engine::RunSettings resolve() const {
    std::vector<json> layers;
    std::vector<std::string> origins;
    if (!config_file_.empty()) {
      layers.push_back(as_usage([&] { return engine::read_config_file(config_file_); }));
      origins.push_back(config_file_);
    }
    json flags = json::object();
    for (const auto& apply : layer_) apply(flags);
    return as_usage([&] {
      // The task flags are checked against the task's own fields first, so
      // that a flag of another task is named as the flag it is.
      flags["train"] = task_flags_.given(tasks::find_task(task_flags_.task()));
      layers.push_back(flags);
      origins.push_back("");
      return engine::resolve_run_settings(task_flags_.task(), preset_, layers, origins);
    });
  }

  void run() {
    std::optional<engine::Run> run;
    try {
      if (resume_) {
        if (any_setting_given())
          throw UsageError("--resume continues with the run's stored settings; give only --run (and --json)");
        run.emplace(as_usage([&] { return engine::Run::resume(run_dir_, job_); }));
        if (run->finished()) {
          std::fprintf(stderr, "evoprompt: %s already finished\n", run_dir_.c_str());
          finish(*run);
          return;
        }
      } else {
        run.emplace(as_usage([&] { return engine::Run::start(run_dir_, resolve(), job_); }));
      }
    } catch (const engine::RunLocked& e) {
      throw UsageError(e.what());
    } catch (const codegen::LanguageModelError& e) {
      throw UsageError(e.what());
    }
    const auto& s = run->settings();
    if (!json_) std::fprintf(stderr, "%s\n", lm_line(s.lm.spec, to_string(s.evolution.mode)).c_str());
    Progress progress(json_);
    SignalGuard signals;
    g_stop = false;
    engine::RunEnd end;
    try {
      end = run->run([&](const std::string& type, const json& d) { progress(type, d); }, &g_stop);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(e.what()) + " (the journal is consistent: evolve --run " + run_dir_ +
                               " --resume continues)");
    }
    if (end == engine::RunEnd::interrupted) {
      std::fprintf(stderr, "\nevoprompt: interrupted; continue with: evoprompt evolve --run %s --resume\n",
                   run_dir_.c_str());
      *exit_code_ = kInterrupted;
      return;
    }
    finish(*run);
  }

  // The --reeval re-trainings, if asked for, then the summary.
  void finish(engine::Run& run) {
    if (reeval_ > 0) reevaluate(run, reeval_, json_);
    const engine::RunSummary summary = run.summary();
    if (json_)
      std::cout << json{{"event", "summary"}, {"summary", summary_json(summary)}}.dump() << std::endl;
    else
      print_summary(summary);
  }

  int* exit_code_;
  MpiJob* job_;
  CLI::App* cmd_ = nullptr;
  TaskFlags task_flags_;
  std::string run_dir_;
  std::string preset_ = "quick";
  std::string config_file_;
  bool resume_ = false;
  bool json_ = false;
  int reeval_ = 0;
  engine::RunSettings given_;  // CLI11 parses the non-task settings here
  std::string mode_ = "evoprompting";
  std::vector<std::function<void(json&)>> layer_;
  std::vector<CLI::Option*> options_;
};

}  // namespace

void add_evolve_command(CLI::App& app, int* exit_code, MpiJob* job) {
  // CLI11 keeps pointers into the command object: it lives as long as the program.
  static EvolveCommand evolve(exit_code, job);
  evolve.add_to(app);
}

}  // namespace evoprompt::cli
