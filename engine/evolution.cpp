#include "evolution.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <sstream>

#include "extract.hpp"
#include "prompt.hpp"

namespace evoprompt::engine {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<std::int64_t> ids_of(const std::vector<Individual>& xs) {
  std::vector<std::int64_t> ids;
  for (const auto& x : xs) ids.push_back(x.id);
  return ids;
}

// Every random choice comes from a generator keyed by (seed, round, slot), so
// a resumed run draws exactly what the uninterrupted run drew.
std::mt19937_64 keyed_rng(std::uint64_t seed, int round, int slot) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(round + 1), static_cast<std::uint32_t>(slot + 1)};
  return std::mt19937_64(seq);
}
constexpr int kSelectionSlot = -1;  // the round's own generator (random-parents selection)

std::string state_of(const std::mt19937_64& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

codegen::PromptExample as_example(const Individual& x) { return {x.code, {x.params, x.val_acc}}; }

std::string repair_prompt(const ChildRecord& broken, const std::string& opening) {
  std::string text = "/* This program fails to compile:\n";
  for (std::size_t i = 0; i < broken.diagnostics.size() && i < 5; ++i) text += broken.diagnostics[i] + "\n";
  if (broken.diagnostics.empty()) text += broken.message + "\n";
  text += "*/\n" + broken.source + "\n/* The same program with the errors fixed:\n*/\n" + opening;
  return text;
}

}  // namespace

Individual to_individual(const ChildRecord& c) {
  return {c.id, c.name, c.source, c.params_used, c.val_acc, c.fitness};
}

namespace {
std::optional<codegen::TaskHeader> header_of(const Evaluator& evaluator) {
  const auto d = evaluator.data_description();
  if (!d) return std::nullopt;
  return codegen::TaskHeader{d->text, d->input_shape, d->classes};
}
}  // namespace

Evolution::Evolution(EvolutionConfig config, Journal& journal, codegen::LanguageModel& lm, Evaluator& evaluator,
                     std::vector<SeedProgram> seeds, ProgressSink progress, const std::atomic<bool>* stop)
    : config_(std::move(config)),
      journal_(journal),
      lm_(lm),
      evaluator_(evaluator),
      header_(header_of(evaluator)),
      seeds_(std::move(seeds)),
      progress_(std::move(progress)),
      stop_(stop) {
  config_.validate();
}

// One round in flight. Its steps are its LM calls in journal order: a
// prompt's samples, or the repair of one child. Calls run ahead, up to the
// limit, but a step's rows enter the journal only after every earlier
// step's, so ids, duplicates and budget come out as if the steps had run one
// after another, whatever the timing.
struct Evolution::Round {
  struct Step {
    PromptRecord prompt;
    std::vector<double> temperatures;
    std::uint64_t first_sample = 0;
    bool journaled = false;  // its children are in the journal already (a resumed run)
    bool asked = false;      // its LM call has started
    std::size_t call = 0;    // the call's key, once asked
    bool repairs_planned = false;
    std::vector<std::size_t> children;  // indices into Round::children
  };

  int t = 0;
  int samples = 0;
  int prompts = 0;
  bool repair = false;
  std::vector<Individual> parents;  // P
  std::mt19937_64 rng;              // the round's own generator (random-parents selection)
  std::optional<RoundRecord> recorded;
  std::int64_t budget = 0;  // every sample counts, repairs included
  int next_prompt = 0;
  std::vector<Step> steps;
  std::size_t committed = 0;                           // steps[0, committed) are in the journal
  std::deque<ChildRecord> children;                    // the round's, in journal order
  std::vector<char> compiled;                          // per child: it got past the compiler
  std::map<std::int64_t, std::size_t> repair_step_of;  // child id -> the step repairing it
  std::size_t evaluating = 0;                          // children with the evaluator

  bool prompts_left() const { return next_prompt < prompts && budget > 0; }
  bool compile_known(std::size_t k) const { return children[k].verdict != VerdictKind::pending || compiled[k]; }
  // The prompt whose repairs come next: the last one planned.
  std::size_t last_prompt() const {
    std::size_t last = steps.size();
    while (last > 0 && steps[last - 1].prompt.repair_of != 0) --last;
    return last - 1;
  }
  // Every LM call the round will make is planned.
  bool planned() const { return !prompts_left() && (!repair || steps[last_prompt()].repairs_planned); }
  // ... and every answer is in the journal.
  bool settled() const { return planned() && committed == steps.size(); }
  bool done() const { return settled() && evaluating == 0; }
  // A planned LM call has not gone out yet.
  bool waiting_to_ask() const {
    return std::any_of(steps.begin() + static_cast<std::ptrdiff_t>(committed), steps.end(),
                       [](const Step& s) { return !s.journaled && !s.asked; });
  }
};

