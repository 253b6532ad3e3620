// The tokenizer.json tokenizer. The pipeline is the Rust `tokenizers`
// library's: added tokens are split off first (those with normalized=false on
// the raw text, then the others on each normalized piece), the pre-tokenizer
// splits the remaining pieces, BPE turns each piece into ids, and the
// post-processor adds the template's special tokens when asked to.
#include "tokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace evoprompt::codegen {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& origin, const std::string& message) {
  throw std::runtime_error(origin + ": " + message);
}

// ---------------------------------------------------------------- UTF-8

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the (valid) UTF-8 character starting with byte B.
std::size_t utf8_len(unsigned char b) {
  if (b < 0x80) return 1;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  return 4;
}

// The code point at S[I] (valid UTF-8).
char32_t utf8_at(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const std::size_t n = utf8_len(b);
  char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

std::vector<std::string> utf8_chars(std::string_view s) {
  std::vector<std::string> chars;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_len(static_cast<unsigned char>(s[i]));
    chars.emplace_back(s.substr(i, n));
    i += n;
  }
  return chars;
}

// Rust's char::is_whitespace: the White_Space property.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// ---------------------------------------------------------------- byte level

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others
// for code points from U+0100 on.
struct ByteMap {
  std::array<std::string, 256> byte_to_char;
  std::unordered_map<char32_t, unsigned char> char_to_byte;
  ByteMap() {
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b) printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable[b] ? static_cast<char32_t>(b) : next++;
      append_utf8(byte_to_char[b], cp);
      char_to_byte[cp] = static_cast<unsigned char>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

// ---------------------------------------------------------------- regex

// A PCRE2 pattern in UTF mode with Unicode properties (\s, \w, \d are the
// Unicode classes, as in Oniguruma which the Rust library uses).
class Regex {
 public:
  Regex(const std::string& pattern, bool literal, const std::string& origin, const std::string& field) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    const std::uint32_t options =
        literal ? PCRE2_UTF | PCRE2_NO_UTF_CHECK | PCRE2_LITERAL : PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &error, &offset,
                          nullptr);
    if (!code_) {
      PCRE2_UCHAR buffer[256];
      pcre2_get_error_message(error, buffer, sizeof buffer);
      fail(origin, field + ": bad regex at offset " + std::to_string(offset) + ": " +
                       reinterpret_cast<const char*>(buffer));
    }
    jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex() { pcre2_code_free(code_); }

  // Every match in TEXT (valid UTF-8), left to right, as [begin, end) byte
  // ranges. After an empty match the search goes on one character later.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const {
    std::vector<std::pair<std::size_t, std::size_t>> found;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t start = 0;
    while (start <= text.size()) {
      const int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), start, 0, md, nullptr)
                          : pcre2_match(code_, subject, text.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
      if (rc < 0) {
        if (rc == PCRE2_ERROR_NOMATCH) break;
        pcre2_match_data_free(md);
        throw std::runtime_error("tokenizer regex: match error " + std::to_string(rc));
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      found.emplace_back(ov[0], ov[1]);
      if (ov[1] > ov[0]) {
        start = ov[1];
      } else {
        if (ov[1] >= text.size()) break;
        start = ov[1] + utf8_len(static_cast<unsigned char>(text[ov[1]]));
      }
    }
    pcre2_match_data_free(md);
    return found;
  }

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

// GPT-2's pattern, what ByteLevel splits with when use_regex is true.
const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// ---------------------------------------------------------------- splitting

// A piece of the text on its way through the pipeline: either an added token
// (ID >= 0) or text still to be pre-tokenized and encoded. AT_ORIGIN: it
// starts at byte 0 of the original text (Metaspace's prepend_scheme first).
struct Piece {
  std::string text;
  std::int32_t id = -1;
  bool at_origin = false;
};

enum class Behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

// The Rust library's NormalizedString::split: MATCHES cover TEXT, each flagged
// as a match or not; BEHAVIOR says what becomes of the delimiters. Empty
// pieces are dropped.
void split_by(const Piece& piece, const std::vector<std::pair<std::size_t, std::size_t>>& found, Behavior behavior,
              bool invert, std::vector<Piece>& out) {
  const std::string& text = piece.text;
  std::vector<std::tuple<std::size_t, std::size_t, bool>> parts;
  std::size_t prev = 0;
  for (const auto& [b, e] : found) {
    if (prev < b) parts.emplace_back(prev, b, false);
    parts.emplace_back(b, e, true);
    prev = e;
  }
  if (prev < text.size() || text.empty()) parts.emplace_back(prev, text.size(), false);
  if (invert)
    for (auto& p : parts) std::get<2>(p) = !std::get<2>(p);

  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  bool previous_match = false;
  for (const auto& [b, e, is_match] : parts) {
    switch (behavior) {
      case Behavior::removed:
        if (!is_match) ranges.emplace_back(b, e);
        break;
      case Behavior::isolated:
        ranges.emplace_back(b, e);
        break;
      case Behavior::merged_with_previous:
        if (is_match && !previous_match && !ranges.empty())
          ranges.back().second = e;
        else
          ranges.emplace_back(b, e);
        break;
      case Behavior::merged_with_next:
        if (is_match && !previous_match)
          ranges.emplace_back(b, e);
        else if (!ranges.empty())
          ranges.back().second = e;
        else
          ranges.emplace_back(b, e);
        break;
      case Behavior::contiguous:
        if (is_match == previous_match && !ranges.empty())
          ranges.back().second = e;
        else
          ranges.emplace_back(b, e);
        break;
    }
    previous_match = is_match;
  }
  for (const auto& [b, e] : ranges) {
    if (b == e) continue;
    out.push_back(Piece{text.substr(b, e - b), -1, piece.at_origin && b == 0});
  }
}

