// How runs print: the summary (text or JSON), the top-p table, and the live
// progress of `evolve`. Shared by evolve and show.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "report.hpp"
#include "run.hpp"

namespace evoprompt::cli {

nlohmann::json summary_json(const engine::RunSummary& summary);
void print_summary(const engine::RunSummary& summary);
// "lm: SPEC (MODE, ...)": whether the run prompt-tunes its LM (only
// local:DIR can; any other LM makes the paper's no-tuning arm).
std::string lm_line(const std::string& spec, const std::string& mode);

// Runs `run.reevaluate(k)`, printing a line per re-training (a JSON event
// per line with `as_json`). Shared by `evolve --reeval` and `reeval`.
void reevaluate(engine::Run& run, int k, bool as_json);

// Live progress on stderr: one updating line on a terminal, a line per
// child otherwise; with --json, one event per line on stdout instead.
class Progress {
 public:
  explicit Progress(bool as_json);
  void operator()(const std::string& type, const nlohmann::json& data);

 private:
  bool json_;
  bool tty_;
  int round_ = 0;
  int rounds_ = 0;
};

}  // namespace evoprompt::cli
