// evoprompt seeds --task TASK: train a task's seed programs. MNIST-1D's four
// train here, in turn (by the JIT, or --aot as compiled into the binary);
// CLRS's fourteen triplet functions, and any other task's seeds, train in
// supervised workers.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "child_jit.hpp"
#include "clrs_commands.hpp"
#include "cli.hpp"
#include "commands.hpp"
#include "jit_model.hpp"
#include "population.hpp"
#include "seeds.hpp"
#include "worker_pool.hpp"
#include "tasks/mnist1d/mnist1d_training.hpp"

namespace evoprompt::cli {
namespace {

struct SeedsCommand {
  std::vector<std::string> only;
  TaskFlags task;
  LimitFlags limits;
  int workers = 0;
  bool aot = false;
  bool json = false;
  int* exit_code;

  explicit SeedsCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("seeds", "Train the seed models (or triplet functions) of a task");
    task.add_to(cmd, "");
    task.task_option()->required();
    cmd->add_option("--only", only, "Train only these (the task's seed names, e.g. cnn, or v1)");
    cmd->add_option("--workers", workers, "Worker processes, except for mnist1d (0: one per core, or per GPU)");
    limits.values.train_timeout_s = 7 * 24 * 3600.0;
    limits.add_to(cmd);
    cmd->add_flag("--aot", aot, "mnist1d: use the seeds compiled into the binary instead of the JIT");
    cmd->add_flag("--json", json, "One JSON object per seed and line");
    cmd->callback([this] { run(); });
  }

  std::vector<tasks::SeedSource> chosen(const tasks::TaskConfig& config) const {
    const auto seeds = as_usage([&] { return config.task->seeds(config.options); });
    std::vector<tasks::SeedSource> out;
    for (const auto& name : only) {
      auto s = std::find_if(seeds.begin(), seeds.end(), [&](const tasks::SeedSource& x) { return x.name == name; });
      if (s == seeds.end()) {
        std::string names;
        for (const auto& x : seeds) names += (names.empty() ? "" : ", ") + x.name;
        throw UsageError("unknown seed '" + name + "' (available: " + names + ")");
      }
      out.push_back(*s);
    }
    if (out.empty()) out = seeds;
    return out;
  }

  void run() {
    const tasks::TaskConfig config = task.resolve(task.task());
    const auto programs = chosen(config);
    if (config.task->contract().record == "Triplet") {
      if (aot) throw UsageError("--aot is for task mnist1d");
      std::vector<engine::SeedProgram> list;
      for (const auto& s : programs) list.push_back({s.name, s.source});
      ClrsRunFlags run;
      run.options = tasks::clrs_option_table().from_json(config.options);
      run.limits = limits.values;
      run.workers = workers;
      run.json = json;
      *exit_code = run_clrs_seeds(list, run);
      return;
    }
    // MNIST-1D trains here: --aot, and the fields the Python parity test reads.
    if (config.name == "mnist1d") {
      run_mnist1d(tasks::mnist1d_option_table().from_json(config.options), programs);
      return;
    }
    if (aot) throw UsageError("--aot is for task mnist1d");
    *exit_code = run_in_workers(config, programs);
  }

