// evoprompt report RUN [RUN ...] --out FILE.html: one self-contained page.
// evoprompt export RUN --jsonl | --csv: one child per line, every field.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "commands.hpp"
#include "journal.hpp"
#include "report_page.hpp"
#include "run_data.hpp"

namespace evoprompt::cli {
namespace {

using nlohmann::json;

// Written beside the target and renamed: never a half-written file.
void write_whole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    if (!f.flush()) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw UsageError("cannot write " + path);
    }
  }
  std::filesystem::rename(tmp, path);
}

std::string label_of(const std::string& dir, const std::vector<std::string>& dirs) {
  const std::string base = std::filesystem::path(dir).lexically_normal().filename().string();
  int same = 0;
  for (const auto& d : dirs) same += std::filesystem::path(d).lexically_normal().filename().string() == base ? 1 : 0;
  return base.empty() || same > 1 ? dir : base;
}

std::string csv_field(const json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

// CSV columns: the row's fields, the re-evaluation summary as its own columns.
json flat_row(const json& row) {
  json flat = row;
  flat.erase("reeval");
  for (const char* k : {"trainings", "val_mean", "val_sd", "test_mean", "test_sd", "fitness_mean", "fitness_sd"})
    flat[std::string("reeval_") + k] = row["reeval"].is_null() ? json(nullptr) : row["reeval"][k];
  return flat;
}

}  // namespace

void add_report_commands(CLI::App& app) {
  struct Report {
    std::vector<std::string> dirs;
    std::string out;
  };
  auto report = std::make_shared<Report>();
  auto* cmd = app.add_subcommand("report", "Write one self-contained HTML page over one or more runs (opens offline)");
  cmd->add_option("runs", report->dirs, "Run folders (several: compared, grouped by --mode)")->required();
  cmd->add_option("--out", report->out, "The HTML file to write")->required();
  cmd->callback([report] {
    std::vector<json> runs;
    for (const auto& dir : report->dirs) {
      const engine::Journal journal = as_usage([&] { return engine::Journal::open(dir); });
      runs.push_back(engine::run_data(journal, label_of(dir, report->dirs)));
    }
    const std::string page = engine::report_html(engine::report_data(std::move(runs)));
    write_whole(report->out, page);
    std::printf("wrote %s (%zu runs, %.1f KB)\n", report->out.c_str(), report->dirs.size(),
                static_cast<double>(page.size()) / 1024.0);
  });

  struct Export {
    std::string dir, out;
    bool jsonl = false, csv = false;
  };
  auto exp = std::make_shared<Export>();
  auto* ex = app.add_subcommand("export", "Write a run's children, one per line, with every journal field");
  ex->add_option("dir", exp->dir, "Run folder")->required();
  auto* jsonl = ex->add_flag("--jsonl", exp->jsonl, "JSON Lines: one object per child");
  auto* csv = ex->add_flag("--csv", exp->csv, "CSV with a header row (lists and objects as JSON text)");
  jsonl->excludes(csv);
  ex->add_option("--out", exp->out, "The file to write (default: standard output)");
  ex->callback([exp] {
    if (!exp->jsonl && !exp->csv) throw UsageError("export: give --jsonl or --csv");
    const engine::Journal journal = as_usage([&] { return engine::Journal::open(exp->dir); });
    std::ostringstream text;
    const auto rows = engine::child_rows(journal);
    if (exp->jsonl) {
      for (const auto& row : rows) text << row.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::vector<std::string> columns{"id", "name"};  // then the rest by name
      const json blank = flat_row(engine::child_row({}, {}));
      for (const auto& [k, v] : blank.items())
        if (k != "id" && k != "name") columns.push_back(k);
      for (std::size_t i = 0; i < columns.size(); ++i) text << (i ? "," : "") << columns[i];
      text << "\n";
      for (const auto& row : rows) {
        const json flat = flat_row(row);
        for (std::size_t i = 0; i < columns.size(); ++i) text << (i ? "," : "") << csv_field(flat[columns[i]]);
        text << "\n";
      }
    }
    if (exp->out.empty()) {
      std::cout << text.str() << std::flush;
    } else {
      write_whole(exp->out, text.str());
      std::fprintf(stderr, "wrote %zu children to %s\n", rows.size(), exp->out.c_str());
    }
  });
}

}  // namespace evoprompt::cli
