#include "journal.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

namespace evoprompt::engine {
namespace {

const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rounds(
  round INTEGER PRIMARY KEY, rng_state TEXT NOT NULL, parent_pool TEXT NOT NULL,
  started_at TEXT NOT NULL DEFAULT (datetime('now')), finished_at TEXT, tune TEXT);
CREATE TABLE prompts(
  id INTEGER PRIMARY KEY, round INTEGER NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,
  parent_ids TEXT NOT NULL, target_params INTEGER, target_val_acc REAL, seed INTEGER NOT NULL,
  repair_of INTEGER NOT NULL DEFAULT 0);
CREATE TABLE lm_calls(
  id INTEGER PRIMARY KEY, prompt_id INTEGER NOT NULL, samples INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, ms REAL NOT NULL, error TEXT NOT NULL);
CREATE TABLE children(
  id INTEGER PRIMARY KEY, round INTEGER NOT NULL, prompt_id INTEGER NOT NULL, sample INTEGER NOT NULL,
  kind TEXT NOT NULL, name TEXT NOT NULL UNIQUE, repair_of INTEGER NOT NULL, lm TEXT NOT NULL,
  temperature REAL NOT NULL, completion TEXT NOT NULL, source TEXT NOT NULL, token_hash TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
  verdict TEXT NOT NULL, rule TEXT NOT NULL, message TEXT NOT NULL, diagnostics TEXT NOT NULL,
  duplicate_of INTEGER NOT NULL, params_used INTEGER NOT NULL, params_total INTEGER NOT NULL,
  val_acc REAL NOT NULL, best_step INTEGER NOT NULL, test_acc REAL NOT NULL, fitness REAL NOT NULL,
  compile_ms REAL NOT NULL, train_ms REAL NOT NULL, total_ms REAL NOT NULL, in_history INTEGER NOT NULL,
  step_path TEXT NOT NULL DEFAULT '');
-- GETTOP(G, p) after round `round`: the next round's parents, retired from G from then on.
CREATE TABLE selections(round INTEGER NOT NULL, rank INTEGER NOT NULL, child_id INTEGER NOT NULL,
  PRIMARY KEY(round, rank));
CREATE TABLE workers(slot INTEGER PRIMARY KEY, pid INTEGER NOT NULL, state TEXT NOT NULL,
  children INTEGER NOT NULL, restarts INTEGER NOT NULL, last_exit TEXT NOT NULL,
  updated_at TEXT NOT NULL DEFAULT (datetime('now')), rank INTEGER NOT NULL DEFAULT 0,
  host TEXT NOT NULL DEFAULT '');
)sql";

// `reeval`'s rows: one per re-training of an answer child, made on first
// use too (a format-2 journal may predate it).
const char* kReevalSchema = R"sql(
CREATE TABLE IF NOT EXISTS reevals(child_id INTEGER NOT NULL, k INTEGER NOT NULL, train_seed INTEGER NOT NULL,
  verdict TEXT NOT NULL, message TEXT NOT NULL, params_used INTEGER NOT NULL, val_acc REAL NOT NULL,
  test_acc REAL NOT NULL, fitness REAL NOT NULL, weights TEXT NOT NULL, PRIMARY KEY(child_id, k));
)sql";

// One prepared statement, finalised on every path.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  void run() {
    while (step()) {
    }
  }
  std::int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
  double f64(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c))) : std::string();
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
    return *this;
  }
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("journal: ") + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when an exception leaves the scope.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { exec("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    exec("COMMIT");
    done_ = true;
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(std::string("journal: ") + sql + ": " + msg);
    }
  }
  sqlite3* db_;
  bool done_ = false;
};

std::string ids_json(const std::vector<std::int64_t>& ids) { return nlohmann::json(ids).dump(); }
std::vector<std::int64_t> ids_from(const std::string& text) {
  return nlohmann::json::parse(text).get<std::vector<std::int64_t>>();
}

