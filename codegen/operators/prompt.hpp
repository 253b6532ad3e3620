// The few-shot prompt of the paper's Listing 1, adapted to C++: each parent is
// a `/* Metrics: ... */` block followed by its code, then the target block and
// the opening line the LM completes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evoprompt::codegen {

struct Metrics {
  std::int64_t num_params = 0;
  double val_accuracy = 0.0;
};

struct PromptExample {
  std::string code;  // a whole program, e.g. `struct Model : torch::nn::Module { ... };`
  Metrics metrics;
};

// The opening line children of MNIST-1D complete.
inline constexpr const char* kModelOpening = "struct Model : torch::nn::Module {";
// Where one completion ends: the start of the next example.
inline constexpr const char* kStopSequence = "/* Metrics:";

// Paper §3.2: 0.9 × the smallest parent's params to the nearest 100, and
// 1.02 × the best parent's accuracy, capped at 1.0, to 3 decimals.
Metrics target_metrics(const std::vector<PromptExample>& parents);

// "/* Metrics:\n{'num_params': '5210', 'val_accuracy': '0.944'}\n*/\n"
std::string metrics_block(const Metrics& metrics);

// What the prompt tells the LM about a task's data (user tasks only: the
// paper's tasks have none, so their prompts stay the paper's).
struct TaskHeader {
  std::string description;                // one line
  std::vector<std::int64_t> input_shape;  // per sample, without the batch dim, e.g. {3, 8, 8}
  std::int64_t classes = 0;
};

// "/* Task: DESCRIPTION\nInput: x [B, 3, 8, 8] float32. Output: [B, 4] logits (4 classes). */\n\n",
// the description with newlines turned to spaces and any "*/" removed (an
// empty one gives "/* Task:\n...").
std::string task_header_text(const TaskHeader& header);

// The header at the start of `prompt`, if it has one (the exact inverse of
// task_header_text for shape and classes).
std::optional<TaskHeader> parse_task_header(const std::string& prompt);

struct Prompt {
  std::string text;
  Metrics target;
};

// The task header when there is one, then k parent examples, each followed by
// a blank line, then the target block and `opening`.
Prompt make_few_shot_prompt(const std::vector<PromptExample>& parents, const std::string& opening = kModelOpening,
                            const std::optional<TaskHeader>& header = std::nullopt);

// The examples written into a prompt, read back (used by code-level operators
// that need the parents' code). The trailing target block is not an example,
// nor is the task header.
std::vector<PromptExample> parse_prompt_examples(const std::string& prompt);

}  // namespace evoprompt::codegen
