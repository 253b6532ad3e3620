#include "replay_lm.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace evoprompt::codegen {

ReplayLanguageModel::ReplayLanguageModel(const std::string& path) : path_(path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("replay: cannot open " + path);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      throw std::runtime_error("replay: " + path + ":" + std::to_string(number) + ": not JSON");
    }
    const char* key = j.contains("text") ? "text" : "completion";
    if (!j.is_object() || !j.contains(key) || !j[key].is_string())
      throw std::runtime_error("replay: " + path + ":" + std::to_string(number) + ": needs a string \"text\"");
    Completion c;
    c.text = j[key].get<std::string>();
    c.error = j.value("error", "");
    c.prompt_tokens = j.value("prompt_tokens", 0);
    c.completion_tokens = j.value("completion_tokens", 0);
    c.finish_reason = j.value("finish_reason", "stop");
    records_.push_back(std::move(c));
  }
  if (records_.empty()) throw std::runtime_error("replay: " + path + " holds no completions");
}

std::vector<Completion> ReplayLanguageModel::sample(const SampleRequest& request) {
  std::vector<Completion> out;
  for (std::size_t j = 0; j < request.temperatures.size(); ++j) {
    const std::uint64_t index = request.first_sample + j;
    if (index >= records_.size())
      throw LanguageModelError("replay: " + path_ + " holds " + std::to_string(records_.size()) +
                               " completions; sample " + std::to_string(index) + " was asked for");
    out.push_back(records_[index]);
  }
  return out;
}

}  // namespace evoprompt::codegen