// Algorithm 1. Up to N rounds are in flight at once (--rounds-in-flight):
// round t's parents are GETTOP(G) after round t-N, the seeds for t < N. The
// paper's N = 1 waits for each round's last child; with N > 1 the next
// round's prompts and children fill the slots while a round drains.
EvolutionResult Evolution::run() {
  started_ = Clock::now();
  prompts_ = journal_.prompts();
  children_ = journal_.children();
  const bool naive = config_.mode == Mode::naive;
  const int rounds = naive ? 1 : config_.rounds;
  // naive: the paper's "samples per prompt are increased": m prompts of T*n.
  const int samples_per_prompt = naive ? config_.rounds * config_.samples : config_.samples;
  const int lag = std::min(config_.rounds_in_flight, rounds);

  EvolutionResult result;
  Population G;
  const std::vector<Individual> seeds = initialize_population();  // lines 1-2
  result.seeds = seeds;
  std::stable_sort(result.seeds.begin(), result.seeds.end(), fitter);
  std::map<int, std::vector<Individual>> parents;  // of the rounds not yet open
  for (int t = 0; t < lag; ++t) parents[t] = seeds;

  LmCalls calls(lm_, lm_concurrency_);
  std::deque<Round> open;  // in round order; a round's address is fixed while it is open
  int next = 0;
  while (next < rounds || !open.empty()) {
    if (stop_ && stop_->load()) interrupt(open);
    // A round opens once its parents are known and the round before it has
    // planned every LM call: prompt rows and samples keep round order.
    while (next < rounds && parents.count(next) && (open.empty() || open.back().planned())) {
      open.emplace_back();
      open_round(open.back(), next, std::move(parents[next]), samples_per_prompt);
      parents.erase(next++);
    }
    // Lines 3-7: a round's answers enter the journal only after every
    // earlier round's, and its calls go out only after theirs.
    bool earlier_settled = true, earlier_asked = true;
    for (Round& r : open) {
      advance(r, calls, earlier_asked, earlier_settled);
      earlier_settled = earlier_settled && r.settled();
      earlier_asked = earlier_asked && !r.waiting_to_ask();
    }
    if (!lm_failure_ && open.front().done() && may_close(open, rounds, lag)) {
      Round& r = open.front();
      std::vector<Individual> selected = close_round(r, G, rounds, lag);  // lines 8-11
      if (r.t + lag < rounds) parents[r.t + lag] = std::move(selected);
      open.pop_front();
      continue;
    }
    if (lm_failure_ && evaluator_.in_flight() == 0) std::rethrow_exception(lm_failure_);
    const auto wait = std::chrono::milliseconds(calls.running() > 0 ? 5 : 50);
    for (const EvaluationEvent& e : evaluator_.poll(wait)) apply(e);
  }

  result.top = G.archive_top(static_cast<std::size_t>(config_.survivors));  // line 15, over the archive: retired parents count
  result.samples_used = samples_used_;
  if (progress_) progress_("done", {{"samples_used", samples_used_}, {"budget", config_.budget()}});
  return result;
}

