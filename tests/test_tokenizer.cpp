#include <catch2/catch.hpp>
#include "tokenizer.hpp"
TEST_CASE("tokenizer placeholder") { CHECK(evoprompt::codegen::sanitize_utf8("a") == "a"); }
