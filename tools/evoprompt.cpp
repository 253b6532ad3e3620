// The evoprompt command line. Commands:
//   evoprompt seeds --task mnist1d    train the seed models under the paper's protocol
//   evoprompt check FILE              the JIT's verdict on a child, without running it
//   evoprompt replay FILE             compile a child with the JIT and train it
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

void require_task(const std::string& task) {
  if (task != "mnist1d") throw UsageError("unknown task '" + task + "' (available: mnist1d)");
}

std::string read_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  // A folder opens as a stream too, and would read as an empty child.
  if (!in || !std::filesystem::is_regular_file(path)) throw UsageError(path + ": cannot read the child file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The training protocol's flags, shared by every command that trains.
struct TrainFlags {
  std::string data_dir;
  TrainOptions train;
  std::string device = "auto";
  std::string init = "flax";
  std::int64_t val_size = 500;
  std::uint32_t split_seed = 42;
  int threads = 0;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--data", data_dir, "MNIST-1D folder of .npy files (default: the canonical set)");
    cmd->add_option("--steps", train.steps, "Training steps")->capture_default_str();
    cmd->add_option("--batch-size", train.batch_size, "Minibatch size")->capture_default_str();
    cmd->add_option("--lr", train.adamw.lr, "AdamW learning rate")->capture_default_str();
    cmd->add_option("--weight-decay", train.adamw.weight_decay, "AdamW weight decay")->capture_default_str();
    cmd->add_option("--eval-every", train.eval_every, "Validate every N steps")->capture_default_str();
    cmd->add_option("--seed", train.seed, "Seed for model init and batch order")->capture_default_str();
    cmd->add_option("--val-size", val_size, "Training rows held out for validation")->capture_default_str();
    cmd->add_option("--split-seed", split_seed, "Seed of the validation split")->capture_default_str();
    cmd->add_option("--init", init, "Parameter init: flax or torch")->capture_default_str();
    cmd->add_option("--device", device, "auto, cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads for libtorch (0: libtorch's default)");
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
  bool aot = false;
  bool json = false;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("seeds", "Train the seed models of a task under the paper's protocol");
    cmd->add_option("--task", task, "Task (mnist1d)")->required();
    cmd->add_option("--only", only, "Train only these seeds (large_cnn, cnn, gru, residual_mlp)");
    flags.add_to(cmd);
    cmd->add_flag("--aot", aot, "Use the seeds compiled into the binary instead of the JIT");
    cmd->add_flag("--json", json, "One JSON object per seed and line");
    cmd->callback([this] { run(); });
  }

  void run() {
    require_task(task);
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
    cmd->add_option("--task", task, "Task (mnist1d)")->capture_default_str();
    cmd->add_flag("--json", json, "Print one JSON object");
    cmd->callback([this] { run(); });
  }

  void run() {
    require_task(task);
    const auto source = read_source(file);
    jit::ChildJit jit(torch_jit_options());
    const auto model = compile_model(jit, source, std::filesystem::path(file).filename().string());
    auto out = verdict_json(model.verdict);
    out["compile_ms"] = model.compile_ms;
    if (json)
      std::cout << out.dump() << std::endl;
    else
      print_verdict_text(model.verdict);
    *exit_code = model.verdict.accepted() ? 0 : kRejected;
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
    cmd->add_option("--task", task, "Task (mnist1d)")->capture_default_str();
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
    require_task(task);
    const auto source = read_source(file);
    // A hostile file is tried in a worker process, under the limits.
    WorkerPoolOptions pool;
    pool.workers = 1;
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
  SeedsCommand seeds;
  CheckCommand check(&exit_code);
  ReplayCommand replay(&exit_code);
  DataCommand data;
  seeds.add_to(app);
  check.add_to(app);
  replay.add_to(app);
  data.add_to(app);
  std::vector<engine::SeedProgram> seed_programs;
  for (const auto& s : mnist1d_seeds()) seed_programs.push_back({s.name, s.source});
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
