#include "lm_commands.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer.hpp"

namespace evoprompt::cli {

namespace {

std::string read_stdin() {
  std::ios::sync_with_stdio(false);
  std::ostringstream text;
  text << std::cin.rdbuf();
  return text.str();
}

// Ids as a JSON array, or as integers separated by white space.
std::vector<std::int32_t> parse_ids(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
      return j.get<std::vector<std::int32_t>>();
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error("standard input is not a JSON array of integer ids");
    }
  }
  std::vector<std::int32_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < INT32_MIN || value > INT32_MAX)
      throw std::runtime_error("'" + word + "' on standard input is not a token id");
    ids.push_back(static_cast<std::int32_t>(value));
  }
  return ids;
}

struct TokenizeOptions {
  std::string path;
  bool json = false;
  bool add_special_tokens = false;
};

struct DetokenizeOptions {
  std::string path;
  bool skip_special_tokens = false;
};

}  // namespace

void add_lm_commands(CLI::App& app, int* exit_code) {
  auto* lm = app.add_subcommand("lm", "Tools for the embedded language model");
  lm->require_subcommand(1);

  auto tokenize_options = std::make_shared<TokenizeOptions>();
  auto* tokenize = lm->add_subcommand("tokenize", "Read text on standard input and print its token ids");
  tokenize->add_option("PATH", tokenize_options->path, "tokenizer.json, or a model folder holding one")->required();
  tokenize->add_flag("--json", tokenize_options->json, "Print one JSON array");
  tokenize->add_flag("--add-special-tokens", tokenize_options->add_special_tokens,
                     "Add the special tokens of the post_processor's template (e.g. Llama-2's <s>)");
  tokenize->callback([tokenize_options, exit_code] {
    const auto tokenizer = codegen::Tokenizer::load(tokenize_options->path);
    const auto ids = tokenizer.encode(read_stdin(), tokenize_options->add_special_tokens);
    std::string out = tokenize_options->json ? "[" : "";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) out += tokenize_options->json ? "," : " ";
      out += std::to_string(ids[i]);
    }
    out += tokenize_options->json ? "]\n" : "\n";
    std::cout << out << std::flush;
    *exit_code = 0;
  });

  auto detokenize_options = std::make_shared<DetokenizeOptions>();
  auto* detokenize = lm->add_subcommand(
      "detokenize", "Read token ids (a JSON array, or separated by white space) on standard input and print the text");
  detokenize->add_option("PATH", detokenize_options->path, "tokenizer.json, or a model folder holding one")->required();
  detokenize->add_flag("--skip-special-tokens", detokenize_options->skip_special_tokens, "Leave special tokens out");
  detokenize->callback([detokenize_options, exit_code] {
    const auto tokenizer = codegen::Tokenizer::load(detokenize_options->path);
    std::cout << tokenizer.decode(parse_ids(read_stdin()), detokenize_options->skip_special_tokens) << std::flush;
    *exit_code = 0;
  });
}

}  // namespace evoprompt::cli