// ---------------------------------------------------------------- JSON helpers

void check_keys(const json& j, std::initializer_list<const char*> allowed, const std::string& origin,
                const std::string& where) {
  if (!j.is_object()) fail(origin, where + " must be an object");
  for (const auto& [key, value] : j.items()) {
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) == allowed.end())
      fail(origin, "unsupported field " + where + "." + key);
  }
}

std::string get_string(const json& j, const char* key, const std::string& origin, const std::string& where) {
  if (!j.contains(key) || !j.at(key).is_string()) fail(origin, where + "." + key + " must be a string");
  return j.at(key).get<std::string>();
}

bool get_bool(const json& j, const char* key, bool fallback, const std::string& origin, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  if (!j.at(key).is_boolean()) fail(origin, where + "." + key + " must be a boolean");
  return j.at(key).get<bool>();
}

std::string type_of(const json& j, const std::string& origin, const std::string& where) {
  if (!j.is_object()) fail(origin, where + " must be an object or null");
  return get_string(j, "type", origin, where);
}

// A {"String": s} or {"Regex": r} pattern.
std::unique_ptr<Regex> get_pattern(const json& j, const std::string& origin, const std::string& where) {
  if (!j.is_object() || j.size() != 1) fail(origin, "unsupported " + where + " (want {\"String\": ...} or {\"Regex\": ...})");
  if (j.contains("String") && j.at("String").is_string())
    return std::make_unique<Regex>(j.at("String").get<std::string>(), true, origin, where);
  if (j.contains("Regex") && j.at("Regex").is_string())
    return std::make_unique<Regex>(j.at("Regex").get<std::string>(), false, origin, where);
  fail(origin, "unsupported " + where + "." + j.begin().key());
}

// ---------------------------------------------------------------- the steps

struct NormalizerStep {
  enum Kind { nfc, nfd, nfkc, nfkd, prepend, replace } kind;
  std::string text;              // prepend: what; replace: the content
  std::shared_ptr<Regex> regex;  // replace: the pattern
};

struct PreTokenizerStep {
  enum Kind { split, byte_level, metaspace } kind;
  std::shared_ptr<Regex> regex;  // split, byte_level with use_regex
  Behavior behavior = Behavior::isolated;
  bool invert = false;
  bool add_prefix_space = false;  // byte_level
  std::string replacement;        // metaspace
  enum Scheme { always, never, first } scheme = always;
  bool split_words = true;  // metaspace
};

struct DecoderStep {
  enum Kind { byte_level, byte_fallback, fuse, strip, replace, metaspace } kind;
  std::string from, to;  // replace; metaspace: from = replacement
  char32_t strip_char = 0;
  std::size_t strip_start = 0, strip_stop = 0;
  bool metaspace_prepends = true;
};

struct AddedToken {
  std::string content;
  std::int32_t id = 0;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// A byte trie over added tokens: leftmost-longest matching, like the
// aho-corasick matcher of the Rust library.
class AddedTrie {
 public:
  void add(const std::string& content, std::size_t token) {
    std::size_t node = 0;
    for (unsigned char c : content) {
      auto it = nodes_[node].next.find(c);
      if (it == nodes_[node].next.end()) {
        nodes_.emplace_back();
        it = nodes_[node].next.emplace(c, nodes_.size() - 1).first;
      }
      node = it->second;
    }
    if (nodes_[node].token == kNone) nodes_[node].token = token;
    first_[static_cast<unsigned char>(content[0])] = true;
  }
  bool empty() const { return nodes_.size() == 1; }

  // Non-overlapping leftmost-longest matches: (begin, end, token index).
  std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> find_all(std::string_view text) const {
    std::vector<std::tuple<std::size_t, std::size_t, std::size_t>> found;
    std::size_t i = 0;
    while (i < text.size()) {
      if (!first_[static_cast<unsigned char>(text[i])]) {
        ++i;
        continue;
      }
      std::size_t node = 0, best_end = 0, best = kNone;
      for (std::size_t j = i; j < text.size(); ++j) {
        const auto it = nodes_[node].next.find(static_cast<unsigned char>(text[j]));
        if (it == nodes_[node].next.end()) break;
        node = it->second;
        if (nodes_[node].token != kNone) {
          best = nodes_[node].token;
          best_end = j + 1;
        }
      }
      if (best == kNone) {
        ++i;
      } else {
        found.emplace_back(i, best_end, best);
        i = best_end;
      }
    }
    return found;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct Node {
    std::map<unsigned char, std::size_t> next;
    std::size_t token = kNone;
  };
  std::vector<Node> nodes_{Node{}};
  std::array<bool, 256> first_{};
};

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

}  // namespace

// ---------------------------------------------------------------- Impl

struct Tokenizer::Impl {
  std::string origin;

  // model
  std::unordered_map<std::string, std::int32_t> vocab;
  std::unordered_map<std::int32_t, std::string> vocab_r;
  std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>> merges;  // pair -> (rank, new id)
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix, end_of_word_suffix;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  std::array<std::int32_t, 256> byte_fallback_ids{};
  bool have_byte_fallback_ids = false;

  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre_tokenizers;
  std::vector<DecoderStep> decoders;
  bool has_decoder = false;
  std::vector<std::int32_t> template_before, template_after;  // post_processor, single sequence

  std::vector<AddedToken> added;
  std::unordered_map<std::string, std::int32_t> added_by_content;
  std::unordered_map<std::int32_t, std::size_t> added_by_id;
  AddedTrie raw_trie, normalized_trie;
  std::int32_t max_id = -1;

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache;

  // ---------------------------------------------------------- loading

