#include "prompt.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>
#include <stdexcept>

namespace evoprompt::codegen {
namespace {

std::string three_decimals(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Metrics target_metrics(const std::vector<PromptExample>& parents) {
  if (parents.empty()) throw std::invalid_argument("target_metrics: no parents");
  std::int64_t min_params = parents.front().metrics.num_params;
  double best_acc = parents.front().metrics.val_accuracy;
  for (const auto& p : parents) {
    min_params = std::min(min_params, p.metrics.num_params);
    best_acc = std::max(best_acc, p.metrics.val_accuracy);
  }
  Metrics target;
  target.num_params = std::llround(0.9 * static_cast<double>(min_params) / 100.0) * 100;
  target.val_accuracy = std::round(std::min(1.0, 1.02 * best_acc) * 1000.0) / 1000.0;
  return target;
}

std::string metrics_block(const Metrics& metrics) {
  return "/* Metrics:\n{'num_params': '" + std::to_string(metrics.num_params) + "', 'val_accuracy': '" +
         three_decimals(metrics.val_accuracy) + "'}\n*/\n";
}

std::string task_header_text(const TaskHeader& header) {
  std::string description = header.description;
  std::replace(description.begin(), description.end(), '\n', ' ');
  std::replace(description.begin(), description.end(), '\r', ' ');
  // Removing one "*/" can join a new one ("**//"): until none is left.
  for (std::size_t at; (at = description.find("*/")) != std::string::npos;) description.erase(at, 2);
  std::string shape = "[B";
  for (const auto d : header.input_shape) shape += ", " + std::to_string(d);
  shape += "]";
  const std::string classes = std::to_string(header.classes);
  return "/* Task:" + (description.empty() ? "" : " " + description) + "\nInput: x " + shape +
         " float32. Output: [B, " + classes + "] logits (" + classes + " classes). */\n\n";
}

std::optional<TaskHeader> parse_task_header(const std::string& prompt) {
  static const std::regex header(
      R"(/\* Task:( [^\n]*)?\nInput: x \[B((?:, -?[0-9]+)*)\] float32\. Output: \[B, (-?[0-9]+)\] logits \((-?[0-9]+) classes\)\. \*/\n\n)");
  std::smatch m;
  if (!std::regex_search(prompt, m, header, std::regex_constants::match_continuous)) return std::nullopt;
  try {
    TaskHeader h;
    if (m[1].matched) h.description = m[1].str().substr(1);
    static const std::regex dim(R"(-?[0-9]+)");
    const std::string dims = m[2].str();
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), dim); it != std::sregex_iterator(); ++it)
      h.input_shape.push_back(std::stoll(it->str()));
    h.classes = std::stoll(m[3].str());
    if (std::stoll(m[4].str()) != h.classes) return std::nullopt;
    return h;
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

Prompt make_few_shot_prompt(const std::vector<PromptExample>& parents, const std::string& opening,
                            const std::optional<TaskHeader>& header) {
  Prompt prompt;
  prompt.target = target_metrics(parents);
  if (header) prompt.text = task_header_text(*header);
  for (const auto& parent : parents) prompt.text += metrics_block(parent.metrics) + trim_right(parent.code) + "\n\n";
  prompt.text += metrics_block(prompt.target) + opening;
  return prompt;
}

std::vector<PromptExample> parse_prompt_examples(const std::string& prompt) {
  static const std::regex header(
      R"(/\* Metrics:\n\{'num_params': '(-?[0-9]+)', 'val_accuracy': '([0-9.]+)'\}\n\*/\n)");
  std::vector<PromptExample> blocks;
  std::vector<std::size_t> code_begin, block_begin;
  for (auto it = std::sregex_iterator(prompt.begin(), prompt.end(), header); it != std::sregex_iterator(); ++it) {
    PromptExample ex;
    ex.metrics.num_params = std::stoll((*it)[1].str());
    ex.metrics.val_accuracy = std::stod((*it)[2].str());
    blocks.push_back(ex);
    block_begin.push_back(static_cast<std::size_t>(it->position()));
    code_begin.push_back(static_cast<std::size_t>(it->position() + it->length()));
  }
  if (blocks.empty()) return {};
  blocks.pop_back();  // the target block
  for (std::size_t i = 0; i < blocks.size(); ++i)
    blocks[i].code = trim_right(prompt.substr(code_begin[i], block_begin[i + 1] - code_begin[i]));
  return blocks;
}

}  // namespace evoprompt::codegen
