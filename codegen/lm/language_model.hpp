// The crossover-and-mutation operator of Algorithm 2: anything that turns a
// few-shot prompt into n completions. Back-ends take plain data only.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace evoprompt::codegen {

struct SampleRequest {
  std::string prompt;                  // ends with the opening line the LM completes
  std::vector<double> temperatures;    // one per sample: n = temperatures.size()
  std::vector<std::string> stop;       // e.g. {"/* Metrics:"}
  int max_tokens = 2048;
  double top_p = 1.0;
  std::uint64_t seed = 0;              // for back-ends that sample reproducibly
  std::uint64_t first_sample = 0;      // the run-wide index of the first sample (replay)
};

struct Completion {
  std::string text;             // continuation after the prompt, stop sequence excluded
  std::string finish_reason;    // "stop", "length", ... when the back-end says
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::string error;            // non-empty: this sample failed (it still counts)
};

// One example for soft prompt-tuning: the metrics block and the code it scored.
struct TuneExample {
  std::string metrics_block;
  std::string code;
};

struct TuneReport {
  bool tuned = false;   // false: the back-end cannot tune
  double loss_before = 0.0;
  double loss_after = 0.0;
  std::string detail;
};

// A failure of the LM itself (unreachable server, request caps spent,
// replay file exhausted). The run stops cleanly and can be resumed.
struct LanguageModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// max_concurrent_calls() of a back-end without state.
inline constexpr int kAnyConcurrency = 1 << 16;

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  // How the journal names this back-end, e.g. "mutate" or "openai:http://...#model".
  virtual std::string name() const = 0;
  // Returns exactly request.temperatures.size() completions, in order.
  // Per-sample failures come back as Completion::error; throws
  // LanguageModelError only when the back-end as a whole cannot go on.
  virtual std::vector<Completion> sample(const SampleRequest& request) = 0;
  // Soft prompt-tuning between rounds; the default cannot tune.
  // Fails in seconds with a one-line LanguageModelError when the back-end
  // cannot serve (an unreachable server, a model it does not have), before
  // a run spends anything. The default: nothing to check.
  virtual void check_ready() {}
  // How many sample() calls may run at once, from different threads. The
  // default: one (a back-end with state of its own, like an embedded model).
  virtual int max_concurrent_calls() const { return 1; }
  // How many requests one sample() of `request` holds open at once (what
  // --lm-concurrency counts). The default: one per call.
  virtual int requests_for(const SampleRequest& request) const {
    (void)request;
    return 1;
  }
  virtual bool can_tune() const { return false; }
  virtual TuneReport tune(const std::vector<TuneExample>& examples) {
    (void)examples;
    return {};
  }
  // What tuning learned (the soft prompt), written after each tuned round
  // and read back when a run resumes. Back-ends that cannot tune ignore it.
  virtual void save_state(const std::string& path) const { (void)path; }
  virtual void load_state(const std::string& path) { (void)path; }
};

}  // namespace evoprompt::codegen
