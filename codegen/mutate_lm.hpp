// The offline default operator: not a language model but crossover and
// mutation over the C++ of the parents written in the few-shot prompt. It
// parses each parent into a small layer graph (a straight-line forward with
// residual blocks), edits that graph, re-derives every input size from the
// shapes (so edits stay shape-consistent), and writes the child back as C++
// in the same contract, which it can parse again in later rounds. Parents it
// cannot parse get a text-level activation swap, or come back unchanged.
#pragma once

#include <cstdint>
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

class MutateOperator : public LanguageModel {
 public:
  std::string name() const override { return "mutate"; }
  // Sample j is make_child(parents, temperatures[j], stream) with the stream
  // derived from (seed, first_sample + j, the prompt's text); children that
  // repeat an earlier child of the same request or a parent are re-drawn.
  std::vector<Completion> sample(const SampleRequest& request) override;

  // One child. Temperature sets the number of edits: 1 at <= 0.2, 1-3 in
  // between, 3 at >= 1.0. `avoid` holds completions not to return again
  // (best effort). Deterministic in all arguments.
  static MutationResult make_child(const std::vector<PromptExample>& parents, double temperature,
                                   std::uint64_t stream, const std::set<std::string>& avoid = {});

  // The operator's parse of one program, written back in its own style (the
  // completion text, as for a child); empty when it cannot parse the program.
  static std::string canonical(const std::string& code);
};

}  // namespace evoprompt::codegen
