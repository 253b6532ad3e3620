#include "run_report.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "lm_factory.hpp"

namespace evoprompt::cli {

using nlohmann::json;

namespace {


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
    if (c.verdict != VerdictKind::evaluated) {
      std::printf("  %-4s %-14s %s\n", "-", c.name.c_str(), to_string(c.verdict));
      continue;
    }
    std::printf("  %-4d %-14s %9lld %8.4f %8.4f %10.1f\n", rank++, c.name.c_str(),
                static_cast<long long>(c.params_used), c.val_acc, c.test_acc, c.fitness);
  }
}

json row_json(const engine::ChildRecord& c) {
  return {{"id", c.id},           {"name", c.name},       {"verdict", to_string(c.verdict)},   {"params_used", c.params_used},
          {"val_acc", c.val_acc}, {"test_acc", c.test_acc}, {"fitness", c.fitness}};
}

json reeval_json(const engine::RunSummary& s) {
  json out = json::array();
  for (const auto& r : s.reeval) {
    json row = engine::to_json(r);
    row["id"] = r.child_id;
    row["name"] = s.names.at(r.child_id);
    out.push_back(std::move(row));
  }
  return out;
}

void print_reeval(const engine::RunSummary& s) {
  if (s.reeval.empty()) return;
  std::printf("re-evaluated (mean ± sd over each child's trainings; ranked by mean fitness):\n  %-4s %-14s %9s %17s %17s %16s\n",
              "rank", "child", "trainings", "val_acc", "test_acc", "fitness");
  int rank = 1;
  for (const auto& r : s.reeval)
    std::printf("  %-4d %-14s %9d %8.4f ± %.4f %8.4f ± %.4f %8.1f ± %5.1f\n", rank++, s.names.at(r.child_id).c_str(),
                r.trainings, r.val_mean, r.val_sd, r.test_mean, r.test_sd, r.fitness_mean, r.fitness_sd);
}

}  // namespace

json summary_json(const engine::RunSummary& s) {
  json seeds = json::array(), top = json::array();
  for (const auto& c : s.seeds) seeds.push_back(row_json(c));
  for (const auto& c : s.top) top.push_back(row_json(c));
  json workers = json::array(), verdicts = json::object();
  for (const auto& [verdict, count] : s.verdicts) verdicts[to_string(verdict)] = count;
  for (const auto& w : s.workers)
    workers.push_back({{"slot", w.slot}, {"rank", w.rank}, {"host", w.host}, {"pid", w.pid}, {"state", w.state},
                       {"children", w.children}, {"restarts", w.restarts}, {"last_exit", w.last_exit}});
  return {{"status", s.status},
          {"rounds_finished", s.rounds_finished},
          {"rounds", s.rounds},
          {"samples_used", s.samples_used},
          {"budget", s.budget},
          {"verdicts", verdicts},
          {"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens},
          {"seeds", seeds},
          {"top", top},
          {"workers", workers},
          {"reeval", reeval_json(s)}};
}

void print_summary(const engine::RunSummary& s) {
  std::printf("status: %s\nrounds: %d of %d finished\nbudget: %lld of %lld samples used\n", s.status.c_str(),
              s.rounds_finished, s.rounds, static_cast<long long>(s.samples_used), static_cast<long long>(s.budget));
  std::printf("verdicts:");
  for (const auto& [verdict, count] : s.verdicts) std::printf(" %s %lld", to_string(verdict), static_cast<long long>(count));
  std::printf("\n");
  if (s.prompt_tokens || s.completion_tokens)
    std::printf("LM tokens: %lld prompt, %lld completion\n", static_cast<long long>(s.prompt_tokens),
                static_cast<long long>(s.completion_tokens));
  if (!s.workers.empty()) {
    std::printf("workers:\n");
    int rank = -1;
    for (const auto& w : s.workers) {  // by slot: a rank's slots are consecutive
      if (w.rank != rank) {
        rank = w.rank;
        std::printf("  rank %d on %s:\n", w.rank, w.host.empty() ? "?" : w.host.c_str());
      }
      std::printf("    %d: pid %d %s, %lld children, %d restarts%s%s\n", w.slot, w.pid, w.state.c_str(),
                  static_cast<long long>(w.children), w.restarts, w.last_exit.empty() ? "" : ", last exit ",
                  w.last_exit.c_str());
    }
  }
  print_table("seeds:", s.seeds);
  print_table("top children (the answer):", s.top);
  print_reeval(s);
  if (!s.top.empty() && !s.seeds.empty() && s.seeds.front().verdict == VerdictKind::evaluated)
    std::printf("best child %s: fitness %.1f; best seed %s: fitness %.1f\n", s.top.front().name.c_str(),
                s.top.front().fitness, s.seeds.front().name.c_str(), s.seeds.front().fitness);
}

namespace {

std::string duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(bool as_json) : json_(as_json), tty_(::isatty(STDERR_FILENO) != 0) {}

void Progress::operator()(const std::string& type, const json& d) {
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
                  d.value("round", round_) + 1, rounds_, static_cast<long long>(done), static_cast<long long>(d["budget"].get<std::int64_t>()),
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

void reevaluate(engine::Run& run, int k, bool as_json) {
  std::map<std::int64_t, std::string> names;
  for (const auto& c : run.summary().top) names[c.id] = c.name;
  run.reevaluate(k, [&](const engine::ReevalRecord& r) {
    const std::string& name = names[r.child_id];
    if (as_json) {
      std::cout << json{{"event", "reeval"}, {"name", name},          {"k", r.k},
                        {"train_seed", r.train_seed}, {"verdict", to_string(r.verdict)}, {"val_acc", r.val_acc},
                        {"test_acc", r.test_acc}, {"fitness", r.fitness}, {"weights", r.weights}}
                       .dump()
                << std::endl;
      return;
    }
    std::fprintf(stderr, "reeval %-14s seed %lld: %s val_acc %.4f test_acc %.4f fitness %.1f\n", name.c_str(),
                 static_cast<long long>(r.train_seed), to_string(r.verdict), r.val_acc, r.test_acc, r.fitness);
  });
}

std::string lm_line(const std::string& spec, const std::string& mode) {
  if (codegen::parse_lm_spec(spec).kind == codegen::LmSpec::Kind::mutate)
    return "lm: mutate (" + mode + "; a code-level operator, not a language model: no prompt-tuning)";
  const bool tunes = codegen::parse_lm_spec(spec).can_prompt_tune() && (mode == "evoprompting" || mode == "random-parents");
  if (tunes) return "lm: " + spec + " (" + mode + ", soft prompt-tuned between rounds)";
  return "lm: " + spec + " (" + mode + ", no prompt-tuning: only local:DIR tunes; with this LM a run is the paper's no-tuning arm)";
}

}  // namespace evoprompt::cli
