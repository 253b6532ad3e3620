#include "run.hpp"

#include <filesystem>

#include "local_lm_options.hpp"
#include "rank_workers.hpp"
#include "reeval.hpp"

namespace evoprompt::engine {

// Members in the order of their lifetimes: the workers report to the
// journal until they stop, and the lock outlives both.
struct Run::State {
  std::string dir;
  RunSettings settings;
  MpiJob* job = nullptr;        // the MPI job whose other ranks host the workers, if any
  std::optional<RunLock> lock;  // this process is the run's one driver while it holds this
  std::unique_ptr<Journal> journal;
  std::unique_ptr<codegen::LanguageModel> lm;
  std::unique_ptr<Evaluator> evaluator;
  TaskWorkers* pool = nullptr;  // `evaluator`, when it has workers
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
  // Round 0 samples from the plain LM in every mode, so that the arms differ
  // only once TRAIN has run; the soft prompt (16 embeddings of random
  // vocabulary tokens, as in prompt-tuning) is the start of the first tune.
  codegen::lm::LocalLmOptions local;
  const bool tunes = s.evolution.mode == Mode::evoprompting || s.evolution.mode == Mode::random_parents;
  local.soft_prompt_tokens = tunes ? s.lm.soft_prompt_tokens : 0;
  local.tune_epochs = s.lm.tune_epochs;
  local.tune_batch = s.lm.tune_batch;
  local.tune_lr = s.lm.tune_lr;
  local.seed = s.evolution.seed;
  // With workers, the LM's share of cuda:0 is what they were not given;
  // in process, training shares the LM's process and is not capped.
  local.gpu_memory_fraction = s.workers.in_process ? 0.0 : s.lm.gpu_memory;
  try {
    return codegen::lm::make_local_language_model(spec.arg, local);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    throw codegen::LanguageModelError("--lm " + s.lm.spec + ": " + message.substr(0, message.find('\n')));
  }
}

// The run's evaluator for `task`: its workers (`pool` set), on this machine
// or on the MPI job's other ranks, or in process.
std::unique_ptr<Evaluator> make_run_evaluator(const RunSettings& s, const tasks::TaskConfig& task, MpiJob* job,
                                              TaskWorkers** pool) {
  const bool ranks = job && job->size() > 1;
  if (s.workers.in_process) {
    if (ranks) throw std::invalid_argument("--in-process evaluates in the driver: it takes no MPI ranks (run it without mpirun)");
    return tasks::make_evaluator(task);
  }
  WorkerPoolOptions o;
  o.workers = s.workers.workers;
  o.workers_per_gpu = s.workers.workers_per_gpu;
  o.task = task;
  o.limits = s.workers.limits;
  if (codegen::parse_lm_spec(s.lm.spec).kind == codegen::LmSpec::Kind::local) o.lm_gpu_memory = s.lm.gpu_memory;
  if (!s.lm.api_key_env.empty()) o.secret_variables.push_back(s.lm.api_key_env);
  std::unique_ptr<TaskWorkers> made;
  if (ranks)
    made = std::make_unique<RankWorkers>(*job, o);
  else
    made = std::make_unique<WorkerPool>(o);
  if (pool) *pool = made.get();
  return made;
}

// The evaluator, and then the embedded LM (after the fork).
void start_compute(Run::State& st) {
  st.evaluator = make_run_evaluator(st.settings, st.settings.task, st.job, &st.pool);
  if (!st.lm) st.lm = load_local_lm(st.settings);
}
}  // namespace

Run::Run(std::unique_ptr<State> state) : state_(std::move(state)) {}
Run::Run(Run&&) noexcept = default;
Run& Run::operator=(Run&&) noexcept = default;
Run::~Run() = default;

Run Run::start(const std::string& dir, RunSettings settings, MpiJob* job) {
  auto st = std::make_unique<State>();
  st->dir = dir;
  st->job = job;
  st->settings = std::move(settings);
  RunLock::check_free(dir);
  if (Journal::exists(dir)) throw std::invalid_argument(dir + " already holds a run (use --resume, or another --run)");
  st->lm = check_lm(st->settings.lm);
  start_compute(*st);
  st->lock.emplace(RunLock::acquire(dir));
  st->journal = std::make_unique<Journal>(Journal::create(dir, run_meta(st->settings, st->evaluator->describe())));
  return Run(std::move(st));
}

Run Run::resume(const std::string& dir, MpiJob* job) {
  auto st = std::make_unique<State>();
  st->dir = dir;
  st->job = job;
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
      j->record_worker({w.slot, w.pid, w.state, w.children, w.restarts, w.last_exit, w.rank, w.host});
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
  evolution.overlap_lm_calls(st.settings.lm.concurrency);
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

void Run::reevaluate(int k, const std::function<void(const ReevalRecord&)>& on_row) {
  State& st = *state_;
  if (k < 1) throw std::invalid_argument("--reeval must be at least 1 (re-trainings per child)");
  if (!finished()) throw std::invalid_argument(st.dir + ": the search has not finished (evolve --resume it first)");
  // The search's workers are done: the re-trainings start their own, a
  // set per training seed.
  st.pool = nullptr;
  st.evaluator.reset();
  // Every task has the options `seed` and (machine-scoped) `weights_dir`.
  const tasks::TaskConfig& task = st.settings.task;
  const std::int64_t base_seed = task.options.at("seed").get<std::int64_t>();
  auto evaluator_for = [&](std::int64_t seed, const std::string& weights_dir) {
    nlohmann::json options = task.options;
    options["seed"] = seed;
    options["weights_dir"] = std::filesystem::absolute(weights_dir).string();
    return make_run_evaluator(st.settings, tasks::task_config(task.name, options), st.job, nullptr);
  };
  engine::reevaluate(*st.journal, st.dir, summarize(*st.journal).top, k, base_seed, evaluator_for, on_row);
}

}  // namespace evoprompt::engine