// INITIALIZEPOPULATION: the seeds, scored like children, form the first P
// but never enter G.
std::vector<Individual> Evolution::initialize_population() {
  std::vector<ChildRecord*> rows;
  for (std::size_t i = 0; i < seeds_.size(); ++i) {
    const SeedProgram& seed = seeds_[i];
    auto it = std::find_if(children_.begin(), children_.end(),
                           [&](const ChildRecord& c) { return c.kind == "seed" && c.name == seed.name; });
    if (it == children_.end()) {
      ChildRecord c;
      c.round = -1;
      c.sample = static_cast<int>(i);
      c.kind = "seed";
      c.name = seed.name;
      c.completion = seed.source;
      c.source = seed.source;
      c.token_hash = evaluator_.fingerprint(seed.source);
      c.id = journal_.insert_child(c);
      children_.push_back(c);
    }
  }
  // Pointers into children_ only after every insert (no reallocation after).
  for (const auto& seed : seeds_)
    for (auto& c : children_)
      if (c.kind == "seed" && c.name == seed.name) rows.push_back(&c);
  std::vector<EvaluationJob> jobs;
  std::vector<ChildRecord*> pending;
  for (ChildRecord* c : rows)
    if (c->verdict == VerdictKind::pending) {
      jobs.push_back({c->source, c->name});
      pending.push_back(c);
    }
  evaluate_all(jobs, [&](std::size_t k) -> ChildRecord& { return *pending[k]; });

  std::vector<Individual> pool;
  std::string failures;
  for (ChildRecord* row : rows) {
    const ChildRecord& c = *row;
    first_with_hash_.emplace(c.token_hash, c.id);
    if (c.verdict == VerdictKind::evaluated) {
      pool.push_back(to_individual(c));
      if (!have_best_ || c.fitness > best_fitness_) best_fitness_ = c.fitness, have_best_ = true;
    } else {
      failures += (failures.empty() ? "" : "; ") + c.name + ": " + to_string(c.verdict) + " " + c.message;
    }
    if (progress_)
      progress_("seed", {{"name", c.name}, {"verdict", to_string(c.verdict)}, {"params", c.params_used}, {"val_acc", c.val_acc},
                         {"test_acc", c.test_acc}, {"fitness", c.fitness}});
  }
  if (pool.empty()) throw std::runtime_error("no seed could be evaluated (" + failures + ")");
  return pool;
}

// CROSSMUT begins (Algorithm 2): P is fixed, so all m prompts are planned at
// once; with --repair, a prompt's sample count depends on the repairs before
// it, so the next prompt waits until the previous prompt's children are past
// the compiler.
void Evolution::open_round(Round& r, int t, std::vector<Individual> P, int samples) {
  r.t = t;
  r.samples = samples;
  r.prompts = config_.prompts;
  r.repair = config_.repair;
  r.parents = std::move(P);
  r.rng = keyed_rng(config_.seed, t, kSelectionSlot);
  r.budget = static_cast<std::int64_t>(config_.prompts) * samples;
  r.recorded = journal_.round(t);
  if (!r.recorded) {
    journal_.start_round({t, state_of(r.rng), ids_of(r.parents), false, ""});
  } else if (r.recorded->parent_pool != ids_of(r.parents) || r.recorded->rng_state != state_of(r.rng)) {
    throw std::runtime_error("journal: round " + std::to_string(t) +
                             " started from other parents or another seed than this run replays");
  }
  if (progress_) progress_("round_start", {{"round", t}, {"rounds", config_.mode == Mode::naive ? 1 : config_.rounds},
                                           {"parents", ids_of(r.parents)}});
  do plan_prompt(r, r.next_prompt++);
  while (!r.repair && r.prompts_left());
}

// Algorithms 2 and 3 as a pipeline: the round's LM calls go out while
// earlier children train, each answer is committed in step order once
// `may_commit` (every earlier round is settled), and each child goes to a
// free worker as soon as it is screened.
void Evolution::advance(Round& r, LmCalls& calls, bool may_ask, bool may_commit) {
  for (bool again = true; again;) {
    again = false;
    for (std::size_t s = r.committed; may_ask && s < r.steps.size() && !lm_failure_; ++s) {
      Round::Step& step = r.steps[s];
      if (step.journaled || step.asked) continue;
      codegen::SampleRequest request = request_for(step.prompt, step.temperatures, step.first_sample);
      if (!calls.can_start(request)) break;  // in step order: a later call never overtakes this one
      step.call = next_call_++;
      calls.start(step.call, std::move(request));
      step.asked = true;
    }
    while (may_commit && r.committed < r.steps.size() && !lm_failure_) {
      std::optional<LmAnswer> answer;
      if (!r.steps[r.committed].journaled) {
        try {
          answer = calls.take(r.steps[r.committed].call);
        } catch (...) {
          lm_failure_ = std::current_exception();  // raised once the children in flight are done
          break;
        }
        if (!answer) break;
      }
      commit(r, r.committed, std::move(answer));
      ++r.committed;
    }
    if (!r.repair || lm_failure_) continue;
    // The last prompt's repairs, then the next prompt, once its children's compile verdicts are in.
    const std::size_t last = r.last_prompt();
    const Round::Step& prompt = r.steps[last];
    const bool known = last < r.committed && std::all_of(prompt.children.begin(), prompt.children.end(),
                                                         [&](std::size_t k) { return r.compile_known(k); });
    if (!prompt.repairs_planned && known) {
      plan_repairs(r, last);
      if (r.prompts_left()) plan_prompt(r, r.next_prompt++);
      again = true;
    }
  }
}

