// EvoPrompting's search loop: Algorithm 1 (the rounds), Algorithm 2
// (CROSSMUT: few-shot prompts sampled from the LM) and Algorithm 3
// (FILTERANDEVAL: evaluate, keep children with val error < alpha).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config.hpp"
#include "evaluator.hpp"
#include "journal.hpp"
#include "language_model.hpp"
#include "lm_calls.hpp"
#include "population.hpp"
#include "prompt.hpp"

namespace evoprompt::engine {

using LmAnswer = LmCalls::Answer;

struct SeedProgram {
  std::string name;
  std::string source;
};

struct EvolutionResult {
  std::vector<Individual> top;   // GETTOP over the archive: the answer
  std::vector<Individual> seeds; // the evaluated seeds, fittest first
  std::int64_t samples_used = 0; // out of the budget
};

// Live progress: event type ("seed", "round_start", "child", "round_end",
// "done") and its data.
using ProgressSink = std::function<void(const std::string& type, const nlohmann::json& data)>;

// Thrown between children when the stop flag is raised; the journal is
// consistent and `--resume` continues.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

class Evolution {
 public:
  // Everything is borrowed and must outlive the Evolution. A fresh journal
  // starts a run; one holding rounds continues it: finished work is read
  // back, never redone.
  Evolution(EvolutionConfig config, Journal& journal, codegen::LanguageModel& lm, Evaluator& evaluator,
            std::vector<SeedProgram> seeds, ProgressSink progress = {}, const std::atomic<bool>* stop = nullptr);

  EvolutionResult run();  // Algorithm 1

  // Where the LM's tuned state (the soft prompt) is kept after each round:
  // the run folder. Empty: not kept.
  void keep_lm_state_in(std::string dir) { state_dir_ = std::move(dir); }
  // LM requests in flight at once while the round's children evaluate.
  void overlap_lm_calls(int limit) { lm_concurrency_ = limit; }

 private:
  struct Round;  // one round's LM calls and children in flight (evolution.cpp)

  std::vector<Individual> initialize_population();
  void open_round(Round& r, int t, std::vector<Individual> P, int samples);
  void advance(Round& r, LmCalls& calls, bool may_ask, bool may_commit);
  bool may_close(const std::deque<Round>& open, int rounds, int lag) const;
  std::vector<Individual> close_round(Round& r, Population& G, int rounds, int lag);
  std::vector<Individual> kept_children(const Round& r) const;
  [[noreturn]] void interrupt(std::deque<Round>& open);
  void plan_prompt(Round& r, int index);
  void plan_repairs(Round& r, std::size_t step);
  bool in_journal(std::int64_t prompt_id) const;  // the prompt's children are in the journal (resume)
  void commit(Round& r, std::size_t step, std::optional<LmAnswer> answer);
  void apply(const EvaluationEvent& event);
  std::vector<ChildRecord> record_children(const PromptRecord& prompt, const std::vector<double>& temperatures,
                                           const LmAnswer& answer);
  codegen::SampleRequest request_for(const PromptRecord& prompt, const std::vector<double>& temperatures,
                                     std::uint64_t first_sample) const;
  bool screen(ChildRecord& child);
  void evaluate_all(const std::vector<EvaluationJob>& jobs, const std::function<ChildRecord&(std::size_t)>& row);
  void set_result(ChildRecord& child, const ChildResult& result) const;
  void save(const ChildRecord& child);
  bool tunes() const;  // TRAIN runs: the mode tunes and the LM can be tuned
  codegen::TuneReport train(const std::vector<Individual>& evaluated, const std::vector<Individual>& selected);
  PromptRecord prompt_for(int t, int index, const std::vector<Individual>& examples, std::uint64_t seed,
                          std::int64_t repair_of, const std::string& repair_text);
  std::string keep_lm_state(int t);
  void restore_lm_state(const std::string& tune_json);
  void report_child(const ChildRecord& child);

  EvolutionConfig config_;
  Journal& journal_;
  codegen::LanguageModel& lm_;
  Evaluator& evaluator_;
  std::optional<codegen::TaskHeader> header_;  // at the top of every prompt; none for the paper's tasks
  std::vector<SeedProgram> seeds_;
  ProgressSink progress_;
  const std::atomic<bool>* stop_;
  std::string state_dir_;
  int lm_concurrency_ = 1;

  // The rounds in flight: evaluator tickets, LM call keys, the first LM failure.
  std::map<std::size_t, std::pair<Round*, std::size_t>> tickets_;  // ticket -> (round, child)
  std::size_t next_ticket_ = 0;
  std::size_t next_call_ = 0;
  std::exception_ptr lm_failure_;

  // What the journal already holds (a resumed run), indexed for lookup.
  std::vector<PromptRecord> prompts_;
  std::vector<ChildRecord> children_;
  std::map<std::string, std::int64_t> first_with_hash_;  // token hash -> first child, for duplicates
  std::int64_t processed_ = 0;
  std::int64_t samples_used_ = 0;
  std::int64_t kept_ = 0;
  double best_fitness_ = 0.0;
  bool have_best_ = false;
  std::chrono::steady_clock::time_point started_;
  std::int64_t processed_now_ = 0;  // children this process finished (for the ETA)
};

// A child's journal row as a prompt example and as an individual of G.
Individual to_individual(const ChildRecord& child);

}  // namespace evoprompt::engine
