// `replay:FILE`: completions recorded as JSON lines, handed out by run-wide
// sample index, so a replayed run sees exactly the recorded samples.
#pragma once

#include <string>
#include <vector>

#include "language_model.hpp"

namespace evoprompt::codegen {

class ReplayLanguageModel : public LanguageModel {
 public:
  // Each line: {"text": "..."} (also accepted: "completion"), optionally
  // "error", "prompt_tokens", "completion_tokens". Throws std::runtime_error
  // naming the file and line when it is unreadable or malformed.
  explicit ReplayLanguageModel(const std::string& path);
  std::string name() const override { return "replay:" + path_; }
  std::vector<Completion> sample(const SampleRequest& request) override;
  int max_concurrent_calls() const override { return kAnyConcurrency; }  // no state
  std::size_t size() const { return records_.size(); }

 private:
  std::string path_;
  std::vector<Completion> records_;
};

}  // namespace evoprompt::codegen