// The front round may close once it is done, except that a close which
// tunes (or restores) the LM waits until every later round in flight has all
// its answers: those rounds sample from the LM as it was before this close.
bool Evolution::may_close(const std::deque<Round>& open, int rounds, int lag) const {
  if (!open.front().done()) return false;
  if (open.front().t + lag >= rounds || !tunes()) return true;
  return std::all_of(open.begin() + 1, open.end(), [](const Round& r) { return r.settled(); });
}

// Lines 8-11: the round's kept children enter G, the next parents are
// selected, and the LM is tuned on the rest.
std::vector<Individual> Evolution::close_round(Round& r, Population& G, int rounds, int lag) {
  const std::vector<Individual> evaluated = kept_children(r);
  for (const auto& c : evaluated) G.add(c);  // line 8

  std::vector<Individual> next;
  nlohmann::json tune = nlohmann::json::object();
  const bool finished = r.recorded && r.recorded->finished;
  if (r.t + lag < rounds) {
    const auto p = static_cast<std::size_t>(config_.survivors);
    next = config_.mode == Mode::random_parents ? G.draw_random(p, r.rng) : G.get_top(p);  // line 10
    if (next.empty()) next = r.parents;  // nothing entered G yet: prompt from the same parents again
    if (finished) {
      if (journal_.selections(r.t) != ids_of(next))
        throw std::runtime_error("journal: the selection after round " + std::to_string(r.t) + " differs on replay");
      restore_lm_state(r.recorded->tune);
    } else {
      const codegen::TuneReport report = train(evaluated, next);  // line 11
      tune = {{"tuned", report.tuned}, {"loss_before", report.loss_before}, {"loss_after", report.loss_after},
              {"detail", report.detail}};
      if (report.tuned) tune["state"] = keep_lm_state(r.t);
    }
  }
  if (!finished) journal_.finish_round(r.t, ids_of(next), tune.dump());
  if (progress_)
    progress_("round_end", {{"round", r.t}, {"selected", ids_of(next)}, {"kept", evaluated.size()}, {"tune", tune}});
  return next;
}

// The round's kept children in the order of the steps run one by one: each
// prompt's children, a repair right after the child it repairs.
std::vector<Individual> Evolution::kept_children(const Round& r) const {
  std::vector<Individual> evaluated;
  for (const Round::Step& step : r.steps) {
    if (step.prompt.repair_of != 0) continue;
    for (std::size_t k : step.children) {
      if (r.children[k].in_history) evaluated.push_back(to_individual(r.children[k]));
      if (auto fix = r.repair_step_of.find(r.children[k].id); fix != r.repair_step_of.end())
        for (std::size_t f : r.steps[fix->second].children)
          if (r.children[f].in_history) evaluated.push_back(to_individual(r.children[f]));
    }
  }
  return evaluated;
}

// In-flight children stay pending (evaluated again on resume), marked.
void Evolution::interrupt(std::deque<Round>& open) {
  evaluator_.abandon();
  for (Round& r : open)
    for (ChildRecord& c : r.children)
      if (c.verdict == VerdictKind::pending) {
        c.message = "abandoned: the run was interrupted";
        save(c);
      }
  throw Interrupted();
}

// Prompt `index` of the round: k parents i.i.d. uniform with replacement, a
// temperature per sample, the LM's seed, all from the prompt's own generator.
void Evolution::plan_prompt(Round& r, int index) {
  std::mt19937_64 rng = keyed_rng(config_.seed, r.t, index);
  const std::vector<Individual>& P = r.parents;
  std::uniform_int_distribution<std::size_t> uniform_parent(0, P.size() - 1);
  std::vector<Individual> examples;
  for (int j = 0; j < config_.parents; ++j) examples.push_back(P[uniform_parent(rng)]);
  std::uniform_int_distribution<std::size_t> uniform_temperature(0, config_.temperatures.size() - 1);
  Round::Step step;
  const auto n = std::min<std::int64_t>(r.samples, r.budget);
  for (std::int64_t j = 0; j < n; ++j) step.temperatures.push_back(config_.temperatures[uniform_temperature(rng)]);
  const std::uint64_t lm_seed = rng();
  step.prompt = prompt_for(r.t, index, examples, lm_seed, 0, "");
  step.first_sample = static_cast<std::uint64_t>(samples_used_);
  step.journaled = in_journal(step.prompt.id);
  samples_used_ += n;
  r.budget -= n;
  r.steps.push_back(std::move(step));
}

