// evoprompt reeval DIR --k K: the finished run's answer re-trained with K
// more training seeds, each re-training a journal row; then the answer
// ranked by mean fitness.
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "run.hpp"
#include "run_report.hpp"

namespace evoprompt::cli {

void add_reeval_command(CLI::App& app, MpiJob* job) {
  struct Reeval {
    std::string dir;
    int k = 0;
    bool json = false;
  };
  auto state = std::make_shared<Reeval>();
  auto* cmd = app.add_subcommand(
      "reeval", "Re-train a finished run's top p with K more training seeds; rank them by mean fitness");
  cmd->add_option("dir", state->dir, "Run folder")->required();
  cmd->add_option("--k", state->k, "Re-trainings per child (training seeds seed+1 .. seed+K)")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", state->json, "Print one JSON event per line");
  cmd->callback([state, job] {
    {
      // Before Run::resume, which would start an unfinished run's LM and workers.
      const engine::Journal journal = as_usage([&] { return engine::Journal::open(state->dir); });
      if (journal.meta("status") != std::optional<std::string>("finished"))
        throw UsageError(state->dir + ": the search has not finished (evoprompt evolve --run " + state->dir +
                         " --resume)");
    }
    std::optional<engine::Run> run;
    try {
      run.emplace(as_usage([&] { return engine::Run::resume(state->dir, job); }));
    } catch (const engine::RunLocked& e) {
      throw UsageError(e.what());
    }
    as_usage([&] { reevaluate(*run, state->k, state->json); });
    const engine::RunSummary summary = run->summary();
    if (state->json)
      std::cout << nlohmann::json{{"event", "summary"}, {"summary", summary_json(summary)}}.dump() << std::endl;
    else
      print_summary(summary);
  });
}

}  // namespace evoprompt::cli
