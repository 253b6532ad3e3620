// A Hugging Face `tokenizer.json` tokenizer: BPE, byte-level (GPT-2, Qwen2/3,
// Llama-3, DeepSeek-Coder) or with byte fallback and Metaspace (Llama-2,
// CodeLlama). Token ids match the Rust `tokenizers` library; the parity test
// (tests/tokenizer_parity) checks them against it.
//
// Supported in tokenizer.json (anything else is refused with a one-line
// std::runtime_error naming the field):
//   model          BPE: vocab, merges ("a b" or ["a","b"]), unk_token, fuse_unk,
//                  byte_fallback, ignore_merges, continuing_subword_prefix,
//                  end_of_word_suffix, dropout null or 0
//   normalizer     null, NFC, NFD, NFKC, NFKD, Prepend, Replace (String or
//                  Regex pattern), Sequence
//   pre_tokenizer  null, Split (String or Regex pattern, every behavior,
//                  invert), ByteLevel (add_prefix_space, use_regex), Metaspace
//                  (replacement, prepend_scheme or add_prefix_space, split),
//                  Sequence
//   post_processor null, ByteLevel, TemplateProcessing (single), Sequence
//   decoder        null, ByteLevel, ByteFallback, Fuse, Strip, Replace
//                  (String pattern), Metaspace, Sequence
//   added_tokens   special or not, normalized or not, lstrip, rstrip,
//                  single_word
//   truncation, padding: null only
//
// Text is UTF-8. Bytes that are not valid UTF-8 become U+FFFD, one for each
// maximal invalid subpart (the WHATWG decoder: what Node's TextDecoder and
// Rust's from_utf8_lossy do), before anything else. decode() does the same to
// the bytes the tokens spell.
//
// encode() and decode() are const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evoprompt::codegen {

class Tokenizer {
 public:
  // PATH is a tokenizer.json, or a folder holding one.
  static Tokenizer load(const std::string& path_or_folder);
  // The text of a tokenizer.json; ORIGIN names it in error messages.
  static Tokenizer from_json_text(const std::string& json_text, const std::string& origin = "tokenizer.json");

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Special tokens (the post_processor's template, e.g. Llama-2's <s>) are
  // added only when ADD_SPECIAL_TOKENS. Added tokens written in the text
  // ("<|im_start|>") are always recognised.
  std::vector<std::int32_t> encode(const std::string& text, bool add_special_tokens = false) const;
  // Unknown ids are skipped, like the Rust library.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = false) const;

  std::optional<std::int32_t> token_to_id(const std::string& token) const;
  std::optional<std::string> id_to_token(std::int32_t id) const;
  bool is_special(std::int32_t id) const;
  // The largest id (model vocabulary or added token) plus one: the size of
  // an id-indexed table.
  std::int32_t vocab_size() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// BYTES with every maximal invalid UTF-8 subpart replaced by U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace evoprompt::codegen
