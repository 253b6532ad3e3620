// The offline default operator: not a language model but crossover and
// mutation over the C++ of the parents written in the few-shot prompt. It
// parses each parent into a small layer graph (a straight-line forward with
// residual blocks), edits that graph, re-derives every input size from the
// shapes (so edits stay shape-consistent: the input and logits are the task
// header's, else MNIST-1D's), and writes the child back as C++
// in the same contract, which it can parse again in later rounds. Parents it
// cannot parse get a text-level activation swap, or come back unchanged.
// CLRS parents (`struct Triplet`) go to the triplet operator, mutate_triplet.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "language_model.hpp"
#include "prompt.hpp"

namespace evoprompt::codegen {

enum class EditKind {
  width,      // channels / hidden size / features of one layer
  kernel,     // a convolution's kernel size
  stride,     // a convolution's or pool's stride
  padding,    // a convolution's padding
  add,        // a new layer or block
  remove,     // a layer or block dropped
  duplicate,  // a layer or block repeated with fresh weights
  activation, // an activation swapped, added or removed
  crossover,  // layer blocks of the other parent spliced in
  fallback,   // text-level edit of a parent the parser does not understand
  reduction,       // triplets: the aggregation over the first node axis swapped
  representation,  // triplets: a term group's or the output's layer kind changed
};

const char* edit_kind_name(EditKind kind);

struct Edit {
  EditKind kind;
  std::string detail;  // e.g. "conv2 out 25->16"
};

struct MutationResult {
  std::string completion;    // the child's text after kModelOpening, through the closing `};`
  std::vector<Edit> edits;   // what was done, in order (empty: a parent came back unchanged)
  bool structured = false;   // false: the text-level fallback (or an unchanged parent)
  std::int64_t params = -1;  // trainable parameters of the child by the operator's count; -1 unknown
};

namespace mutate_detail {

// splitmix64 and our own range mapping: std distributions differ between
// standard libraries, and children must be reproducible everywhere.
inline std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct Rng {
  std::uint64_t state;
  explicit Rng(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() { return splitmix(state); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  int uniform(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return unit() < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(uniform(0, static_cast<int>(v.size()) - 1))];
  }
  // Index drawn in proportion to `weights`.
  std::size_t weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = unit() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (u < weights[i]) return i;
      u -= weights[i];
    }
    return weights.size() - 1;
  }
};

// Edits per child: 1 at temperature <= 0.2, 3 at >= 1.0, 1-3 in between.
inline int edit_count(double temperature, Rng& rng) {
  if (temperature <= 0.2) return 1;
  if (temperature >= 1.0) return 3;
  const double x = (temperature - 0.2) / 0.8 * 2.0;  // 0..2 extra edits
  const int whole = static_cast<int>(x);
  return 1 + whole + (rng.chance(x - whole) ? 1 : 0);
}

// The text-level fallback of both operators: one span of `text` rewritten to
// one of its alternatives, drawn up to `attempts` times until the result is
// new (not `text`, not in `avoid`). Without one, the completion is `text`.
struct TextSite {
  std::size_t at, len;
  std::vector<std::string> to;
};
MutationResult rewrite_one_site(const std::string& text, const std::vector<TextSite>& sites, Rng& rng, int attempts,
                                const std::set<std::string>& avoid);

// Children may grow, but not without bound (training time is budgeted too):
// 1.5 x the largest parent, within [floor, ceiling].
std::int64_t param_cap(const std::vector<std::int64_t>& parent_params, std::int64_t floor, std::int64_t ceiling);

// Program text helpers shared by the Model and Triplet parsers.
// What lies between the braces of the struct whose opening line `opening`
// matches, comments stripped; nullopt without one (or without its `}`).
std::optional<std::string> struct_body(const std::string& code, const std::regex& opening);
std::string strip_comments(const std::string& s);
// Index one past the brace matching the one at `open`, or npos.
std::size_t match_brace(const std::string& s, std::size_t open);
// Statements at depth 0, split on ';' (and after a braced `for` body).
std::vector<std::string> statements(const std::string& s);

}  // namespace mutate_detail

class MutateOperator : public LanguageModel {
 public:
  std::string name() const override { return "mutate"; }
  int max_concurrent_calls() const override { return kAnyConcurrency; }  // no state
  // Sample j is make_child(parents, temperatures[j], stream, .., header) with
  // the stream derived from (seed, first_sample + j, the prompt's text) and
  // the prompt's task header; children that repeat an earlier child of the
  // same request or a parent are re-drawn.
  std::vector<Completion> sample(const SampleRequest& request) override;

  // One child. Temperature sets the number of edits: 1 at <= 0.2, 1-3 in
  // between, 3 at >= 1.0. `avoid` holds completions not to return again
  // (best effort). `task`: the prompt's header (its input shape and classes);
  // without one, MNIST-1D's [B, 40] -> [B, 10]. Deterministic in all arguments.
  static MutationResult make_child(const std::vector<PromptExample>& parents, double temperature,
                                   std::uint64_t stream, const std::set<std::string>& avoid = {},
                                   const std::optional<TaskHeader>& task = std::nullopt);

  // The operator's parse of one program (Model or Triplet) for `task`'s
  // shapes, written back in its own style (the completion text, as for a
  // child); empty when it cannot parse the program.
  static std::string canonical(const std::string& code, const std::optional<TaskHeader>& task = std::nullopt);
};

}  // namespace evoprompt::codegen
