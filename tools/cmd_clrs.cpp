// evoprompt clrs eval FILE --algos LIST: one triplet function trained on
// CLRS-30 algorithms, its OOD scores next to the baseline (clrs_commands.hpp).
#include <filesystem>

#include "clrs_commands.hpp"
#include "cli.hpp"
#include "commands.hpp"

namespace evoprompt::cli {
namespace {

struct ClrsEvalCommand {
  std::string file;
  std::vector<std::string> algos;
  TaskFlags task;
  LimitFlags limits;
  int workers = 0;
  bool json = false;
  CLI::Option* steps = nullptr;
  int* exit_code;

  explicit ClrsEvalCommand(int* code) : exit_code(code) {}

  void add_to(CLI::App& app) {
    auto* group = app.add_subcommand("clrs", "CLRS-30 tools");
    group->require_subcommand(1);
    auto* cmd = group->add_subcommand(
        "eval", "Train one triplet function on CLRS-30 algorithms and compare its OOD (n=64) scores with the baseline");
    cmd->add_option("file", file, "The triplet function's C++ source (struct Triplet)")->required();
    cmd->add_option("--algos", algos, "Algorithms, comma- or space-separated, or all")->required();
    task.add_to(cmd, "clrs:bfs", /*with_task_flag=*/false);
    cmd->add_option("--workers", workers, "Algorithms trained at once (0: one per core, or per GPU)");
    limits.values.train_timeout_s = 7 * 24 * 3600.0;
    limits.add_to(cmd);
    cmd->add_flag("--json", json, "One JSON object per algorithm and line");
    cmd->callback([this, cmd] { run(cmd); });
  }

  void run(CLI::App* cmd) {
    const auto source = read_source(file);
    const auto names = parse_algorithms(algos);
    // The baseline protocol trains 10,000 steps (the paper's search: 2000).
    nlohmann::json base = nlohmann::json::object();
    if (!cmd->get_option("--steps")->count()) base["steps"] = 10000;
    const tasks::TaskConfig config = task.resolve("clrs:" + names.front(), base);
    ClrsRunFlags run;
    run.options = tasks::clrs_option_table().from_json(config.options);
    run.limits = limits.values;
    run.workers = workers;
    run.json = json;
    *exit_code = run_clrs_eval(source, std::filesystem::path(file).filename().string(), names, run);
  }
};

}  // namespace

void add_clrs_command(CLI::App& app, int* exit_code) {
  static ClrsEvalCommand clrs_eval(exit_code);
  clrs_eval.add_to(app);
}

}  // namespace evoprompt::cli
