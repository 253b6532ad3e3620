#include "lm_commands.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "local_lm_factory.hpp"
#include "cli.hpp"
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

struct GenerateOptions {
  std::string dir;
  std::string prompt_file;
  int n = 1;
  double temperature = 0.8;
  double top_p = 1.0;
  int max_tokens = 256;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
  bool json = false;
};

// `lm generate`: try a model folder by hand, with the sampler the search uses.
void generate(const GenerateOptions& o) {
  if (o.n < 1) throw UsageError("--n must be >= 1");
  if (o.max_tokens < 1) throw UsageError("--max-tokens must be >= 1");
  if (!(o.temperature >= 0.0)) throw UsageError("--temperature must be >= 0");
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) throw UsageError("--top-p must be in (0, 1]");
  std::ifstream in(o.prompt_file, std::ios::binary);
  if (!in || !std::filesystem::is_regular_file(o.prompt_file)) throw UsageError(o.prompt_file + ": cannot read the prompt file");
  std::ostringstream prompt;
  prompt << in.rdbuf();
  std::unique_ptr<codegen::LanguageModel> lm;
  try {
    lm = codegen::lm::make_local_language_model(o.dir);
  } catch (const std::exception& e) {
    const std::string message = e.what();
    throw UsageError(message.substr(0, message.find('\n')));
  }
  codegen::SampleRequest request;
  request.prompt = prompt.str();
  request.temperatures.assign(static_cast<std::size_t>(o.n), o.temperature);
  request.stop = o.stop;
  request.max_tokens = o.max_tokens;
  request.top_p = o.top_p;
  request.seed = o.seed;
  const auto samples = lm->sample(request);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& c = samples[i];
    if (o.json) {
      std::cout << nlohmann::json{{"sample", i},
                                  {"text", c.text},
                                  {"finish_reason", c.finish_reason},
                                  {"prompt_tokens", c.prompt_tokens},
                                  {"completion_tokens", c.completion_tokens},
                                  {"error", c.error}}
                       .dump()
                << "\n";
    } else {
      std::printf("=== sample %zu: %lld tokens, %s ===\n%s\n", i, static_cast<long long>(c.completion_tokens),
                  c.finish_reason.c_str(), c.text.c_str());
    }
  }
  std::cout << std::flush;
}

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

  auto generate_options = std::make_shared<GenerateOptions>();
  auto* gen = lm->add_subcommand("generate", "Sample completions of a prompt from a Hugging Face model folder");
  gen->add_option("DIR", generate_options->dir, "Model folder (config.json, model.safetensors, tokenizer.json)")
      ->required();
  gen->add_option("--prompt-file", generate_options->prompt_file, "The prompt")->required();
  gen->add_option("--n", generate_options->n, "Samples, decoded as one batch")->capture_default_str();
  gen->add_option("--temperature", generate_options->temperature, "0: greedy")->capture_default_str();
  gen->add_option("--top-p", generate_options->top_p, "Nucleus sampling mass")->capture_default_str();
  gen->add_option("--max-tokens", generate_options->max_tokens, "New tokens per sample")->capture_default_str();
  gen->add_option("--seed", generate_options->seed, "Sampling seed")->capture_default_str();
  gen->add_option("--stop", generate_options->stop, "Stop sequence (repeatable)");
  gen->add_flag("--json", generate_options->json, "One JSON object per sample and line");
  gen->callback([generate_options, exit_code] {
    generate(*generate_options);
    *exit_code = 0;
  });
}

}  // namespace evoprompt::cli
