// evoprompt check FILE: the JIT's verdict on a child, without running it.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"

namespace evoprompt::cli {

void add_check_command(CLI::App& app, int* exit_code) {
  struct Check {
    std::string file;
    std::string task = "mnist1d";
    bool json = false;
  };
  auto state = std::make_shared<Check>();
  auto* cmd = app.add_subcommand("check", "Compile a child with the JIT and print its verdict, without running it");
  cmd->add_option("file", state->file, "The child's C++ source")->required();
  cmd->add_option("--task", state->task, "Task: " + tasks::task_usages())->capture_default_str();
  cmd->add_flag("--json", state->json, "Print one JSON object");
  cmd->callback([state, exit_code] {
    const auto task = as_usage([&] { return tasks::find_task(state->task); });
    const auto source = read_source(state->file);
    const auto check = task.task->check_child(source, std::filesystem::path(state->file).filename().string());
    const jit::Verdict& v = check.verdict;
    nlohmann::json out = {{"verdict", to_string(v.kind)}};
    if (!v.accepted()) {
      out["rule"] = v.rule;
      out["message"] = v.message;
      out["diagnostics"] = v.diagnostics;
    }
    out["compile_ms"] = check.compile_ms;
    if (state->json) {
      std::cout << out.dump() << std::endl;
    } else {
      std::printf("verdict: %s\n", to_string(v.kind));
      if (!v.accepted()) {
        std::printf("rule: %s\nmessage: %s\n", v.rule.c_str(), v.message.c_str());
        for (const auto& d : v.diagnostics) std::printf("  %s\n", d.c_str());
      }
    }
    *exit_code = v.accepted() ? 0 : kRejected;
  });
}

}  // namespace evoprompt::cli