const char* kChildColumns =
    "round, prompt_id, sample, kind, name, repair_of, lm, temperature, completion, source, token_hash, "
    "prompt_tokens, completion_tokens, verdict, rule, message, diagnostics, duplicate_of, params_used, "
    "params_total, val_acc, best_step, test_acc, fitness, compile_ms, train_ms, total_ms, in_history, step_path";
constexpr int kChildColumnCount = 29;

void bind_child(Statement& s, const ChildRecord& c) {
  int i = 1;
  s.bind(i++, c.round).bind(i++, c.prompt_id).bind(i++, c.sample).bind(i++, c.kind).bind(i++, c.name);
  s.bind(i++, c.repair_of).bind(i++, c.lm).bind(i++, c.temperature).bind(i++, c.completion).bind(i++, c.source);
  s.bind(i++, c.token_hash).bind(i++, c.prompt_tokens).bind(i++, c.completion_tokens).bind(i++, std::string(to_string(c.verdict)));
  s.bind(i++, c.rule).bind(i++, c.message).bind(i++, nlohmann::json(c.diagnostics).dump());
  s.bind(i++, c.duplicate_of).bind(i++, c.params_used).bind(i++, c.params_total).bind(i++, c.val_acc);
  s.bind(i++, c.best_step).bind(i++, c.test_acc).bind(i++, c.fitness).bind(i++, c.compile_ms);
  s.bind(i++, c.train_ms).bind(i++, c.total_ms).bind(i++, static_cast<std::int64_t>(c.in_history));
  s.bind(i++, c.step_path);
}

ChildRecord read_child(const Statement& s) {
  ChildRecord c;
  int i = 0;
  c.id = s.i64(i++);
  c.round = static_cast<int>(s.i64(i++));
  c.prompt_id = s.i64(i++);
  c.sample = static_cast<int>(s.i64(i++));
  c.kind = s.text(i++);
  c.name = s.text(i++);
  c.repair_of = s.i64(i++);
  c.lm = s.text(i++);
  c.temperature = s.f64(i++);
  c.completion = s.text(i++);
  c.source = s.text(i++);
  c.token_hash = s.text(i++);
  c.prompt_tokens = s.i64(i++);
  c.completion_tokens = s.i64(i++);
  const std::string verdict = s.text(i++);
  const auto kind = verdict_from_string(verdict);
  if (!kind) throw std::runtime_error("journal: child " + std::to_string(c.id) + " has an unknown verdict '" + verdict + "'");
  c.verdict = *kind;
  c.rule = s.text(i++);
  c.message = s.text(i++);
  c.diagnostics = nlohmann::json::parse(s.text(i++)).get<std::vector<std::string>>();
  c.duplicate_of = s.i64(i++);
  c.params_used = s.i64(i++);
  c.params_total = s.i64(i++);
  c.val_acc = s.f64(i++);
  c.best_step = s.i64(i++);
  c.test_acc = s.f64(i++);
  c.fitness = s.f64(i++);
  c.compile_ms = s.f64(i++);
  c.train_ms = s.f64(i++);
  c.total_ms = s.f64(i++);
  c.in_history = s.i64(i++) != 0;
  c.step_path = s.text(i++);
  return c;
}

std::string insert_child_sql() {
  std::string q = std::string("INSERT INTO children(") + kChildColumns + ") VALUES(";
  for (int i = 0; i < kChildColumnCount; ++i) q += i ? ",?" : "?";
  return q + ")";
}