  int run_in_workers(const tasks::TaskConfig& config, const std::vector<tasks::SeedSource>& programs) {
    WorkerPoolOptions o;
    o.workers = std::max(1, std::min<int>(workers > 0 ? workers : 1, static_cast<int>(programs.size())));
    o.task = config;
    o.limits = limits.values;
    WorkerPool pool(o);
    std::vector<EvaluationJob> jobs;
    for (const auto& s : programs) jobs.push_back({s.source, s.file});
    std::vector<ChildResult> results(jobs.size());
    pool.evaluate_many(jobs, [&](std::size_t i, const ChildResult& r) { results[i] = r; });
    if (!json)
      std::printf("%-16s %-14s %11s %12s %12s %9s %9s %10s\n", "seed", "verdict", "params_used", "params_total",
                  "best_val_acc", "test_acc", "fitness", "compile_ms");
    int code = 0;
    for (std::size_t i = 0; i < programs.size(); ++i) {
      const ChildResult& r = results[i];
      const double fitness = r.evaluated() ? engine::fitness(r.params_used, r.best_val_acc) : 0.0;
      if (!r.evaluated()) code = kRejected;
      if (json) {
        nlohmann::json row = {{"name", programs[i].name}, {"file", programs[i].file}, {"verdict", to_string(r.verdict)},
                              {"params_used", r.params_used}, {"params_total", r.params_total},
                              {"best_val_acc", r.best_val_acc}, {"best_step", r.best_step}, {"test_acc", r.test_acc},
                              {"fitness", fitness}, {"steps", r.steps}, {"steps_per_s", r.steps_per_s},
                              {"compile_ms", r.compile_ms}, {"train_ms", r.train_ms}, {"step_path", r.step_path}};
        if (!r.evaluated()) row.update({{"rule", r.rule}, {"message", r.message}});
        std::cout << row.dump() << std::endl;
      } else {
        std::printf("%-16s %-14s %11lld %12lld %12.4f %9.4f %9.1f %10.0f\n", programs[i].name.c_str(),
                    to_string(r.verdict), static_cast<long long>(r.params_used),
                    static_cast<long long>(r.params_total), r.best_val_acc, r.test_acc, fitness, r.compile_ms);
        if (!r.evaluated()) std::printf("  %s: %s\n", programs[i].file.c_str(), r.message.c_str());
      }
    }
    return code;
  }

  void run_mnist1d(const Mnist1dEvaluatorOptions& o, const std::vector<tasks::SeedSource>& programs) {
    const TrainOptions train = as_usage([&] { return mnist1d_train_options(o); });
    if (o.threads > 0) torch::set_num_threads(o.threads);
    const auto data = as_usage([&] { return mnist1d_data(o, train.device); });
    std::unique_ptr<jit::ChildJit> jit;
    if (!aot) jit = std::make_unique<jit::ChildJit>(torch_jit_options());
    if (!json)
      std::printf("%-13s %11s %12s %12s %9s %9s %8s %10s\n", "seed", "params_used", "params_total", "best_val_acc",
                  "test_acc", "steps/s", "wall_s", "compile_ms");
    for (const auto& program : programs) {
      const tasks::SeedSource* seed = &program;
      ModelFactory factory;
      double compile_ms = 0.0;
      if (jit) {
        auto model = compile_model(*jit, seed->source, seed->file);
        if (!model.verdict.accepted()) throw std::runtime_error("seed " + seed->name + ": " + model.verdict.message);
        factory = model.factory;
        compile_ms = model.compile_ms;
      } else {
        for (const auto& s : mnist1d_seeds())
          if (s.name == seed->name) factory = s.factory;
      }
      const auto r = train_classifier(factory, data, train);
      if (json) {
        const nlohmann::json row = {
            {"name", seed->name},          {"params_used", r.params.used},
            {"params_total", r.params.total}, {"best_val_acc", r.best_val_acc},
            {"best_step", r.best_step},    {"test_acc", r.test_acc},
            {"final_train_loss", r.final_train_loss}, {"steps", r.steps},
            {"steps_per_s", r.steps_per_s()}, {"wall_s", r.wall_s},
            {"compile_ms", compile_ms},    {"path", jit ? "jit" : "aot"},
            {"device", train.device.str()}, {"step_path", r.step_path},
        };
        std::cout << row.dump() << std::endl;
      } else {
        std::printf("%-13s %11lld %12lld %12.4f %9.4f %9.1f %8.1f %10.0f\n", seed->name.c_str(),
                    static_cast<long long>(r.params.used), static_cast<long long>(r.params.total), r.best_val_acc,
                    r.test_acc, r.steps_per_s(), r.wall_s, compile_ms);
        std::fflush(stdout);
      }
    }
  }
};

}  // namespace

void add_seeds_command(CLI::App& app, int* exit_code) {
  static SeedsCommand seeds(exit_code);
  seeds.add_to(app);
}

}  // namespace evoprompt::cli