// One fix attempt for each of the step's children that did not compile, in
// order, while the round's budget lasts.
void Evolution::plan_repairs(Round& r, std::size_t s) {
  r.steps[s].repairs_planned = true;
  const std::vector<std::size_t> children = r.steps[s].children;
  for (std::size_t k : children) {
    const ChildRecord& broken = r.children[k];
    if (broken.kind != "sample" || broken.verdict != VerdictKind::compile_error || r.budget <= 0) continue;
    Round::Step step;
    // The same prompt slot could hold fixes of two children: key it by the child.
    step.prompt = prompt_for(broken.round, broken.sample, {}, broken.id, broken.id,
                             repair_prompt(broken, evaluator_.opening()));
    step.temperatures = {broken.temperature};
    step.first_sample = static_cast<std::uint64_t>(samples_used_);
    step.journaled = in_journal(step.prompt.id);
    samples_used_ += 1;
    r.budget -= 1;
    r.repair_step_of[broken.id] = r.steps.size();
    r.steps.push_back(std::move(step));
  }
}

bool Evolution::in_journal(std::int64_t prompt_id) const {
  return std::any_of(children_.begin(), children_.end(), [&](const ChildRecord& c) { return c.prompt_id == prompt_id; });
}

// A step's children into the journal (unless they are there already), then
// screened in order; those left go to the evaluator.
void Evolution::commit(Round& r, std::size_t s, std::optional<LmAnswer> answer) {
  Round::Step& step = r.steps[s];
  std::vector<ChildRecord> rows;
  if (answer) {
    rows = record_children(step.prompt, step.temperatures, *answer);
  } else {
    for (const auto& c : children_)
      if (c.prompt_id == step.prompt.id) rows.push_back(c);
  }
  for (ChildRecord& row : rows) {
    const std::size_t k = r.children.size();
    r.children.push_back(std::move(row));
    r.compiled.push_back(0);
    step.children.push_back(k);
    ChildRecord& child = r.children.back();
    if (child.verdict == VerdictKind::pending && screen(child)) {
      const std::size_t ticket = next_ticket_++;
      tickets_[ticket] = {&r, k};
      ++r.evaluating;
      evaluator_.submit(ticket, {child.source, child.name});
      continue;
    }
    if (child.verdict != VerdictKind::lm_error) first_with_hash_.emplace(child.token_hash, child.id);
    report_child(child);
  }
}

void Evolution::apply(const EvaluationEvent& e) {
  const auto it = tickets_.find(e.ticket);
  if (it == tickets_.end()) return;
  auto [r, k] = it->second;
  if (e.kind == EvaluationEvent::Kind::compiled) {
    r->compiled[k] = 1;
    return;
  }
  tickets_.erase(it);
  --r->evaluating;
  ChildRecord& c = r->children[k];
  set_result(c, e.result);
  save(c);
  report_child(c);
}

PromptRecord Evolution::prompt_for(int t, int index, const std::vector<Individual>& examples, std::uint64_t seed,
                                   std::int64_t repair_of, const std::string& repair_text) {
  PromptRecord p;
  p.round = t;
  p.index = index;
  p.seed = seed;
  p.repair_of = repair_of;
  if (repair_of == 0) {
    std::vector<codegen::PromptExample> parents;
    for (const auto& x : examples) parents.push_back(as_example(x));
    const codegen::Prompt prompt = codegen::make_few_shot_prompt(parents, evaluator_.opening(), header_);
    p.text = prompt.text;
    p.parent_ids = ids_of(examples);
    p.target_params = prompt.target.num_params;
    p.target_val_acc = prompt.target.val_accuracy;
  } else {
    p.text = repair_text;
    p.parent_ids = {repair_of};
  }
  for (const auto& old : prompts_)
    if (old.round == t && old.index == index && old.repair_of == repair_of) {
      if (old.text != p.text || old.seed != p.seed)
        throw std::runtime_error("journal: prompt " + std::to_string(index) + " of round " + std::to_string(t) +
                                 " differs on replay");
      return old;
    }
  p.id = journal_.insert_prompt(p);
  prompts_.push_back(p);
  return p;
}