sqlite3* open_db(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("journal: cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

}  // namespace

std::string Journal::path_in(const std::string& run_dir) { return run_dir + "/journal.sqlite"; }

std::string Journal::sqlite_version() { return sqlite3_libversion(); }

Journal Journal::create(const std::string& run_dir, const std::map<std::string, std::string>& meta) {
  const std::string path = path_in(run_dir);
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (ec) throw std::runtime_error("cannot create run folder " + run_dir + ": " + ec.message());
  if (std::filesystem::exists(path)) throw std::runtime_error(run_dir + " already holds a run (use --resume, or another --run)");
  // Built under a temporary name and renamed, so a half-made journal never exists.
  const std::string tmp = path + ".creating";
  std::filesystem::remove(tmp, ec);
  {
    Journal j(open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    j.exec("PRAGMA journal_mode=DELETE");
    Transaction tx(j.db_);
    j.exec(kSchema);
    j.exec(kReevalSchema);
    for (const auto& [key, value] : meta) j.set_meta(key, value);
    j.set_meta("journal_format", std::to_string(kFormat));
    tx.commit();
  }
  std::filesystem::rename(tmp, path);
  return open(run_dir);
}

bool Journal::exists(const std::string& run_dir) { return std::filesystem::is_regular_file(path_in(run_dir)); }

Journal Journal::open(const std::string& run_dir) {
  const std::string path = path_in(run_dir);
  if (!exists(run_dir)) throw std::invalid_argument(run_dir + ": no run journal here (" + path + ")");
  Journal j(open_db(path, SQLITE_OPEN_READWRITE));
  j.exec("PRAGMA journal_mode=WAL");
  j.exec("PRAGMA synchronous=FULL");
  Statement check(j.db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='children'");
  if (!check.step() || check.i64(0) != 1) throw std::runtime_error(path + " is not an evoprompt journal");
  const std::string format = j.meta("journal_format").value_or("1");
  if (format != std::to_string(kFormat))
    throw std::runtime_error(run_dir + ": a journal of format " + format + "; this evoprompt reads format " +
                             std::to_string(kFormat) + " only (start a new run)");
  // Format-2 journals made before MPI ranks lack the workers' rank and host.
  Statement columns(j.db_, "SELECT count(*) FROM pragma_table_info('workers') WHERE name='rank'");
  if (columns.step() && columns.i64(0) == 0) {
    j.exec("ALTER TABLE workers ADD COLUMN rank INTEGER NOT NULL DEFAULT 0");
    j.exec("ALTER TABLE workers ADD COLUMN host TEXT NOT NULL DEFAULT ''");
  }
  // ... and those made before CUDA graphs, the children's step path.
  Statement step_path(j.db_, "SELECT count(*) FROM pragma_table_info('children') WHERE name='step_path'");
  if (step_path.step() && step_path.i64(0) == 0)
    j.exec("ALTER TABLE children ADD COLUMN step_path TEXT NOT NULL DEFAULT ''");
  return j;
}

Journal::Journal(sqlite3* db) : db_(db) {}
Journal::Journal(Journal&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    sqlite3_close(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}
Journal::~Journal() { sqlite3_close(db_); }

void Journal::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("journal: " + msg);
  }
}

void Journal::set_meta(const std::string& key, const std::string& value) {
  Statement(db_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
      .bind(1, key)
      .bind(2, value)
      .run();
}

std::optional<std::string> Journal::meta(const std::string& key) const {
  Statement s(db_, "SELECT value FROM meta WHERE key=?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

std::int64_t Journal::insert_child(const ChildRecord& child) {
  Statement s(db_, insert_child_sql().c_str());
  bind_child(s, child);
  s.run();
  return sqlite3_last_insert_rowid(db_);
}

std::vector<std::int64_t> Journal::insert_children(const std::vector<ChildRecord>& children, const LmCallRecord& call) {
  Transaction tx(db_);
  Statement(db_, "INSERT INTO lm_calls(prompt_id, samples, prompt_tokens, completion_tokens, ms, error) VALUES(?,?,?,?,?,?)")
      .bind(1, call.prompt_id)
      .bind(2, call.samples)
      .bind(3, call.prompt_tokens)
      .bind(4, call.completion_tokens)
      .bind(5, call.ms)
      .bind(6, call.error)
      .run();
  std::vector<std::int64_t> ids;
  for (const auto& c : children) ids.push_back(insert_child(c));
  tx.commit();
  return ids;
}

void Journal::update_child(const ChildRecord& c) {
  std::string q = "UPDATE children SET (";
  q += kChildColumns;
  q += ") = (";
  for (int i = 0; i < kChildColumnCount; ++i) q += i ? ",?" : "?";
  q += ") WHERE id=?";
  Statement s(db_, q.c_str());
  bind_child(s, c);
  s.bind(kChildColumnCount + 1, c.id);
  s.run();
  if (sqlite3_changes(db_) != 1) throw std::runtime_error("journal: no child with id " + std::to_string(c.id));
}

std::vector<ChildRecord> Journal::children() const {
  Statement s(db_, (std::string("SELECT id, ") + kChildColumns + " FROM children ORDER BY id").c_str());
  std::vector<ChildRecord> out;
  while (s.step()) out.push_back(read_child(s));
  return out;
}

std::optional<ChildRecord> Journal::child(std::int64_t id) const {
  Statement s(db_, (std::string("SELECT id, ") + kChildColumns + " FROM children WHERE id=?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_child(s);
}

std::optional<ChildRecord> Journal::child_by_name(const std::string& name) const {
  Statement s(db_, (std::string("SELECT id, ") + kChildColumns + " FROM children WHERE name=?").c_str());
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_child(s);
}

std::int64_t Journal::insert_prompt(const PromptRecord& p) {
  Statement(db_,
            "INSERT INTO prompts(round, idx, text, parent_ids, target_params, target_val_acc, seed, repair_of) "
            "VALUES(?,?,?,?,?,?,?,?)")
      .bind(1, p.round)
      .bind(2, p.index)
      .bind(3, p.text)
      .bind(4, ids_json(p.parent_ids))
      .bind(5, p.target_params)
      .bind(6, p.target_val_acc)
      .bind(7, static_cast<std::int64_t>(p.seed))
      .bind(8, p.repair_of)
      .run();
  return sqlite3_last_insert_rowid(db_);
}

std::vector<PromptRecord> Journal::prompts() const {
  Statement s(db_,
              "SELECT id, round, idx, text, parent_ids, target_params, target_val_acc, seed, repair_of FROM prompts "
              "ORDER BY id");
  std::vector<PromptRecord> out;
  while (s.step()) {
    PromptRecord p;
    p.id = s.i64(0);
    p.round = static_cast<int>(s.i64(1));
    p.index = static_cast<int>(s.i64(2));
    p.text = s.text(3);
    p.parent_ids = ids_from(s.text(4));
    p.target_params = s.i64(5);
    p.target_val_acc = s.f64(6);
    p.seed = static_cast<std::uint64_t>(s.i64(7));
    p.repair_of = s.i64(8);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<LmCallRecord> Journal::lm_calls() const {
  Statement s(db_, "SELECT prompt_id, samples, prompt_tokens, completion_tokens, ms, error FROM lm_calls ORDER BY id");
  std::vector<LmCallRecord> out;
  while (s.step())
    out.push_back({s.i64(0), static_cast<int>(s.i64(1)), s.i64(2), s.i64(3), s.f64(4), s.text(5)});
  return out;
}

void Journal::start_round(const RoundRecord& r) {
  Statement(db_, "INSERT INTO rounds(round, rng_state, parent_pool) VALUES(?,?,?)")
      .bind(1, r.round)
      .bind(2, r.rng_state)
      .bind(3, ids_json(r.parent_pool))
      .run();
}

namespace {
RoundRecord read_round(const Statement& s) {
  RoundRecord r;
  r.round = static_cast<int>(s.i64(0));
  r.rng_state = s.text(1);
  r.parent_pool = ids_from(s.text(2));
  r.finished = !s.text(3).empty();
  r.tune = s.text(4);
  return r;
}
}  // namespace

std::optional<RoundRecord> Journal::round(int t) const {
  Statement s(db_, "SELECT round, rng_state, parent_pool, ifnull(finished_at,''), ifnull(tune,'') FROM rounds WHERE round=?");
  s.bind(1, t);
  if (!s.step()) return std::nullopt;
  return read_round(s);
}

std::vector<RoundRecord> Journal::rounds() const {
  Statement s(db_, "SELECT round, rng_state, parent_pool, ifnull(finished_at,''), ifnull(tune,'') FROM rounds ORDER BY round");
  std::vector<RoundRecord> out;
  while (s.step()) out.push_back(read_round(s));
  return out;
}

void Journal::finish_round(int t, const std::vector<std::int64_t>& selected, const std::string& tune_json) {
  Transaction tx(db_);
  for (std::size_t rank = 0; rank < selected.size(); ++rank)
    Statement(db_, "INSERT INTO selections(round, rank, child_id) VALUES(?,?,?)")
        .bind(1, t)
        .bind(2, static_cast<std::int64_t>(rank))
        .bind(3, selected[rank])
        .run();
  Statement(db_, "UPDATE rounds SET finished_at=datetime('now'), tune=? WHERE round=?").bind(1, tune_json).bind(2, t).run();
  if (sqlite3_changes(db_) != 1) throw std::runtime_error("journal: round " + std::to_string(t) + " was never started");
  tx.commit();
}

std::vector<std::int64_t> Journal::selections(int t) const {
  Statement s(db_, "SELECT child_id FROM selections WHERE round=? ORDER BY rank");
  s.bind(1, t);
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.i64(0));
  return out;
}

void Journal::record_reeval(const ReevalRecord& r) {
  exec(kReevalSchema);  // journals made before `reeval` existed lack the table
  Statement(db_,
            "INSERT OR REPLACE INTO reevals(child_id, k, train_seed, verdict, message, params_used, val_acc, test_acc, "
            "fitness, weights) VALUES(?,?,?,?,?,?,?,?,?,?)")
      .bind(1, r.child_id)
      .bind(2, r.k)
      .bind(3, r.train_seed)
      .bind(4, std::string(to_string(r.verdict)))
      .bind(5, r.message)
      .bind(6, r.params_used)
      .bind(7, r.val_acc)
      .bind(8, r.test_acc)
      .bind(9, r.fitness)
      .bind(10, r.weights)
      .run();
}

std::vector<ReevalRecord> Journal::reevals() const {
  std::vector<ReevalRecord> out;
  Statement table(db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='reevals'");
  if (!table.step() || table.i64(0) == 0) return out;
  Statement s(db_,
              "SELECT child_id, k, train_seed, verdict, message, params_used, val_acc, test_acc, fitness, weights "
              "FROM reevals ORDER BY child_id, k");
  while (s.step()) {
    ReevalRecord r;
    r.child_id = s.i64(0);
    r.k = static_cast<int>(s.i64(1));
    r.train_seed = s.i64(2);
    r.verdict = verdict_from_string(s.text(3)).value_or(VerdictKind::pending);
    r.message = s.text(4);
    r.params_used = s.i64(5);
    r.val_acc = s.f64(6);
    r.test_acc = s.f64(7);
    r.fitness = s.f64(8);
    r.weights = s.text(9);
    out.push_back(std::move(r));
  }
  return out;
}

void Journal::record_worker(const WorkerRecord& w) {
  Statement(db_,
            "INSERT INTO workers(slot, pid, state, children, restarts, last_exit, rank, host) VALUES(?,?,?,?,?,?,?,?) "
            "ON CONFLICT(slot) DO UPDATE SET pid=excluded.pid, state=excluded.state, children=excluded.children, "
            "restarts=excluded.restarts, last_exit=excluded.last_exit, rank=excluded.rank, host=excluded.host, "
            "updated_at=datetime('now')")
      .bind(1, w.slot)
      .bind(2, w.pid)
      .bind(3, w.state)
      .bind(4, w.children)
      .bind(5, w.restarts)
      .bind(6, w.last_exit)
      .bind(7, w.rank)
      .bind(8, w.host)
      .run();
}

std::vector<WorkerRecord> Journal::workers() const {
  Statement s(db_, "SELECT slot, pid, state, children, restarts, last_exit, rank, host FROM workers ORDER BY slot");
  std::vector<WorkerRecord> out;
  while (s.step())
    out.push_back({static_cast<int>(s.i64(0)), static_cast<int>(s.i64(1)), s.text(2), s.i64(3),
                   static_cast<int>(s.i64(4)), s.text(5), static_cast<int>(s.i64(6)), s.text(7)});
  return out;
}

}  // namespace evoprompt::engine
