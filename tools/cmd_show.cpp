// evoprompt show DIR: a run's budget, verdict counts and top-p table.
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "journal.hpp"
#include "run_report.hpp"
#include "run_settings.hpp"

namespace evoprompt::cli {

void add_show_command(CLI::App& app) {
  struct Show {
    std::string dir;
    bool json = false;
  };
  auto state = std::make_shared<Show>();
  auto* cmd = app.add_subcommand("show", "Summarise a run: budget used, verdict counts, the top-p table");
  cmd->add_option("dir", state->dir, "Run folder")->required();
  cmd->add_flag("--json", state->json, "Print one JSON object");
  cmd->callback([state] {
    const engine::Journal journal = as_usage([&] { return engine::Journal::open(state->dir); });
    const auto summary = engine::summarize(journal);
    if (state->json) {
      std::cout << summary_json(summary).dump() << std::endl;
      return;
    }
    const auto settings = engine::stored_run_settings(journal);
    std::printf("task: %s\n%s\n", settings.task.name.c_str(),
                lm_line(settings.lm.spec, to_string(settings.evolution.mode)).c_str());
    print_summary(summary);
  });
}

}  // namespace evoprompt::cli
