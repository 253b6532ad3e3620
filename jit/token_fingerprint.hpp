// Identity of a child up to whitespace and comments: a hash of its Clang
// token stream (raw lexing, no preprocessing). Two sources get the same
// fingerprint exactly when their token spellings are equal.
#pragma once

#include <string>

namespace evoprompt::jit {

// 32 hex digits (xxh3-128 of the token spellings).
std::string token_fingerprint(const std::string& source);

}  // namespace evoprompt::jit