  void load(const json& root) {
    check_keys(root,
               {"version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "model",
                "post_processor", "decoder"},
               origin, "tokenizer");
    if (root.contains("truncation") && !root.at("truncation").is_null()) fail(origin, "unsupported truncation (only null)");
    if (root.contains("padding") && !root.at("padding").is_null()) fail(origin, "unsupported padding (only null)");
    if (!root.contains("model")) fail(origin, "model is missing");
    load_model(root.at("model"));
    if (root.contains("normalizer") && !root.at("normalizer").is_null()) load_normalizer(root.at("normalizer"), "normalizer");
    if (root.contains("pre_tokenizer") && !root.at("pre_tokenizer").is_null())
      load_pre_tokenizer(root.at("pre_tokenizer"), "pre_tokenizer");
    if (root.contains("decoder") && !root.at("decoder").is_null()) {
      has_decoder = true;
      load_decoder(root.at("decoder"), "decoder");
    }
    if (root.contains("added_tokens")) load_added_tokens(root.at("added_tokens"));
    if (root.contains("post_processor") && !root.at("post_processor").is_null())
      load_post_processor(root.at("post_processor"), "post_processor");
  }

  void load_model(const json& m) {
    const std::string where = "model";
    const std::string type = m.is_object() && m.contains("type") ? type_of(m, origin, where) : "BPE";
    if (type != "BPE") fail(origin, "unsupported model.type '" + type + "' (only BPE)");
    check_keys(m,
               {"type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk",
                "byte_fallback", "ignore_merges", "vocab", "merges"},
               origin, where);
    if (m.contains("dropout") && !m.at("dropout").is_null()) {
      if (!m.at("dropout").is_number() || m.at("dropout").get<double>() != 0.0)
        fail(origin, "unsupported model.dropout (only null or 0)");
    }
    auto optional_string = [&](const char* key) -> std::optional<std::string> {
      if (!m.contains(key) || m.at(key).is_null()) return std::nullopt;
      if (!m.at(key).is_string()) fail(origin, where + "." + key + " must be a string or null");
      return m.at(key).get<std::string>();
    };
    unk_token = optional_string("unk_token");
    continuing_subword_prefix = optional_string("continuing_subword_prefix").value_or("");
    end_of_word_suffix = optional_string("end_of_word_suffix").value_or("");
    fuse_unk = get_bool(m, "fuse_unk", false, origin, where);
    byte_fallback = get_bool(m, "byte_fallback", false, origin, where);
    ignore_merges = get_bool(m, "ignore_merges", false, origin, where);

    if (!m.contains("vocab") || !m.at("vocab").is_object()) fail(origin, "model.vocab must be an object");
    const json& v = m.at("vocab");
    vocab.reserve(v.size());
    vocab_r.reserve(v.size());
    for (const auto& [token, id] : v.items()) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() > INT32_MAX)
        fail(origin, "model.vocab['" + token + "'] must be a non-negative integer");
      const auto i = static_cast<std::int32_t>(id.get<std::int64_t>());
      vocab[token] = i;
      vocab_r[i] = token;
      max_id = std::max(max_id, i);
    }
    if (byte_fallback) {
      have_byte_fallback_ids = true;
      for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = vocab.find(name);
        byte_fallback_ids[b] = it == vocab.end() ? -1 : it->second;
      }
    }

    if (!m.contains("merges") || !m.at("merges").is_array()) fail(origin, "model.merges must be an array");
    const json& ms = m.at("merges");
    merges.reserve(ms.size() * 2);
    std::int32_t rank = 0;
    for (const auto& entry : ms) {
      std::string a, b;
      if (entry.is_string()) {
        const std::string& s = entry.get_ref<const std::string&>();
        const auto space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
          fail(origin, "model.merges[" + std::to_string(rank) + "] is not 'a b'");
        a = s.substr(0, space);
        b = s.substr(space + 1);
      } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
        a = entry[0].get<std::string>();
        b = entry[1].get<std::string>();
      } else {
        fail(origin, "model.merges[" + std::to_string(rank) + "] is neither 'a b' nor [a, b]");
      }
      std::string merged = a;
      if (!continuing_subword_prefix.empty() && b.compare(0, continuing_subword_prefix.size(), continuing_subword_prefix) == 0)
        merged += b.substr(continuing_subword_prefix.size());
      else
        merged += b;
      const auto ia = vocab.find(a), ib = vocab.find(b), im = vocab.find(merged);
      if (ia == vocab.end() || ib == vocab.end() || im == vocab.end())
        fail(origin, "model.merges[" + std::to_string(rank) + "]: '" + (ia == vocab.end() ? a : ib == vocab.end() ? b : merged) +
                         "' is not in model.vocab");
      merges[pair_key(ia->second, ib->second)] = {rank, im->second};
      ++rank;
    }
  }

  void load_normalizer(const json& j, const std::string& where) {
    const std::string type = type_of(j, origin, where);
    if (type == "Sequence") {
      check_keys(j, {"type", "normalizers"}, origin, where);
      if (!j.contains("normalizers") || !j.at("normalizers").is_array()) fail(origin, where + ".normalizers must be an array");
      std::size_t i = 0;
      for (const auto& n : j.at("normalizers")) load_normalizer(n, where + ".normalizers[" + std::to_string(i++) + "]");
    } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
      check_keys(j, {"type"}, origin, where);
      normalizers.push_back({type == "NFC"    ? NormalizerStep::nfc
                             : type == "NFD"  ? NormalizerStep::nfd
                             : type == "NFKC" ? NormalizerStep::nfkc
                                              : NormalizerStep::nfkd,
                             "", nullptr});
    } else if (type == "Prepend") {
      check_keys(j, {"type", "prepend"}, origin, where);
      normalizers.push_back({NormalizerStep::prepend, get_string(j, "prepend", origin, where), nullptr});
    } else if (type == "Replace") {
      check_keys(j, {"type", "pattern", "content"}, origin, where);
      if (!j.contains("pattern")) fail(origin, where + ".pattern is missing");
      normalizers.push_back({NormalizerStep::replace, get_string(j, "content", origin, where),
                             get_pattern(j.at("pattern"), origin, where + ".pattern")});
    } else {
      fail(origin, "unsupported " + where + ".type '" + type + "'");
    }
  }

  void load_pre_tokenizer(const json& j, const std::string& where) {
    const std::string type = type_of(j, origin, where);
    if (type == "Sequence") {
      check_keys(j, {"type", "pretokenizers"}, origin, where);
      if (!j.contains("pretokenizers") || !j.at("pretokenizers").is_array())
        fail(origin, where + ".pretokenizers must be an array");
      std::size_t i = 0;
      for (const auto& p : j.at("pretokenizers")) load_pre_tokenizer(p, where + ".pretokenizers[" + std::to_string(i++) + "]");
    } else if (type == "Split") {
      check_keys(j, {"type", "pattern", "behavior", "invert"}, origin, where);
      PreTokenizerStep step{PreTokenizerStep::split};
      if (!j.contains("pattern")) fail(origin, where + ".pattern is missing");
      step.regex = get_pattern(j.at("pattern"), origin, where + ".pattern");
      const std::string behavior = get_string(j, "behavior", origin, where);
      if (behavior == "Removed") step.behavior = Behavior::removed;
      else if (behavior == "Isolated") step.behavior = Behavior::isolated;
      else if (behavior == "MergedWithPrevious") step.behavior = Behavior::merged_with_previous;
      else if (behavior == "MergedWithNext") step.behavior = Behavior::merged_with_next;
      else if (behavior == "Contiguous") step.behavior = Behavior::contiguous;
      else fail(origin, "unsupported " + where + ".behavior '" + behavior + "'");
      step.invert = get_bool(j, "invert", false, origin, where);
      pre_tokenizers.push_back(std::move(step));
    } else if (type == "ByteLevel") {
      check_keys(j, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, origin, where);
      PreTokenizerStep step{PreTokenizerStep::byte_level};
      step.add_prefix_space = get_bool(j, "add_prefix_space", true, origin, where);
      if (get_bool(j, "use_regex", true, origin, where))
        step.regex = std::make_shared<Regex>(kGpt2Pattern, false, origin, where);
      pre_tokenizers.push_back(std::move(step));
    } else if (type == "Metaspace") {
      check_keys(j, {"type", "replacement", "str_rep", "add_prefix_space", "prepend_scheme", "split"}, origin, where);
      PreTokenizerStep step{PreTokenizerStep::metaspace};
      step.replacement = get_string(j, "replacement", origin, where);
      if (utf8_chars(sanitize_utf8(step.replacement)).size() != 1) fail(origin, where + ".replacement must be one character");
      if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
        const std::string scheme = get_string(j, "prepend_scheme", origin, where);
        if (scheme == "always") step.scheme = PreTokenizerStep::always;
        else if (scheme == "never") step.scheme = PreTokenizerStep::never;
        else if (scheme == "first") step.scheme = PreTokenizerStep::first;
        else fail(origin, "unsupported " + where + ".prepend_scheme '" + scheme + "'");
      } else {
        step.scheme = get_bool(j, "add_prefix_space", true, origin, where) ? PreTokenizerStep::always : PreTokenizerStep::never;
      }
      step.split_words = get_bool(j, "split", true, origin, where);
      step.regex = std::make_shared<Regex>(step.replacement, true, origin, where);
      pre_tokenizers.push_back(std::move(step));
    } else {
      fail(origin, "unsupported " + where + ".type '" + type + "'");
    }
  }

  void load_decoder(const json& j, const std::string& where) {
    const std::string type = type_of(j, origin, where);
    if (type == "Sequence") {
      check_keys(j, {"type", "decoders"}, origin, where);
      if (!j.contains("decoders") || !j.at("decoders").is_array()) fail(origin, where + ".decoders must be an array");
      std::size_t i = 0;
      for (const auto& d : j.at("decoders")) load_decoder(d, where + ".decoders[" + std::to_string(i++) + "]");
    } else if (type == "ByteLevel") {
      check_keys(j, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, origin, where);
      decoders.push_back({DecoderStep::byte_level});
    } else if (type == "ByteFallback") {
      check_keys(j, {"type"}, origin, where);
      decoders.push_back({DecoderStep::byte_fallback});
    } else if (type == "Fuse") {
      check_keys(j, {"type"}, origin, where);
      decoders.push_back({DecoderStep::fuse});
    } else if (type == "Strip") {
      check_keys(j, {"type", "content", "start", "stop"}, origin, where);
      DecoderStep step{DecoderStep::strip};
      const auto content = utf8_chars(sanitize_utf8(get_string(j, "content", origin, where)));
      if (content.size() != 1) fail(origin, where + ".content must be one character");
      step.strip_char = utf8_at(content[0], 0);
      for (const char* key : {"start", "stop"}) {
        if (!j.contains(key) || !j.at(key).is_number_unsigned()) fail(origin, where + "." + key + " must be a non-negative integer");
      }
      step.strip_start = j.at("start").get<std::size_t>();
      step.strip_stop = j.at("stop").get<std::size_t>();
      decoders.push_back(step);
    } else if (type == "Replace") {
      check_keys(j, {"type", "pattern", "content"}, origin, where);
      const json& p = j.contains("pattern") ? j.at("pattern") : json();
      if (!p.is_object() || p.size() != 1 || !p.contains("String") || !p.at("String").is_string())
        fail(origin, "unsupported " + where + ".pattern (only {\"String\": ...})");
      DecoderStep step{DecoderStep::replace};
      step.from = p.at("String").get<std::string>();
      step.to = get_string(j, "content", origin, where);
      if (step.from.empty()) fail(origin, where + ".pattern.String must not be empty");
      decoders.push_back(step);
    } else if (type == "Metaspace") {
      check_keys(j, {"type", "replacement", "str_rep", "add_prefix_space", "prepend_scheme", "split"}, origin, where);
      DecoderStep step{DecoderStep::metaspace};
      step.from = get_string(j, "replacement", origin, where);
      if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
        const std::string scheme = get_string(j, "prepend_scheme", origin, where);
        if (scheme != "always" && scheme != "never" && scheme != "first")
          fail(origin, "unsupported " + where + ".prepend_scheme '" + scheme + "'");
        step.metaspace_prepends = scheme != "never";
      } else {
        step.metaspace_prepends = get_bool(j, "add_prefix_space", true, origin, where);
      }
      decoders.push_back(step);
    } else {
      fail(origin, "unsupported " + where + ".type '" + type + "'");
    }
  }

  // Ids as the Rust library gives them: a token already in the model's
  // vocabulary keeps that id, a new one gets the next id after the model's
  // vocabulary and the added tokens so far. A file whose ids disagree is
  // refused (the library would renumber it).
  void load_added_tokens(const json& list) {
    if (!list.is_array()) fail(origin, "added_tokens must be an array");
    const auto model_size = static_cast<std::int64_t>(vocab.size());
    std::int64_t max_added = -1;
    std::size_t index = 0;
    for (const auto& t : list) {
      const std::string where = "added_tokens[" + std::to_string(index++) + "]";
      check_keys(t, {"id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"}, origin, where);
      AddedToken token;
      token.content = get_string(t, "content", origin, where);
      token.special = get_bool(t, "special", false, origin, where);
      token.single_word = get_bool(t, "single_word", false, origin, where);
      token.lstrip = get_bool(t, "lstrip", false, origin, where);
      token.rstrip = get_bool(t, "rstrip", false, origin, where);
      token.normalized = get_bool(t, "normalized", !token.special, origin, where);
      if (!t.contains("id") || !t.at("id").is_number_integer()) fail(origin, where + ".id must be an integer");
      const auto declared = t.at("id").get<std::int64_t>();
      if (token.content.empty() || added_by_content.count(token.content)) continue;
      std::int64_t id;
      if (const auto it = vocab.find(token.content); it != vocab.end()) {
        id = it->second;
      } else if (max_added < 0) {
        id = model_size;
      } else {
        id = max_added >= model_size || model_size == 0 ? max_added + 1 : model_size;
      }
      if (id != declared)
        fail(origin, where + ".id is " + std::to_string(declared) + " but the tokenizers library would give '" +
                         token.content + "' id " + std::to_string(id));
      token.id = static_cast<std::int32_t>(id);
      max_added = std::max(max_added, id);
      max_id = std::max(max_id, token.id);
      added_by_content[token.content] = token.id;
      added_by_id[token.id] = added.size();
      added.push_back(token);
    }
    for (std::size_t i = 0; i < added.size(); ++i) {
      if (added[i].normalized)
        normalized_trie.add(normalize(added[i].content), i);
      else
        raw_trie.add(added[i].content, i);
    }
  }

  void load_post_processor(const json& j, const std::string& where) {
    const std::string type = type_of(j, origin, where);
    if (type == "Sequence") {
      check_keys(j, {"type", "processors"}, origin, where);
      if (!j.contains("processors") || !j.at("processors").is_array()) fail(origin, where + ".processors must be an array");
      std::size_t i = 0;
      for (const auto& p : j.at("processors")) load_post_processor(p, where + ".processors[" + std::to_string(i++) + "]");
    } else if (type == "ByteLevel") {
      check_keys(j, {"type", "add_prefix_space", "trim_offsets", "use_regex"}, origin, where);
    } else if (type == "TemplateProcessing") {
      check_keys(j, {"type", "single", "pair", "special_tokens"}, origin, where);
      if (!j.contains("single") || !j.at("single").is_array()) fail(origin, where + ".single must be an array");
      const json& specials = j.contains("special_tokens") ? j.at("special_tokens") : json::object();
      std::vector<std::int32_t> before, after;
      bool seen_sequence = false;
      for (const auto& item : j.at("single")) {
        if (item.is_object() && item.contains("Sequence")) {
          if (seen_sequence) fail(origin, "unsupported " + where + ".single (two sequences)");
          seen_sequence = true;
        } else if (item.is_object() && item.contains("SpecialToken") && item.at("SpecialToken").contains("id")) {
          const std::string name = item.at("SpecialToken").at("id").get<std::string>();
          if (!specials.contains(name) || !specials.at(name).contains("ids") || !specials.at(name).at("ids").is_array())
            fail(origin, where + ".special_tokens lacks '" + name + "'");
          for (const auto& id : specials.at(name).at("ids")) (seen_sequence ? after : before).push_back(id.get<std::int32_t>());
        } else {
          fail(origin, "unsupported " + where + ".single item");
        }
      }
      if (!seen_sequence) fail(origin, "unsupported " + where + ".single (no Sequence)");
      // A later processor wraps what the earlier ones produced.
      template_before.insert(template_before.begin(), before.begin(), before.end());
      template_after.insert(template_after.end(), after.begin(), after.end());
    } else {
      fail(origin, "unsupported " + where + ".type '" + type + "'");
    }
  }

  // ---------------------------------------------------------- encoding

  std::string normalize(std::string text) const {
    for (const auto& step : normalizers) {
      switch (step.kind) {
        case NormalizerStep::nfc:
        case NormalizerStep::nfd:
        case NormalizerStep::nfkc:
        case NormalizerStep::nfkd: {
          if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) break;
          UErrorCode status = U_ZERO_ERROR;
          const icu::Normalizer2* n = step.kind == NormalizerStep::nfc    ? icu::Normalizer2::getNFCInstance(status)
                                      : step.kind == NormalizerStep::nfd  ? icu::Normalizer2::getNFDInstance(status)
                                      : step.kind == NormalizerStep::nfkc ? icu::Normalizer2::getNFKCInstance(status)
                                                                          : icu::Normalizer2::getNFKDInstance(status);
          if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU normalizer: ") + u_errorName(status));
          std::string out;
          icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
          n->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), sink, nullptr, status);
          if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU normalizer: ") + u_errorName(status));
          text = std::move(out);
          break;
        }
        case NormalizerStep::prepend:
          if (!text.empty()) text = step.text + text;
          break;
        case NormalizerStep::replace: {
          const auto found = step.regex->find_all(text);
          if (found.empty()) break;
          std::string out;
          std::size_t prev = 0;
          for (const auto& [b, e] : found) {
            out.append(text, prev, b - prev);
            out += step.text;
            prev = e;
          }
          out.append(text, prev, std::string::npos);
          text = std::move(out);
          break;
        }
      }
    }
    return text;
  }

  static bool is_word_char(char32_t c) {
    // Rust's char::is_alphanumeric is Unicode-wide; for the added tokens'
    // single_word check the library uses it together with '_'.
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return !is_white_space(c);  // an approximation outside ASCII
  }

  // Split PIECE (no id yet) on the added tokens of TRIE, honouring single_word,
  // lstrip and rstrip.
  void split_added(const Piece& piece, const AddedTrie& trie, std::vector<Piece>& out) const {
    const std::string& s = piece.text;
    if (trie.empty()) {
      if (!s.empty()) out.push_back(piece);
      return;
    }
    std::size_t offset = 0;
    for (auto [start, stop, index] : trie.find_all(s)) {
      const AddedToken& token = added[index];
      if (token.single_word) {
        bool start_space = start == 0;
        if (!start_space) {
          std::size_t k = start - 1;
          while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
          start_space = !is_word_char(utf8_at(s, k));
        }
        const bool stop_space = stop == s.size() || !is_word_char(utf8_at(s, stop));
        if (!start_space || !stop_space) continue;
      }
      if (token.lstrip) {
        std::size_t k = start;
        while (k > offset) {
          std::size_t c = k - 1;
          while (c > 0 && (static_cast<unsigned char>(s[c]) & 0xC0) == 0x80) --c;
          if (!is_white_space(utf8_at(s, c))) break;
          k = c;
        }
        start = std::max(k, offset);
      }
      if (token.rstrip) {
        while (stop < s.size() && is_white_space(utf8_at(s, stop))) stop += utf8_len(static_cast<unsigned char>(s[stop]));
      }
      if (offset < start) out.push_back(Piece{s.substr(offset, start - offset), -1, piece.at_origin && offset == 0});
      out.push_back(Piece{s.substr(start, stop - start), token.id, false});
      offset = stop;
    }
    if (offset < s.size()) out.push_back(Piece{s.substr(offset), -1, piece.at_origin && offset == 0});
  }

  void pre_tokenize(std::vector<Piece>& pieces) const {
    const ByteMap& bm = byte_map();
    for (const auto& step : pre_tokenizers) {
      std::vector<Piece> next;
      next.reserve(pieces.size());
      for (auto& piece : pieces) {
        if (piece.id >= 0) {
          next.push_back(std::move(piece));
          continue;
        }
        switch (step.kind) {
          case PreTokenizerStep::split:
            split_by(piece, step.regex->find_all(piece.text), step.behavior, step.invert, next);
            break;
          case PreTokenizerStep::byte_level: {
            if (step.add_prefix_space && (piece.text.empty() || piece.text[0] != ' ')) piece.text.insert(0, " ");
            const std::size_t first = next.size();
            if (step.regex)
              split_by(piece, step.regex->find_all(piece.text), Behavior::isolated, false, next);
            else if (!piece.text.empty())
              next.push_back(piece);
            for (std::size_t i = first; i < next.size(); ++i) {
              std::string mapped;
              mapped.reserve(next[i].text.size() * 2);
              for (unsigned char c : next[i].text) mapped += bm.byte_to_char[c];
              next[i].text = std::move(mapped);
            }
            break;
          }
          case PreTokenizerStep::metaspace: {
            std::string text;
            text.reserve(piece.text.size() + 3);
            for (char c : piece.text) {
              if (c == ' ') text += step.replacement;
              else text += c;
            }
            const bool starts = text.compare(0, step.replacement.size(), step.replacement) == 0;
            if (!starts && (step.scheme == PreTokenizerStep::always ||
                            (step.scheme == PreTokenizerStep::first && piece.at_origin)))
              text.insert(0, step.replacement);
            piece.text = std::move(text);
            if (step.split_words)
              split_by(piece, step.regex->find_all(piece.text), Behavior::merged_with_next, false, next);
            else if (!piece.text.empty())
              next.push_back(piece);
            break;
          }
        }
      }
      pieces = std::move(next);
    }
  }

  // The BPE model on one pre-token.
  void bpe(const std::string& word, std::vector<std::int32_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges) {
      if (const auto it = vocab.find(word); it != vocab.end()) {
        out.push_back(it->second);
        return;
      }
    }
    constexpr std::size_t kCacheable = 256;
    if (word.size() < kCacheable) {
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (const auto it = cache.find(word); it != cache.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    const std::vector<std::int32_t> ids = merge_word(word);
    out.insert(out.end(), ids.begin(), ids.end());
    if (word.size() < kCacheable) {
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (cache.size() >= 100000) cache.clear();
      cache.emplace(word, ids);
    }
  }

  std::vector<std::int32_t> merge_word(const std::string& word) const {
    // The symbols, as a linked list over an array: id, prev, next, alive.
    struct Symbol {
      std::int32_t id;
      std::int32_t prev, next;
      bool alive;
    };
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    auto add = [&](std::int32_t id) {
      const auto n = static_cast<std::int32_t>(symbols.size());
      symbols.push_back({id, n - 1, n + 1, true});
    };
    std::optional<std::int32_t> unk_pending;
    std::optional<std::int32_t> unk_id;
    if (unk_token) {
      const auto it = vocab.find(*unk_token);
      if (it != vocab.end()) unk_id = it->second;
    }
    std::string key;
    for (std::size_t i = 0; i < word.size();) {
      const std::size_t n = utf8_len(static_cast<unsigned char>(word[i]));
      const bool is_first = i == 0, is_last = i + n >= word.size();
      key.assign(word, i, n);
      if (!is_first && !continuing_subword_prefix.empty()) key.insert(0, continuing_subword_prefix);
      if (is_last && !end_of_word_suffix.empty()) key += end_of_word_suffix;
      i += n;
      if (const auto it = vocab.find(key); it != vocab.end()) {
        if (unk_pending) {
          add(*unk_pending);
          unk_pending.reset();
        }
        add(it->second);
        continue;
      }
      if (byte_fallback) {
        bool all = true;
        for (unsigned char c : key) all = all && byte_fallback_ids[c] >= 0;
        if (all) {
          for (unsigned char c : key) add(byte_fallback_ids[c]);
          continue;
        }
      }
      if (unk_token) {
        if (!unk_id) throw std::runtime_error(origin + ": unk_token '" + *unk_token + "' is not in model.vocab");
        if (unk_pending && !fuse_unk) add(*unk_pending);
        unk_pending = *unk_id;
      }
    }
    if (unk_pending) add(*unk_pending);
    if (symbols.empty()) return {};
    symbols.back().next = -1;

    struct Merge {
      std::int32_t pos, rank, new_id;
      bool operator<(const Merge& o) const {  // the top is the lowest rank, then the leftmost
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Merge> queue;
    auto find = [&](std::int32_t a, std::int32_t b) -> const std::pair<std::int32_t, std::int32_t>* {
      const auto it = merges.find(pair_key(a, b));
      return it == merges.end() ? nullptr : &it->second;
    };
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      if (const auto* m = find(symbols[i].id, symbols[i + 1].id))
        queue.push({static_cast<std::int32_t>(i), m->first, m->second});
    }
    while (!queue.empty()) {
      const Merge top = queue.top();
      queue.pop();
      Symbol& left = symbols[top.pos];
      if (!left.alive || left.next < 0) continue;
      const std::int32_t right_pos = left.next;
      const Symbol right = symbols[right_pos];
      const auto* m = find(left.id, right.id);
      if (!m || m->second != top.new_id) continue;  // a stale entry
      left.id = top.new_id;
      left.next = right.next;
      symbols[right_pos].alive = false;
      if (right.next >= 0) symbols[right.next].prev = top.pos;
      if (left.prev >= 0) {
        if (const auto* pm = find(symbols[left.prev].id, left.id)) queue.push({left.prev, pm->first, pm->second});
      }
      if (left.next >= 0) {
        if (const auto* nm = find(left.id, symbols[left.next].id)) queue.push({top.pos, nm->first, nm->second});
      }
    }
    std::vector<std::int32_t> ids;
    for (const auto& s : symbols)
      if (s.alive) ids.push_back(s.id);
    return ids;
  }

  std::vector<std::int32_t> encode(const std::string& input, bool add_special_tokens) const {
    const std::string text = sanitize_utf8(input);
    std::vector<Piece> pieces;
    // 1. Added tokens that are not normalized, on the raw text.
    split_added(Piece{text, -1, true}, raw_trie, pieces);
    // 2. Normalize the rest, piece by piece, and split off the normalized ones.
    std::vector<Piece> normalized;
    for (auto& piece : pieces) {
      if (piece.id >= 0) {
        normalized.push_back(std::move(piece));
        continue;
      }
      piece.text = normalize(std::move(piece.text));
      split_added(piece, normalized_trie, normalized);
    }
    // 3. Pre-tokenize, 4. the model.
    pre_tokenize(normalized);
    std::vector<std::int32_t> ids;
    if (add_special_tokens) ids = template_before;
    for (const auto& piece : normalized) {
      if (piece.id >= 0) ids.push_back(piece.id);
      else bpe(piece.text, ids);
    }
    if (add_special_tokens) ids.insert(ids.end(), template_after.begin(), template_after.end());
    return ids;
  }

  // ---------------------------------------------------------- decoding

  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (const std::int32_t id : ids) {
      if (const auto it = added_by_id.find(id); it != added_by_id.end()) {
        if (skip_special_tokens && added[it->second].special) continue;
        tokens.push_back(added[it->second].content);
      } else if (const auto v = vocab_r.find(id); v != vocab_r.end()) {
        if (skip_special_tokens) {
          const auto a = added_by_content.find(v->second);
          if (a != added_by_content.end() && added[added_by_id.at(a->second)].special) continue;
        }
        tokens.push_back(v->second);
      }
    }
    if (!has_decoder) {
      std::string out;
      for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
      return out;
    }
    for (const auto& step : decoders) tokens = decode_step(step, std::move(tokens));
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }

  static std::vector<std::string> decode_step(const DecoderStep& step, std::vector<std::string> tokens) {
    switch (step.kind) {
      case DecoderStep::byte_level: {
        const ByteMap& bm = byte_map();
        std::string bytes;
        for (const auto& t : tokens) {
          std::string mapped;
          bool all = true;
          for (std::size_t i = 0; i < t.size() && all;) {
            const auto it = bm.char_to_byte.find(utf8_at(t, i));
            if (it == bm.char_to_byte.end()) all = false;
            else mapped += static_cast<char>(it->second);
            i += utf8_len(static_cast<unsigned char>(t[i]));
          }
          bytes += all ? mapped : t;
        }
        return {sanitize_utf8(bytes)};
      }
      case DecoderStep::byte_fallback: {
        std::vector<std::string> out;
        std::string pending;
        auto flush = [&] {
          if (pending.empty()) return;
          if (sanitize_utf8(pending) == pending) {
            out.push_back(pending);
          } else {
            for (std::size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
          }
          pending.clear();
        };
        for (auto& t : tokens) {
          int byte = -1;
          if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
              std::isxdigit(static_cast<unsigned char>(t[4])))
            byte = std::stoi(t.substr(3, 2), nullptr, 16);
          if (byte >= 0) {
            pending += static_cast<char>(byte);
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        return out;
      }
      case DecoderStep::fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        return {all};
      }
      case DecoderStep::strip: {
        for (auto& t : tokens) {
          const auto chars = utf8_chars(t);
          std::size_t begin = 0, end = chars.size();
          for (std::size_t i = 0; i < step.strip_start && i < chars.size(); ++i) {
            if (utf8_at(chars[i], 0) != step.strip_char) break;
            begin = i + 1;
          }
          for (std::size_t i = 0; i < step.strip_stop && i < chars.size(); ++i) {
            const std::size_t index = chars.size() - i - 1;
            if (utf8_at(chars[index], 0) != step.strip_char) break;
            end = index;
          }
          std::string stripped;
          for (std::size_t i = begin; i < end; ++i) stripped += chars[i];
          t = std::move(stripped);
        }
        return tokens;
      }
      case DecoderStep::replace: {
        for (auto& t : tokens) {
          std::string out;
          std::size_t prev = 0, at;
          while ((at = t.find(step.from, prev)) != std::string::npos) {
            out.append(t, prev, at - prev);
            out += step.to;
            prev = at + step.from.size();
          }
          out.append(t, prev, std::string::npos);
          t = std::move(out);
        }
        return tokens;
      }
      case DecoderStep::metaspace: {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          std::string out;
          const std::string& t = tokens[i];
          std::size_t prev = 0, at;
          while ((at = t.find(step.from, prev)) != std::string::npos) {
            out.append(t, prev, at - prev);
            out += ' ';
            prev = at + step.from.size();
          }
          out.append(t, prev, std::string::npos);
          if (i == 0 && step.metaspace_prepends && !out.empty() && out[0] == ' ') out.erase(0, 1);
          tokens[i] = std::move(out);
        }
        return tokens;
      }
    }
    return tokens;
  }
};