codegen::SampleRequest Evolution::request_for(const PromptRecord& prompt, const std::vector<double>& temperatures,
                                              std::uint64_t first_sample) const {
  codegen::SampleRequest request;
  request.prompt = prompt.text;
  request.temperatures = temperatures;
  request.stop = {codegen::kStopSequence};
  request.max_tokens = config_.max_tokens;
  request.top_p = config_.top_p;
  request.seed = prompt.seed;
  request.first_sample = first_sample;
  return request;
}

// The LM's answer to a step as journal rows: the children and the call.
std::vector<ChildRecord> Evolution::record_children(const PromptRecord& prompt, const std::vector<double>& temperatures,
                                                    const LmAnswer& answer) {
  const std::vector<codegen::Completion>& completions = answer.completions;
  LmCallRecord call{prompt.id, static_cast<int>(completions.size()), 0, 0, answer.ms, ""};
  if (completions.size() != temperatures.size())
    throw codegen::LanguageModelError("the LM returned " + std::to_string(completions.size()) + " completions for " +
                                      std::to_string(temperatures.size()) + " samples");
  std::vector<ChildRecord> children;
  for (std::size_t j = 0; j < completions.size(); ++j) {
    const codegen::Completion& done = completions[j];
    ChildRecord c;
    c.round = prompt.round;
    c.prompt_id = prompt.id;
    c.sample = prompt.repair_of ? prompt.index : static_cast<int>(j);
    c.kind = prompt.repair_of ? "repair" : "sample";
    c.repair_of = prompt.repair_of;
    c.name = "r" + std::to_string(prompt.round) + "p" + std::to_string(prompt.index) + "s" + std::to_string(c.sample) +
             (prompt.repair_of ? "-fix" : "");
    c.lm = lm_.name();
    c.temperature = temperatures[j];
    c.completion = done.text;
    c.source = codegen::extract_child(done.text, evaluator_.opening()).code;
    c.token_hash = evaluator_.fingerprint(c.source);
    c.prompt_tokens = done.prompt_tokens;
    c.completion_tokens = done.completion_tokens;
    call.prompt_tokens += done.prompt_tokens;
    call.completion_tokens += done.completion_tokens;
    if (!done.error.empty()) {
      c.verdict = VerdictKind::lm_error;
      c.message = done.error;
      if (call.error.empty()) call.error = done.error;
    }
    children.push_back(std::move(c));
  }
  const auto ids = journal_.insert_children(children, call);
  for (std::size_t j = 0; j < children.size(); ++j) {
    children[j].id = ids[j];
    children_.push_back(children[j]);
  }
  return children;
}

// Duplicates and extraction failures get their verdict here; true when the
// child still has to be compiled and trained.
bool Evolution::screen(ChildRecord& c) {
  if (const auto first = first_with_hash_.find(c.token_hash); first != first_with_hash_.end()) {
    c.verdict = VerdictKind::duplicate;  // of the first child with the same tokens, seeds included
    c.duplicate_of = first->second;
  } else {
    first_with_hash_.emplace(c.token_hash, c.id);
    const codegen::Extraction code = codegen::extract_child(c.completion, evaluator_.opening());
    if (code.complete) return true;
    c.verdict = VerdictKind::compile_error;
    c.rule = "extraction";
    c.message = code.problem;
    c.diagnostics = {code.problem};
  }
  save(c);
  return false;
}

void Evolution::set_result(ChildRecord& c, const ChildResult& r) const {
  c.verdict = r.verdict;
  c.rule = r.rule;
  c.message = r.message;
  c.diagnostics = r.diagnostics;
  c.compile_ms = r.compile_ms;
  c.train_ms = r.train_ms;
  c.total_ms = r.compile_ms + r.train_ms;
  c.step_path = r.step_path;
  if (!r.evaluated()) return;
  c.params_used = r.params_used;
  c.params_total = r.params_total;
  c.val_acc = r.best_val_acc;
  c.best_step = r.best_step;
  c.test_acc = r.test_acc;
  c.fitness = fitness(c.params_used, c.val_acc);
  if (c.kind != "seed") {
    c.in_history = 1.0 - c.val_acc < config_.alpha;  // the alpha filter
    if (!c.in_history) c.verdict = VerdictKind::filtered_alpha;
  }
}

