// evoprompt dump DIR --out OUT: children of a run as standalone .cpp files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "cli.hpp"
#include "commands.hpp"
#include "journal.hpp"
#include "config.hpp"
#include "prompt.hpp"
#include "report.hpp"

namespace evoprompt::cli {
namespace {

using nlohmann::json;

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string dumped_file(const engine::ChildRecord& c, const std::string& run_dir) {
  std::string text;
  const bool scored = c.verdict == VerdictKind::evaluated || c.verdict == VerdictKind::filtered_alpha;
  if (scored)
    text += codegen::metrics_block({c.params_used, c.val_acc});
  char line[512];
  std::snprintf(line, sizeof line, "// evoprompt run %s, child %s (id %lld): %s%s%s", run_dir.c_str(), c.name.c_str(),
                static_cast<long long>(c.id), to_string(c.verdict), c.rule.empty() ? "" : " ", c.rule.c_str());
  text += line;
  if (scored)
    text += ", fitness " + fmt("%.1f", c.fitness) + ", test acc " + fmt("%.4f", c.test_acc);
  text += "\n" + c.source;
  if (!text.empty() && text.back() != '\n') text += "\n";
  return text;
}

}  // namespace

void add_dump_command(CLI::App& app) {
  struct Dump {
    std::string dir, out;
    int top = 0;
    bool all = false;
  };
  auto state = std::make_shared<Dump>();
  auto* cmd = app.add_subcommand("dump", "Write children of a run as standalone .cpp files with their metrics");
  cmd->add_option("dir", state->dir, "Run folder")->required();
  cmd->add_option("--out", state->out, "Output folder (created if missing)")->required();
  auto* top = cmd->add_option("--top", state->top, "The K fittest children (default: the run's p)");
  cmd->add_flag("--all", state->all, "Every child and seed, whatever its verdict")->excludes(top);
  cmd->callback([state] {
    const engine::Journal journal = as_usage([&] { return engine::Journal::open(state->dir); });
    std::vector<engine::ChildRecord> chosen;
    if (state->all) {
      chosen = journal.children();
    } else {
      std::size_t k = static_cast<std::size_t>(state->top);
      if (k == 0) k = engine::evolution_config_from_json(json::parse(journal.meta("evolution").value())).survivors;
      if (state->top < 0) throw UsageError("--top must be >= 1");
      chosen = engine::ranked_archive(journal);
      if (chosen.size() > k) chosen.resize(k);
    }
    std::error_code ec;
    std::filesystem::create_directories(state->out, ec);
    if (ec) throw std::runtime_error("cannot create " + state->out + ": " + ec.message());
    std::map<std::int64_t, std::vector<engine::ReevalRecord>> weights;  // reeval's checkpoints
    for (auto& r : journal.reevals())
      if (!r.weights.empty()) weights[r.child_id].push_back(std::move(r));
    std::size_t weight_files = 0;
    int rank = 0;
    for (const auto& c : chosen) {
      ++rank;
      char prefix[16];
      std::snprintf(prefix, sizeof prefix, "%03d_", rank);
      const std::string name = (state->all ? std::string() : std::string(prefix)) + c.name + ".cpp";
      const std::string path = state->out + "/" + name;
      const std::string tmp = path + ".tmp";
      {
        std::ofstream f(tmp, std::ios::binary);
        f << dumped_file(c, state->dir);
        if (!f.flush()) throw std::runtime_error("cannot write " + tmp);
      }
      std::filesystem::rename(tmp, path);
      // Beside the .cpp: NAME.k<K>.safetensors, the best-validation weights of each re-training.
      for (const auto& r : weights[c.id]) {
        const std::string stem = name.substr(0, name.size() - 4);
        const std::string target = state->out + "/" + stem + ".k" + std::to_string(r.k) + ".safetensors";
        std::filesystem::copy_file(std::filesystem::path(state->dir) / r.weights, target + ".tmp",
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::rename(target + ".tmp", target);
        ++weight_files;
      }
    }
    std::printf("wrote %zu children to %s", chosen.size(), state->out.c_str());
    if (weight_files) std::printf(", with %zu weight files (safetensors)", weight_files);
    std::printf("\n");
  });
}

}  // namespace evoprompt::cli