// ---------------------------------------------------------------- Tokenizer

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::string& path_or_folder) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path path = path_or_folder;
  if (fs::is_directory(path, ec)) path /= "tokenizer.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return from_json_text(text.str(), path.string());
}

Tokenizer Tokenizer::from_json_text(const std::string& json_text, const std::string& origin) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    fail(origin, "not JSON: " + message);
  }
  auto impl = std::make_unique<Impl>();
  impl->origin = origin;
  try {
    impl->load(root);
  } catch (const json::exception& e) {
    fail(origin, std::string("unexpected JSON value: ") + e.what());
  }
  return Tokenizer(std::move(impl));
}

std::vector<std::int32_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  return impl_->encode(text, add_special_tokens);
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const {
  return impl_->decode(ids, skip_special_tokens);
}

std::optional<std::int32_t> Tokenizer::token_to_id(const std::string& token) const {
  if (const auto it = impl_->added_by_content.find(token); it != impl_->added_by_content.end()) return it->second;
  if (const auto it = impl_->vocab.find(token); it != impl_->vocab.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> Tokenizer::id_to_token(std::int32_t id) const {
  if (const auto it = impl_->added_by_id.find(id); it != impl_->added_by_id.end()) return impl_->added[it->second].content;
  if (const auto it = impl_->vocab_r.find(id); it != impl_->vocab_r.end()) return it->second;
  return std::nullopt;
}

bool Tokenizer::is_special(std::int32_t id) const {
  const auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && impl_->added[it->second].special;
}

std::int32_t Tokenizer::vocab_size() const { return impl_->max_id + 1; }

// ---------------------------------------------------------------- UTF-8 repair

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const char* const kReplacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    std::size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) need = 2, lo = 0xA0;
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) need = 2;
    else if (b == 0xED) need = 2, hi = 0x9F;
    else if (b == 0xF0) need = 3, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) need = 3, hi = 0x8F;
    else {
      out += kReplacement;
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    bool ok = true;
    for (std::size_t k = 0; k < need; ++k, ++j) {
      if (j >= s.size()) {
        ok = false;
        break;
      }
      const auto c = static_cast<unsigned char>(s[j]);
      if (c < lo || c > hi) {
        ok = false;
        break;
      }
      lo = 0x80;
      hi = 0xBF;
    }
    if (ok) out.append(s.substr(i, j - i));
    else out += kReplacement;
    i = j;
  }
  return out;
}

}  // namespace evoprompt::codegen
