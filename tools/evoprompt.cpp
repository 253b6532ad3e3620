// The evoprompt command line. Commands:
//   evoprompt seeds --task TASK       train the seed models (or triplet functions) of a task
//   evoprompt check FILE              the JIT's verdict on a child, without running it
//   evoprompt replay FILE             compile a child with the JIT and train it
//   evoprompt clrs eval FILE          one triplet function on CLRS-30 algorithms, OOD scores
//   evoprompt data mnist1d --out DIR  generate MNIST-1D with the native generator
//   evoprompt evolve --run DIR        run EvoPrompting (see run_commands.cpp)
//   evoprompt show DIR / dump DIR     report on a run folder
//   evoprompt replay DIR:CHILD        re-run one child of a run
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "clrs_commands.hpp"
#include "clrs_model/triplet_jit.hpp"
#include "data_clrs.hpp"
#include "jit_model.hpp"
#include "lm_commands.hpp"
#include "run_commands.hpp"
#include "worker_main.hpp"
#include "worker_pool.hpp"
#include "mnist1d.hpp"
#include "seeds.hpp"
#include "trainer.hpp"

namespace {

using namespace evoprompt;

using cli::UsageError;

// Exit code of `check` and `replay` for a rejected or failing child.
constexpr int kRejected = 1;

// "mnist1d" or "clrs:ALGORITHM"; a usage error otherwise.
EvaluatorOptions require_task(const std::string& task) {
  try {
    return task_options(task);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

bool is_clrs(const EvaluatorOptions& task) { return std::holds_alternative<ClrsEvaluatorOptions>(task); }

std::string read_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  // A folder opens as a stream too, and would read as an empty child.
  if (!in || !std::filesystem::is_regular_file(path)) throw UsageError(path + ": cannot read the child file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The training protocol's flags, shared by every command that trains. The
// defaults shown are MNIST-1D's; a CLRS task starts from its own (Ibarz et
// al.: 2000 steps during search, batch 32, Adam 1e-3, validation every 50).
struct TrainFlags {
  std::string data_dir;
  TrainOptions train;
  std::string device = "auto";
  std::string init = "flax";
  std::int64_t val_size = 500;
  std::uint32_t split_seed = 42;
  int threads = 0;
  ClrsEvaluatorOptions clrs;
  std::vector<CLI::Option*> mnist1d_only, clrs_only;
  CLI::Option *steps = nullptr, *batch = nullptr, *lr = nullptr, *eval_every = nullptr, *seed = nullptr;

  void add_to(CLI::App* cmd) {
    mnist1d_only.push_back(
        cmd->add_option("--data", data_dir, "MNIST-1D folder of .npy files (default: the canonical set)"));
    steps = cmd->add_option("--steps", train.steps, "Training steps")->capture_default_str();
    batch = cmd->add_option("--batch-size", train.batch_size, "Minibatch size")->capture_default_str();
    lr = cmd->add_option("--lr", train.adamw.lr, "Learning rate (MNIST-1D: AdamW; CLRS: Adam, 1e-3)")
             ->capture_default_str();
    mnist1d_only.push_back(
        cmd->add_option("--weight-decay", train.adamw.weight_decay, "AdamW weight decay")->capture_default_str());
    eval_every = cmd->add_option("--eval-every", train.eval_every, "Validate every N steps")->capture_default_str();
    seed = cmd->add_option("--seed", train.seed, "Seed for model init and data order (CLRS: 42)")->capture_default_str();
    mnist1d_only.push_back(
        cmd->add_option("--val-size", val_size, "Training rows held out for validation")->capture_default_str());
    mnist1d_only.push_back(
        cmd->add_option("--split-seed", split_seed, "Seed of the validation split")->capture_default_str());
    mnist1d_only.push_back(cmd->add_option("--init", init, "Parameter init: flax or torch")->capture_default_str());
    cmd->add_option("--device", device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads for libtorch (0: libtorch's default)");
    add_clrs_only(cmd);
  }

  void add_clrs_only(CLI::App* cmd) {
    clrs_only.push_back(cmd->add_option("--hidden", clrs.hidden, "CLRS: Triplet-GMPNN width h")->capture_default_str());
    clrs_only.push_back(
        cmd->add_option("--nb-triplet-fts", clrs.nb_triplet_fts, "CLRS: triplet feature width")->capture_default_str());
    clrs_only.push_back(cmd->add_option("--test-samples", clrs.test_samples,
                                        "CLRS: the first samples of the n=64 test split to score (-1: all)")
                            ->capture_default_str());
  }

  // The CLRS task's options: its defaults, then the flags given.
  ClrsEvaluatorOptions clrs_options(const std::string& algorithm, std::int64_t default_steps) const {
    for (const auto* o : mnist1d_only)
      if (o->count()) throw UsageError(o->get_name() + " is a setting of task mnist1d, not clrs:" + algorithm);
    ClrsEvaluatorOptions o = clrs;
    o.algorithm = algorithm;
    o.steps = steps->count() ? train.steps : default_steps;
    if (batch->count()) o.batch_size = train.batch_size;
    if (lr->count()) o.lr = train.adamw.lr;
    if (eval_every->count()) o.eval_every = train.eval_every;
    if (seed->count()) o.seed = train.seed;
    o.device = device;
    o.threads = threads;
    try {
      validate(o);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    return o;
  }

  void refuse_clrs_flags(const std::string& task) const {
    for (const auto* o : clrs_only)
      if (o->count()) throw UsageError(o->get_name() + " is a setting of the clrs:ALGORITHM tasks, not " + task);
  }

  // The same protocol for an evaluator in a worker process. Bad values are
  // refused here, as usage errors, before any worker starts.
  Mnist1dEvaluatorOptions evaluator_options() {
    try {
      TrainOptions check = train;
      check.init = parse_init_scheme(init);
      check.validate();
      if (device != "auto" && device != "cpu" && device.rfind("cuda", 0) != 0)
        throw std::invalid_argument("unknown device '" + device + "' (auto, cpu, cuda, cuda:N)");
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (threads < 0) throw UsageError("--threads must be >= 0");
    if (!data_dir.empty() && !std::filesystem::is_directory(data_dir))
      throw UsageError("data folder not found: " + data_dir);
    Mnist1dEvaluatorOptions o;
    o.data_dir = data_dir;
    o.steps = train.steps;
    o.batch_size = train.batch_size;
    o.lr = train.adamw.lr;
    o.weight_decay = train.adamw.weight_decay;
    o.eval_every = train.eval_every;
    o.seed = train.seed;
    o.val_size = val_size;
    o.split_seed = split_seed;
    o.init = init;
    o.device = device;
    o.threads = threads;
    return o;
  }

  // Validates the flags, then loads and splits the data onto the device.
  ClassificationData prepare() {
    try {
      train.init = parse_init_scheme(init);
      train.device = resolve_device(device);
      train.validate();
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (threads < 0) throw UsageError("--threads must be >= 0");
    if (threads > 0) torch::set_num_threads(threads);
    const Mnist1d data = load_canonical_mnist1d(data_dir);
    HoldoutSplit split;
    try {
      split = holdout_split(data.num_train(), val_size, split_seed);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--val-size: ") + e.what());
    }
    return make_classification_data(data, split, train.device);
  }
};

nlohmann::json verdict_json(const jit::Verdict& v) {
  nlohmann::json j = {{"verdict", jit::to_string(v.kind)}};
  if (!v.accepted()) {
    j["rule"] = v.rule;
    j["message"] = v.message;
    j["diagnostics"] = v.diagnostics;
  }
  return j;
}

void print_verdict_text(const jit::Verdict& v) {
  std::printf("verdict: %s\n", jit::to_string(v.kind));
  if (v.accepted()) return;
  std::printf("rule: %s\nmessage: %s\n", v.rule.c_str(), v.message.c_str());
  for (const auto& d : v.diagnostics) std::printf("  %s\n", d.c_str());
}

struct SeedsCommand {
  std::string task;
  std::vector<std::string> only;
  TrainFlags flags;
  cli::LimitFlags limits;
  int workers = 0;
  bool aot = false;
  bool json = false;
  int* exit_code;

  explicit SeedsCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("seeds", "Train the seed models (or triplet functions) of a task");
    cmd->add_option("--task", task, "Task: mnist1d, or clrs:ALGORITHM (the 14 triplet functions of the paper)")
        ->required();
    cmd->add_option("--only", only,
                    "Train only these (mnist1d: large_cnn, cnn, gru, residual_mlp; clrs: v1..v9, quadnodeminmax, "
                    "concatrep, maxmean, div2mean, tanhexpandtriplets)");
    flags.add_to(cmd);
    cmd->add_option("--workers", workers, "clrs: worker processes (0: one per core, or per GPU)");
    limits.values.train_timeout_s = 7 * 24 * 3600.0;
    limits.add_to(cmd);
    cmd->add_flag("--aot", aot, "mnist1d: use the seeds compiled into the binary instead of the JIT");
    cmd->add_flag("--json", json, "One JSON object per seed and line");
    cmd->callback([this] { run(); });
  }

  void run() {
    const auto options = require_task(task);
    if (is_clrs(options)) {
      run_clrs(std::get<ClrsEvaluatorOptions>(options).algorithm);
      return;
    }
    flags.refuse_clrs_flags(task);
    std::vector<const Seed*> chosen;
    for (const auto& name : only) {
      const Seed* found = nullptr;
      for (const auto& s : mnist1d_seeds())
        if (s.name == name) found = &s;
      if (!found) throw UsageError("unknown seed '" + name + "' (available: large_cnn, cnn, gru, residual_mlp)");
      chosen.push_back(found);
    }
    if (chosen.empty())
      for (const auto& s : mnist1d_seeds()) chosen.push_back(&s);
    const auto data = flags.prepare();
    std::unique_ptr<jit::ChildJit> jit;
    if (!aot) jit = std::make_unique<jit::ChildJit>(torch_jit_options());

    if (!json)
      std::printf("%-13s %11s %12s %12s %9s %9s %8s %10s\n", "seed", "params_used", "params_total", "best_val_acc",
                  "test_acc", "steps/s", "wall_s", "compile_ms");
    for (const Seed* seed : chosen) {
      ModelFactory factory = seed->factory;
      double compile_ms = 0.0;
      if (jit) {
        auto model = compile_model(*jit, seed->source, seed->file);
        if (!model.verdict.accepted()) throw std::runtime_error("seed " + seed->name + ": " + model.verdict.message);
        factory = model.factory;
        compile_ms = model.compile_ms;
      }
      const auto r = train_classifier(factory, data, flags.train);
      if (json) {
        const nlohmann::json row = {
            {"name", seed->name},
            {"params_used", r.params.used},
            {"params_total", r.params.total},
            {"best_val_acc", r.best_val_acc},
            {"best_step", r.best_step},
            {"test_acc", r.test_acc},
            {"final_train_loss", r.final_train_loss},
            {"steps", r.steps},
            {"steps_per_s", r.steps_per_s()},
            {"wall_s", r.wall_s},
            {"compile_ms", compile_ms},
            {"path", jit ? "jit" : "aot"},
            {"device", flags.train.device.str()},
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

  // The nine seeds and the five found functions, each in a supervised worker.
  void run_clrs(const std::string& algorithm) {
    if (aot) throw UsageError("--aot is for task mnist1d");
    std::vector<engine::SeedProgram> programs;
    for (const auto& s : clrs_seeds())
      if (only.empty() || std::find(only.begin(), only.end(), s.name) != only.end()) programs.push_back({s.name, s.source});
    for (const auto& name : only)
      if (std::none_of(clrs_seeds().begin(), clrs_seeds().end(), [&](const ClrsSeed& s) { return s.name == name; }))
        throw UsageError("unknown triplet function '" + name + "' (v1..v9, quadnodeminmax, concatrep, maxmean, "
                         "div2mean, tanhexpandtriplets)");
    cli::ClrsRunFlags run;
    run.options = flags.clrs_options(algorithm, ClrsEvaluatorOptions{}.steps);
    run.limits = limits.limits();
    run.workers = workers;
    run.json = json;
    *exit_code = cli::run_clrs_seeds(programs, run);
  }
};

// `clrs eval FILE --algos LIST`: one triplet function, trained per algorithm.
struct ClrsEvalCommand {
  std::string file;
  std::vector<std::string> algos;
  TrainFlags flags;
  cli::LimitFlags limits;
  int workers = 0;
  bool json = false;
  int* exit_code;

  explicit ClrsEvalCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* group = app.add_subcommand("clrs", "CLRS-30 tools");
    group->require_subcommand(1);
    auto* cmd = group->add_subcommand(
        "eval", "Train one triplet function on CLRS-30 algorithms and compare its OOD (n=64) scores with the baseline");
    cmd->add_option("file", file, "The triplet function's C++ source (struct Triplet)")->required();
    cmd->add_option("--algos", algos, "Algorithms, comma- or space-separated, or all")->required();
    flags.train.steps = 10000;  // the baseline protocol; the paper's search uses 2000
    auto* steps = cmd->add_option("--steps", flags.train.steps, "Training steps per algorithm")->capture_default_str();
    auto* batch = cmd->add_option("--batch-size", flags.train.batch_size, "Batch size (32)");
    auto* lr = cmd->add_option("--lr", flags.train.adamw.lr, "Adam learning rate (1e-3)");
    auto* every = cmd->add_option("--eval-every", flags.train.eval_every, "Validate every N steps (50)");
    auto* seed = cmd->add_option("--seed", flags.train.seed, "Data and init seed (42)");
    flags.steps = steps;
    flags.batch = batch;
    flags.lr = lr;
    flags.eval_every = every;
    flags.seed = seed;
    cmd->add_option("--device", flags.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", flags.threads, "CPU threads per worker (0: the worker rule)");
    flags.add_clrs_only(cmd);
    cmd->add_option("--workers", workers, "Algorithms trained at once (0: one per core, or per GPU)");
    limits.values.train_timeout_s = 7 * 24 * 3600.0;
    limits.add_to(cmd);
    cmd->add_flag("--json", json, "One JSON object per algorithm and line");
    cmd->callback([this] { run(); });
  }

  void run() {
    const auto source = read_source(file);
    const auto names = cli::parse_algorithms(algos);
    cli::ClrsRunFlags run;
    run.options = flags.clrs_options(names.front(), flags.train.steps);
    run.limits = limits.limits();
    run.workers = workers;
    run.json = json;
    *exit_code = cli::run_clrs_eval(source, std::filesystem::path(file).filename().string(), names, run);
  }
};

struct CheckCommand {
  std::string file;
  std::string task = "mnist1d";
  bool json = false;
  int* exit_code;

  explicit CheckCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("check", "Compile a child with the JIT and print its verdict, without running it");
    cmd->add_option("file", file, "The child's C++ source")->required();
    cmd->add_option("--task", task, "Task: mnist1d, or clrs:ALGORITHM (a triplet function)")->capture_default_str();
    cmd->add_flag("--json", json, "Print one JSON object");
    cmd->callback([this] { run(); });
  }

  void run() {
    const bool triplet = is_clrs(require_task(task));
    const auto source = read_source(file);
    const auto name = std::filesystem::path(file).filename().string();
    jit::ChildJit jit(torch_jit_options());
    jit::Verdict verdict;
    double compile_ms = 0.0;
    if (triplet) {
      const auto t = clrs::compile_triplet(jit, source, name);
      verdict = t.verdict;
      compile_ms = t.compile_ms;
    } else {
      const auto model = compile_model(jit, source, name);
      verdict = model.verdict;
      compile_ms = model.compile_ms;
    }
    auto out = verdict_json(verdict);
    out["compile_ms"] = compile_ms;
    if (json)
      std::cout << out.dump() << std::endl;
    else
      print_verdict_text(verdict);
    *exit_code = verdict.accepted() ? 0 : kRejected;
  }
};

struct ReplayCommand {
  std::string file;
  std::string task = "mnist1d";
  TrainFlags flags;
  cli::LimitFlags limits;
  bool json = false;
  int* exit_code;

  explicit ReplayCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "replay", "Compile a child with the JIT and train it under the paper's protocol, in a supervised worker");
    cmd->add_option("file", file, "The child's C++ source, or DIR:CHILD for a child of a run")->required();
    cmd->add_option("--task", task, "Task: mnist1d, or clrs:ALGORITHM (a triplet function)")->capture_default_str();
    flags.add_to(cmd);
    limits.add_to(cmd);
    cmd->add_flag("--json", json, "Print one JSON object");
    cmd->callback([this] { run(); });
  }

  void run() {
    if (cli::is_run_child(file)) {
      *exit_code = cli::replay_run_child(file, json, limits);
      return;
    }
    const auto options = require_task(task);
    if (!is_clrs(options)) flags.refuse_clrs_flags(task);
    const auto source = read_source(file);
    // A hostile file is tried in a worker process, under the limits.
    WorkerPoolOptions pool;
    pool.workers = 1;
    if (is_clrs(options))
      pool.evaluator = flags.clrs_options(std::get<ClrsEvaluatorOptions>(options).algorithm, ClrsEvaluatorOptions{}.steps);
    else
      pool.evaluator = flags.evaluator_options();
    pool.limits = limits.limits();
    WorkerPool worker(pool);
    const ChildResult r = worker.evaluate(source, std::filesystem::path(file).filename().string());
    const bool evaluated = r.evaluated();
    nlohmann::json out = {{"verdict", r.verdict}, {"compile_ms", r.compile_ms}, {"train_ms", r.train_ms}};
    if (evaluated) {
      out["params_used"] = r.params_used;
      out["params_total"] = r.params_total;
      out["best_val_acc"] = r.best_val_acc;
      out["best_step"] = r.best_step;
      out["test_acc"] = r.test_acc;
      out["steps"] = r.steps;
      out["steps_per_s"] = r.steps_per_s;
    } else {
      out["rule"] = r.rule;
      out["message"] = r.message;
      out["diagnostics"] = r.diagnostics;
    }
    if (json) {
      std::cout << out.dump() << std::endl;
    } else if (evaluated) {
      std::printf("verdict: evaluated\nparams: %lld used, %lld total\nbest val acc: %.4f (step %lld)\n"
                  "test acc: %.4f\ncompile: %.0f ms\ntrain: %.0f ms\n",
                  static_cast<long long>(r.params_used), static_cast<long long>(r.params_total), r.best_val_acc,
                  static_cast<long long>(r.best_step), r.test_acc, r.compile_ms, r.train_ms);
    } else {
      std::printf("verdict: %s\nrule: %s\nmessage: %s\n", r.verdict.c_str(), r.rule.c_str(), r.message.c_str());
      for (const auto& d : r.diagnostics) std::printf("  %s\n", d.c_str());
      std::printf("compile: %.0f ms\n", r.compile_ms);
    }
    *exit_code = evaluated ? 0 : kRejected;
  }
};

struct DataCommand {
  Mnist1dArgs args;
  std::vector<std::int64_t> padding{36, 60};
  std::string out;

  void add_to(CLI::App& app) {
    auto* data = app.add_subcommand("data", "Generate a data set");
    evoprompt::cli::add_data_clrs_command(data);
    data->require_subcommand(1);
    auto* cmd = data->add_subcommand("mnist1d", "Generate MNIST-1D with the native generator");
    cmd->add_option("--out", out, "Output folder (created if missing)")->required();
    cmd->add_option("--seed", args.seed, "Generator seed")->capture_default_str();
    cmd->add_option("--num-samples", args.num_samples, "Total samples (train + test)")->capture_default_str();
    cmd->add_option("--train-split", args.train_split, "Fraction of samples used for training")->capture_default_str();
    cmd->add_option("--template-len", args.template_len, "Template length")->capture_default_str();
    cmd->add_option("--padding", padding, "Right padding range MIN MAX (inclusive)")->expected(2)->capture_default_str();
    cmd->add_option("--scale-coeff", args.scale_coeff, "Amplitude scale coefficient")->capture_default_str();
    cmd->add_option("--max-translation", args.max_translation, "Circular shift range")->capture_default_str();
    cmd->add_option("--corr-noise-scale", args.corr_noise_scale, "Correlated noise std")->capture_default_str();
    cmd->add_option("--iid-noise-scale", args.iid_noise_scale, "i.i.d. noise std")->capture_default_str();
    cmd->add_option("--shear-scale", args.shear_scale, "Shear coefficient scale")->capture_default_str();
    cmd->add_flag("--shuffle-seq", args.shuffle_seq, "Permute the sequence positions");
    cmd->add_option("--final-seq-length", args.final_seq_length, "Output sequence length")->capture_default_str();
    cmd->callback([this] { run(); });
  }

  void run() {
    args.padding_min = padding[0];
    args.padding_max = padding[1];
    Mnist1d data;
    try {
      data = generate_mnist1d(args);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    save_mnist1d(data, out);
    std::printf("wrote %lld train and %lld test samples of length %lld to %s\n",
                static_cast<long long>(data.num_train()), static_cast<long long>(data.num_test()),
                static_cast<long long>(data.seq_len), out.c_str());
  }
};

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  CLI::App app{"evoprompt: EvoPrompting neural architecture search in C++"};
  app.require_subcommand(1);
  SeedsCommand seeds(&exit_code);
  CheckCommand check(&exit_code);
  ReplayCommand replay(&exit_code);
  ClrsEvalCommand clrs_eval(&exit_code);
  DataCommand data;
  seeds.add_to(app);
  check.add_to(app);
  replay.add_to(app);
  clrs_eval.add_to(app);
  data.add_to(app);
  cli::TaskSeeds seed_programs;
  for (const auto& s : mnist1d_seeds()) seed_programs.mnist1d.push_back({s.name, s.source});
  // The paper's CLRS search starts from the nine seeds v1..v9 (not the five it found).
  for (const auto& s : clrs_seeds())
    if (s.name.size() == 2 && s.name[0] == 'v') seed_programs.clrs.push_back({s.name, s.source});
  cli::add_run_commands(app, &exit_code, seed_programs);
  evoprompt::cli::add_lm_commands(app, &exit_code);
  // The worker side of WorkerPool: started by evoprompt itself, never by users.
  auto* worker = app.add_subcommand("__worker", "");
  worker->group("");
  worker->callback([&exit_code] { exit_code = worker::run_worker(); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "evoprompt: error: " << e.what() << "\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "evoprompt: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    // One line: libtorch errors append a multi-line backtrace to their message.
    const std::string message = e.what();
    std::cerr << "evoprompt: error: " << message.substr(0, message.find('\n')) << "\n";
    return 1;
  }
  return exit_code;
}