void Evolution::evaluate_all(const std::vector<EvaluationJob>& jobs, const std::function<ChildRecord&(std::size_t)>& row) {
  try {
    evaluator_.evaluate_many(
        jobs,
        [&](std::size_t k, const ChildResult& r) {
          ChildRecord& c = row(k);
          set_result(c, r);
          save(c);
          if (c.kind != "seed") report_child(c);
        },
        stop_);
  } catch (const EvaluationInterrupted&) {
    // In-flight children stay pending (evaluated again on resume), marked.
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      ChildRecord& c = row(k);
      if (c.verdict != VerdictKind::pending) continue;
      c.message = "abandoned: the run was interrupted";
      save(c);
    }
    throw Interrupted();
  }
}

void Evolution::save(const ChildRecord& c) {
  journal_.update_child(c);
  for (auto& stored : children_)
    if (stored.id == c.id) stored = c;
}

// TRAIN(theta, C_EVALED \ P): soft prompt-tuning on the round's children that
// were not selected as parents.
codegen::TuneReport Evolution::train(const std::vector<Individual>& evaluated, const std::vector<Individual>& selected) {
  codegen::TuneReport report;
  if (config_.mode == Mode::no_tune || config_.mode == Mode::naive) {
    report.detail = std::string("skipped: mode ") + to_string(config_.mode);
    return report;
  }
  if (!tunes()) {
    report.detail = "skipped: " + lm_.name() + " cannot be prompt-tuned";
    return report;
  }
  std::vector<codegen::TuneExample> examples;
  for (const auto& c : evaluated)
    if (std::none_of(selected.begin(), selected.end(), [&](const Individual& s) { return s.id == c.id; }))
      examples.push_back({codegen::metrics_block({c.params, c.val_acc}), c.code});
  return lm_.tune(examples);
}

bool Evolution::tunes() const {
  return config_.mode != Mode::no_tune && config_.mode != Mode::naive && lm_.can_tune();
}

// theta_{t+1} carries over: saved with the round (written aside, then renamed
// into place), read back when a resumed run replays the round.
std::string Evolution::keep_lm_state(int t) {
  if (state_dir_.empty()) return "";
  const std::string name = "lm_state_round" + std::to_string(t) + ".safetensors";
  const std::string path = state_dir_ + "/" + name;
  lm_.save_state(path + ".tmp");
  if (std::rename((path + ".tmp").c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot keep the LM state in " + path);
  return name;
}

void Evolution::restore_lm_state(const std::string& tune_json) {
  if (tune_json.empty() || state_dir_.empty()) return;
  const auto tune = nlohmann::json::parse(tune_json);
  const std::string name = tune.value("state", "");
  if (!name.empty()) lm_.load_state(state_dir_ + "/" + name);
}

void Evolution::report_child(const ChildRecord& c) {
  if (c.in_history) {
    ++kept_;
    if (!have_best_ || c.fitness > best_fitness_) best_fitness_ = c.fitness, have_best_ = true;
  }
  if (!progress_) return;
  ++processed_;
  if (c.total_ms > 0.0 || c.verdict == VerdictKind::duplicate) ++processed_now_;
  const std::int64_t budget = config_.budget();
  // Wall time per child processed by this process (workers run in parallel).
  const double per_child =
      processed_now_ ? std::chrono::duration<double>(Clock::now() - started_).count() / static_cast<double>(processed_now_)
                     : 0.0;
  progress_("child", {{"round", c.round},
                      {"name", c.name},
                      {"id", c.id},
                      {"verdict", to_string(c.verdict)},
                      {"rule", c.rule},
                      {"params", c.params_used},
                      {"val_acc", c.val_acc},
                      {"fitness", c.fitness},
                      {"temperature", c.temperature},
                      {"done", processed_},
                      {"budget", budget},
                      {"kept", kept_},
                      {"best_fitness", best_fitness_},
                      {"eta_s", per_child * static_cast<double>(std::max<std::int64_t>(0, budget - processed_))}});
}

}  // namespace evoprompt::engine
