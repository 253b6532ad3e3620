// The run's journal: one SQLite file (WAL) per run folder. It is the run's
// whole state: every write is one transaction, and `evolve --resume` rebuilds
// the search from it. Reports (show, dump, replay) read it too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "verdict.hpp"

struct sqlite3;

namespace evoprompt::engine {

// One row of `children`: a seed, an LM sample or a repair, and its fate.
struct ChildRecord {
  std::int64_t id = 0;
  int round = -1;                 // -1: seeds (INITIALIZEPOPULATION)
  std::int64_t prompt_id = 0;     // 0 for seeds
  int sample = 0;                 // index within its prompt (seeds: seed index)
  std::string kind = "sample";    // seed | sample | repair
  std::string name;               // seed name, or "r<round>p<prompt>s<sample>"
  std::int64_t repair_of = 0;
  std::string lm;
  double temperature = 0.0;
  std::string completion;         // raw LM text
  std::string source;             // the extracted program
  std::string token_hash;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  VerdictKind verdict = VerdictKind::pending;
  std::string rule;
  std::string message;
  std::vector<std::string> diagnostics;
  std::int64_t duplicate_of = 0;
  std::int64_t params_used = 0;
  std::int64_t params_total = 0;
  double val_acc = 0.0;
  std::int64_t best_step = 0;
  double test_acc = 0.0;
  double fitness = 0.0;
  double compile_ms = 0.0;
  double train_ms = 0.0;
  double total_ms = 0.0;
  std::string step_path;  // how its training steps ran: eager, cuda_graph, or eager (why)
  bool in_history = false;        // entered G (val error < alpha)
};

struct PromptRecord {
  std::int64_t id = 0;
  int round = 0;
  int index = 0;
  std::string text;
  std::vector<std::int64_t> parent_ids;
  std::int64_t target_params = 0;
  double target_val_acc = 0.0;
  std::uint64_t seed = 0;
  std::int64_t repair_of = 0;     // a repair prompt: the child it repairs
};

struct RoundRecord {
  int round = 0;
  std::string rng_state;
  std::vector<std::int64_t> parent_pool;  // P at the start of the round
  bool finished = false;
  std::string tune;                       // JSON: what TRAIN did
};

struct LmCallRecord {
  std::int64_t prompt_id = 0;
  int samples = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double ms = 0.0;
  std::string error;
};

// One re-training of an answer child with another training seed (`reeval`).
struct ReevalRecord {
  std::int64_t child_id = 0;
  int k = 0;                      // 1..K
  std::int64_t train_seed = 0;
  VerdictKind verdict = VerdictKind::pending;
  std::string message;
  std::int64_t params_used = 0;
  double val_acc = 0.0;
  double test_acc = 0.0;
  double fitness = 0.0;
  std::string weights;            // best-validation checkpoint, relative to the run folder ("" if none)
};

// A worker process slot as `show` lists it.
struct WorkerRecord {
  int slot = 0;
  int pid = 0;
  std::string state;
  std::int64_t children = 0;
  int restarts = 0;
  std::string last_exit;
  int rank = 0;      // the MPI rank hosting it (0: the driver's own machine)
  std::string host;
};

class Journal {
 public:
  // Creates DIR/journal.sqlite holding `meta`, all at once (a journal is
  // never seen half-made); throws std::runtime_error if one exists.
  static Journal create(const std::string& run_dir, const std::map<std::string, std::string>& meta = {});
  // The saved format: the schema and the meta settings (a task's own
  // options, format 2 on). A journal of another format is refused.
  static constexpr int kFormat = 2;

  // Opens an existing journal. Throws std::invalid_argument when there is
  // none, std::runtime_error naming any other problem (not a journal,
  // another format).
  static Journal open(const std::string& run_dir);
  static bool exists(const std::string& run_dir);
  static std::string path_in(const std::string& run_dir);
  static std::string sqlite_version();

  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;
  ~Journal();

  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;

  // Children: inserted (id assigned) and updated as a whole row.
  std::int64_t insert_child(const ChildRecord& child);
  void update_child(const ChildRecord& child);
  // Several children at once, in one transaction (a prompt's samples).
  std::vector<std::int64_t> insert_children(const std::vector<ChildRecord>& children, const LmCallRecord& call);
  std::vector<ChildRecord> children() const;  // in id order
  std::optional<ChildRecord> child(std::int64_t id) const;
  std::optional<ChildRecord> child_by_name(const std::string& name) const;

  std::int64_t insert_prompt(const PromptRecord& prompt);
  std::vector<PromptRecord> prompts() const;
  std::vector<LmCallRecord> lm_calls() const;

  void start_round(const RoundRecord& round);
  std::optional<RoundRecord> round(int t) const;
  std::vector<RoundRecord> rounds() const;
  // GETTOP's choice after round t (the next parents, now retired), TRAIN's
  // report, and the round's end: one transaction.
  void finish_round(int t, const std::vector<std::int64_t>& selected, const std::string& tune_json);
  std::vector<std::int64_t> selections(int t) const;  // in rank order

  void record_reeval(const ReevalRecord& reeval);        // replaces the row of (child, k)
  std::vector<ReevalRecord> reevals() const;            // by child id, then k

  void record_worker(const WorkerRecord& worker);
  std::vector<WorkerRecord> workers() const;

 private:
  explicit Journal(sqlite3* db);
  void exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
};

}  // namespace evoprompt::engine
