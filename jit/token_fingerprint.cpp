#include "token_fingerprint.hpp"

#include <clang/Basic/LangOptions.h>
#include <clang/Basic/SourceLocation.h>
#include <clang/Lex/Lexer.h>
#include <llvm/Support/xxhash.h>

#include <cstdio>

namespace evoprompt::jit {

std::string token_fingerprint(const std::string& source) {
  clang::LangOptions lang;
  lang.CPlusPlus = lang.CPlusPlus11 = lang.CPlusPlus14 = lang.CPlusPlus17 = true;
  lang.LineComment = true;
  clang::Lexer lexer(clang::SourceLocation(), lang, source.data(), source.data(), source.data() + source.size());
  // Spellings joined by a byte no token contains, so "a b" and "ab" differ.
  std::string stream;
  clang::Token token;
  for (;;) {
    lexer.LexFromRawLexer(token);
    if (token.is(clang::tok::eof)) break;
    // The lexer stands just past the token it returned.
    stream.append(lexer.getBufferLocation() - token.getLength(), token.getLength());
    stream.push_back('\x1f');
  }
  const llvm::XXH128_hash_t h =
      llvm::xxh3_128bits(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t*>(stream.data()), stream.size()));
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return hex;
}

}  // namespace evoprompt::jit
