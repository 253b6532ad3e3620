#include "run.hpp"

#include <filesystem>

#include "local_lm_options.hpp"

namespace evoprompt::engine {

// Members in the order of their lifetimes: the workers report to the
// journal until they stop, and the lock outlives both.
struct Run::State {
  std::string dir;
  RunSettings settings;
  std::optional<RunLock> lock;  // this process is the run's one driver while it holds this
  std::unique_ptr<Journal> journal;
  std::unique_ptr<codegen::LanguageModel> lm;
  std::unique_ptr<Evaluator> evaluator;
  WorkerPool* pool = nullptr;   // `evaluator`, when it is the worker pool
};

namespace {

// The LM before anything is spent on the run. An embedded LM is only
// checked here: it loads after the workers have started (they are forked,
// and nothing may fork once this process has a CUDA context).
std::unique_ptr<codegen::LanguageModel> check_lm(const codegen::LmSettings& settings) {
  const codegen::LmSpec spec = codegen::parse_lm_spec(settings.spec);
  if (spec.kind == codegen::LmSpec::Kind::local) {
    try {
      codegen::lm::check_local_model_dir(spec.arg);
    } catch (const std::exception& e) {
      throw codegen::LanguageModelError("--lm " + settings.spec + ": " + e.what());
    }
    return nullptr;
  }
  auto lm = codegen::make_language_model(settings);
  lm->check_ready();
  return lm;
}

std::unique_ptr<codegen::LanguageModel> load_local_lm(const RunSettings& s) {
  const codegen::LmSpec spec = codegen::parse_lm_spec(s.lm.spec);
  // The soft prompt is part of the model from the first prompt on (16
  // embeddings of random vocabulary tokens), as in prompt-tuning; the modes
  // that never tune sample from the plain LM.
  codegen::lm::LocalLmOptions local;
  const bool tunes = s.evolution.mode == Mode::evoprompting || s.evolution.mode == Mode::random_parents;
  local.soft_prompt_tokens = tunes ? s.lm.soft_prompt_tokens : 0;
  local.tune_epochs = s.lm.tune_epochs;
  local.tune_batch = s.lm.tune_batch;
  local.tune_lr = s.lm.tune_lr;
  local.seed = s.evolution.seed;
  local.prefix_before_tuning = true;
  try {
    return codegen::lm::make_local_language_model(spec.arg, local);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    throw codegen::LanguageModelError("--lm " + s.lm.spec + ": " + message.substr(0, message.find('\n')));
  }
}

// The evaluator, and then the embedded LM (after the fork).
void start_compute(Run::State& st) {
  const RunSettings& s = st.settings;
  if (s.workers.in_process) {
    st.evaluator = tasks::make_evaluator(s.task);
  } else {
    WorkerPoolOptions o;
    o.workers = s.workers.workers;
    o.task = s.task;
    o.limits = s.workers.limits;
    if (!s.lm.api_key_env.empty()) o.secret_variables.push_back(s.lm.api_key_env);
    auto pool = std::make_unique<WorkerPool>(o);
    st.pool = pool.get();
    st.evaluator = std::move(pool);
  }
  if (!st.lm) st.lm = load_local_lm(s);
}
}  // namespace

Run::Run(std::unique_ptr<State> state) : state_(std::move(state)) {}
Run::Run(Run&&) noexcept = default;
Run& Run::operator=(Run&&) noexcept = default;
Run::~Run() = default;

Run Run::start(const std::string& dir, RunSettings settings) {
  auto st = std::make_unique<State>();
  st->dir = dir;
  st->settings = std::move(settings);
  RunLock::check_free(dir);
  if (Journal::exists(dir)) throw std::invalid_argument(dir + " already holds a run (use --resume, or another --run)");
  st->lm = check_lm(st->settings.lm);
  start_compute(*st);
  st->lock.emplace(RunLock::acquire(dir));
  st->journal = std::make_unique<Journal>(Journal::create(dir, run_meta(st->settings, st->evaluator->describe())));
  return Run(std::move(st));
}

Run Run::resume(const std::string& dir) {
  auto st = std::make_unique<State>();
  st->dir = dir;
  // Before the lock, which would make the folder.
  if (!Journal::exists(dir)) (void)Journal::open(dir);  // throws: no journal here
  st->lock.emplace(RunLock::acquire(dir));
  st->journal = std::make_unique<Journal>(Journal::open(dir));
  st->settings = stored_run_settings(*st->journal);
  Run r(std::move(st));
  if (r.finished()) return r;
  r.state_->lm = check_lm(r.state_->settings.lm);
  start_compute(*r.state_);
  return r;
}

const RunSettings& Run::settings() const { return state_->settings; }

bool Run::finished() const { return state_->journal->meta("status") == std::optional<std::string>("finished"); }

RunEnd Run::run(ProgressSink progress, const std::atomic<bool>* stop) {
  State& st = *state_;
  Journal& journal = *st.journal;
  journal.set_meta("status", "running");
  if (st.pool) {
    auto record = [j = &journal](const WorkerState& w) {
      j->record_worker({w.slot, w.pid, w.state, w.children, w.restarts, w.last_exit});
    };
    for (const auto& w : st.pool->states()) record(w);
    st.pool->on_state_change(record);
  }
  std::vector<SeedProgram> seeds;
  for (const auto& seed : st.settings.task.task->seeds(st.settings.task.options))
    if (seed.first_parent) seeds.push_back({seed.name, seed.source});
  Evolution evolution(st.settings.evolution, journal, *st.lm, *st.evaluator, std::move(seeds), std::move(progress),
                      stop);
  evolution.keep_lm_state_in(st.dir);
  try {
    evolution.run();
  } catch (const Interrupted&) {
    journal.set_meta("status", "interrupted");
    return RunEnd::interrupted;
  } catch (...) {
    journal.set_meta("status", "stopped");
    throw;
  }
  journal.set_meta("status", "finished");
  return RunEnd::finished;
}

RunSummary Run::summary() const { return summarize(*state_->journal); }

}  // namespace evoprompt::engine
