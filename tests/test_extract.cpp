#include <catch2/catch.hpp>

#include "extract.hpp"
#include "replay_lm.hpp"

#include <cstdio>
#include <fstream>

using namespace evoprompt::codegen;

namespace {
const std::string kOpen = "struct Model : torch::nn::Module {";
const std::string kBody =
    "\n  torch::nn::Linear fc{nullptr};\n"
    "  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
    "  torch::Tensor forward(torch::Tensor x) { return fc(x); }\n"
    "};";
const std::string kChild = kOpen + kBody + "\n";
}  // namespace

TEST_CASE("extraction re-attaches the opening line and stops at the balanced '};'", "[extract]") {
  auto e = extract_child(kBody + "\n\n/* trailing chatter */ int after = 1;\n", kOpen);
  CHECK(e.complete);
  CHECK(e.code == kChild);
}

TEST_CASE("extraction cuts at the stop sequence", "[extract]") {
  auto e = extract_child(kBody + "\n\n/* Metrics:\n{'num_params': '1'}\n*/\nstruct Model", kOpen);
  CHECK(e.complete);
  CHECK(e.code == kChild);
}

TEST_CASE("extraction strips markdown fences and chat chatter", "[extract]") {
  SECTION("a chat answer that repeats the opening line inside a fence") {
    auto e = extract_child("Sure! Here is a smaller model:\n```cpp\n" + kChild + "```\nIt has 410 parameters.", kOpen);
    CHECK(e.complete);
    CHECK(e.code == kChild);
  }
  SECTION("a continuation that closes with a fence") {
    auto e = extract_child(kBody + "\n```\n", kOpen);
    CHECK(e.complete);
    CHECK(e.code == kChild);
  }
  SECTION("chatter before an unfenced struct") {
    auto e = extract_child("Here you go.\n" + kChild, kOpen);
    CHECK(e.complete);
    CHECK(e.code == kChild);
  }
}

TEST_CASE("braces inside strings and comments do not count", "[extract]") {
  const std::string body =
      "\n  // a stray } in a comment\n  /* and { here */\n"
      "  torch::Tensor forward(torch::Tensor x) { const char* s = \"}\"; char c = '}'; return x; }\n};";
  auto e = extract_child(body, kOpen);
  CHECK(e.complete);
  CHECK(e.code == kOpen + body + "\n");
}

TEST_CASE("incomplete completions are reported, not repaired", "[extract]") {
  auto cut = extract_child("\n  torch::Tensor forward(torch::Tensor x) {\n    return x;\n", kOpen);
  CHECK_FALSE(cut.complete);
  CHECK(cut.problem == "completion ends before the closing '};' of struct Model (2 braces open)");
  auto no_semicolon = extract_child("\n  int a = 1;\n}\nint b;", kOpen);
  CHECK_FALSE(no_semicolon.complete);
  CHECK(no_semicolon.problem == "struct Model closes without ';'");
  auto empty = extract_child("  \n", kOpen);
  CHECK_FALSE(empty.complete);
  CHECK(empty.problem == "empty completion");
}

TEST_CASE("the replay LM hands out recorded completions by run-wide sample index", "[replay]") {
  const std::string path = "replay_test.jsonl";
  {
    std::ofstream f(path);
    f << "{\"text\": \"a\"}\n\n{\"completion\": \"b\", \"completion_tokens\": 3}\n{\"text\": \"c\", \"error\": \"boom\"}\n";
  }
  ReplayLanguageModel lm(path);
  CHECK(lm.size() == 3);
  SampleRequest r;
  r.temperatures = {0.2, 1.0};
  r.first_sample = 1;
  const auto out = lm.sample(r);
  REQUIRE(out.size() == 2);
  CHECK(out[0].text == "b");
  CHECK(out[0].completion_tokens == 3);
  CHECK(out[1].text == "c");
  CHECK(out[1].error == "boom");
  r.first_sample = 2;
  CHECK_THROWS_WITH(lm.sample(r), "replay: replay_test.jsonl holds 3 completions; sample 3 was asked for");
  {
    std::ofstream f(path);
    f << "{\"text\": \"a\"}\nnot json\n";
  }
  CHECK_THROWS_WITH(ReplayLanguageModel(path), "replay: replay_test.jsonl:2: not JSON");
  std::remove(path.c_str());
}
