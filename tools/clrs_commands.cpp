#include "clrs_commands.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "clrs/spec.hpp"
#include "cli.hpp"

namespace evoprompt::cli {
namespace {

using nlohmann::json;

struct Row {
  std::string label;  // the algorithm or the program
  std::string algorithm;
  ChildResult result;
};

json row_json(const Row& row) {
  const auto& r = row.result;
  json j = {{"algorithm", row.algorithm}, {"verdict", to_string(r.verdict)}, {"compile_ms", r.compile_ms}, {"train_ms", r.train_ms}};
  if (r.evaluated()) {
    j["params_used"] = r.params_used;
    j["params_total"] = r.params_total;
    j["val_pct"] = 100.0 * r.best_val_acc;
    j["best_step"] = r.best_step;
    j["ood_pct"] = 100.0 * r.test_acc;
    j["baseline_ood_pct"] = clrs::ibarz_baseline_ood(row.algorithm);
    j["steps"] = r.steps;
    j["steps_per_s"] = r.steps_per_s;
  } else {
    j["rule"] = r.rule;
    j["message"] = r.message;
    j["diagnostics"] = r.diagnostics;
  }
  return j;
}

void print_header(const char* first) {
  std::printf("%-30s %10s %9s %8s %8s %9s %7s %8s %8s\n", first, "verdict", "params", "val %", "OOD %",
              "baseline", "delta", "steps/s", "train_s");
}

void print_row(const Row& row) {
  const auto& r = row.result;
  if (!r.evaluated()) {
    std::printf("%-30s %10s  %s: %s\n", row.label.c_str(), to_string(r.verdict), r.rule.c_str(), r.message.c_str());
    return;
  }
  const double base = clrs::ibarz_baseline_ood(row.algorithm);
  std::printf("%-30s %10s %9lld %8.2f %8.2f %9.2f %+7.2f %8.2f %8.0f\n", row.label.c_str(), to_string(r.verdict),
              static_cast<long long>(r.params_used), 100.0 * r.best_val_acc, 100.0 * r.test_acc, base,
              100.0 * r.test_acc - base, r.steps_per_s, r.train_ms / 1000.0);
}

int finish(const std::vector<Row>& rows, bool as_json, const std::string& footer) {
  bool all = true;
  for (const auto& row : rows) all &= row.result.evaluated();
  if (as_json) {
    for (const auto& row : rows) {
      json j = row_json(row);
      j["name"] = row.label;
      std::cout << j.dump() << std::endl;
    }
  } else {
    std::printf("%s", footer.c_str());
  }
  return all ? 0 : 1;
}

// Training can take hours: a line on stderr per validation.
void progress_line(const std::string& label, std::int64_t steps, std::int64_t step, double loss, double val) {
  std::fprintf(stderr, "%s: step %lld/%lld loss %.4f val %.2f%%\n", label.c_str(), static_cast<long long>(step + 1),
               static_cast<long long>(steps), loss, 100.0 * val);
}

WorkerPoolOptions pool_options(const ClrsRunFlags& flags, const std::string& algorithm, int workers) {
  WorkerPoolOptions o;
  o.workers = workers;
  ClrsEvaluatorOptions e = flags.options;
  e.algorithm = algorithm;
  o.task = tasks::task_config("clrs:" + algorithm, tasks::clrs_option_table().to_json(e));
  o.limits = flags.limits;
  return o;
}

}  // namespace

std::vector<std::string> parse_algorithms(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  const auto& all = clrs::clrs30_algorithms();
  for (const auto& item : items) {
    std::stringstream in(item);
    std::string name;
    while (std::getline(in, name, ',')) {
      if (name.empty()) continue;
      if (name == "all") {
        out.insert(out.end(), all.begin(), all.end());
        continue;
      }
      if (std::find(all.begin(), all.end(), name) == all.end())
        throw UsageError("unknown CLRS-30 algorithm '" + name + "' (e.g. bfs, articulation_points; or all)");
      out.push_back(name);
    }
  }
  if (out.empty()) throw UsageError("--algos names no algorithm");
  return out;
}

int run_clrs_eval(const std::string& source, const std::string& name, const std::vector<std::string>& algorithms,
                  const ClrsRunFlags& flags) {
  // Algorithms run side by side, one worker each, as many as the worker rule allows.
  const int parallel = std::max(1, std::min<int>(static_cast<int>(algorithms.size()),
                                                 flags.workers > 0 ? flags.workers : default_worker_count()));
  std::vector<Row> rows(algorithms.size());
  std::mutex lock;
  std::size_t next = 0;
  std::string error;
  auto work = [&] {
    for (;;) {
      std::size_t i;
      {
        std::lock_guard<std::mutex> guard(lock);
        if (next >= algorithms.size() || !error.empty()) return;
        i = next++;
      }
      Row row{algorithms[i], algorithms[i], {}};
      try {
        auto options = pool_options(flags, algorithms[i], 1);
        options.on_progress = [&, label = algorithms[i]](std::size_t, std::int64_t step, double loss, double val) {
          std::lock_guard<std::mutex> guard(lock);
          progress_line(label, flags.options.steps, step, loss, val);
        };
        WorkerPool pool(options);
        row.result = pool.evaluate(source, name);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> guard(lock);
        error = algorithms[i] + ": " + e.what();
        return;
      }
      std::lock_guard<std::mutex> guard(lock);
      rows[i] = row;
      if (!flags.json) {
        std::fprintf(stderr, "%s: %s", row.label.c_str(), to_string(row.result.verdict));
        if (row.result.evaluated()) std::fprintf(stderr, ", OOD %.2f%%", 100.0 * row.result.test_acc);
        std::fprintf(stderr, "\n");
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  if (!error.empty()) throw std::runtime_error(error);

  std::string footer;
  if (!flags.json) {
    std::printf("%s: %lld steps, batch %lld, hidden %lld; OOD = n=64 test split; baseline = Triplet-GMPNN "
                "(Ibarz et al. 2022, 10 seeds, 10,000 steps)\n",
                name.c_str(), static_cast<long long>(flags.options.steps),
                static_cast<long long>(flags.options.batch_size), static_cast<long long>(flags.options.hidden));
    print_header("algorithm");
    double ours = 0.0, base = 0.0;
    int n = 0;
    for (const auto& row : rows) {
      print_row(row);
      if (!row.result.evaluated()) continue;
      ours += 100.0 * row.result.test_acc;
      base += clrs::ibarz_baseline_ood(row.algorithm);
      ++n;
    }
    if (n > 1) {
      char line[160];
      std::snprintf(line, sizeof line, "%-30s %10s %9s %8s %8.2f %9.2f %+7.2f\n", "mean", "", "", "", ours / n,
                    base / n, (ours - base) / n);
      footer = line;
    }
  }
  return finish(rows, flags.json, footer);
}

int run_clrs_seeds(const std::vector<engine::SeedProgram>& programs, const ClrsRunFlags& flags) {
  const int workers = flags.workers > 0 ? flags.workers : default_worker_count();
  auto options = pool_options(flags, flags.options.algorithm,
                              std::max(1, std::min<int>(workers, static_cast<int>(programs.size()))));
  options.on_progress = [&](std::size_t job, std::int64_t step, double loss, double val) {
    progress_line(programs[job].name, flags.options.steps, step, loss, val);
  };
  WorkerPool pool(options);
  std::vector<EvaluationJob> jobs;
  for (const auto& p : programs) jobs.push_back({p.source, p.name});
  std::vector<Row> rows(programs.size());
  pool.evaluate_many(jobs, [&](std::size_t i, const ChildResult& r) {
    rows[i] = {programs[i].name, flags.options.algorithm, r};
    if (!flags.json) std::fprintf(stderr, "%s: %s\n", programs[i].name.c_str(), to_string(r.verdict));
  });
  if (!flags.json) {
    std::printf("clrs:%s: %lld steps, batch %lld, hidden %lld; OOD = n=64 test split\n",
                flags.options.algorithm.c_str(), static_cast<long long>(flags.options.steps),
                static_cast<long long>(flags.options.batch_size), static_cast<long long>(flags.options.hidden));
    print_header("triplet function");
    for (const auto& row : rows) print_row(row);
  }
  return finish(rows, flags.json, "");
}

}  // namespace evoprompt::cli
