#include <catch2/catch.hpp>

#include "prompt.hpp"

using namespace evoprompt::codegen;

namespace {
const char* kTiny =
    "struct Model : torch::nn::Module {\n"
    "  torch::nn::Linear fc{nullptr};\n"
    "  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
    "  torch::Tensor forward(torch::Tensor x) { return fc(x); }\n"
    "};\n";
}

TEST_CASE("target metrics follow paper section 3.2", "[prompt]") {
  // Listing 1: 0.9 x 4800 = 4320 -> 4300; 1.02 x 0.865 = 0.8823 -> 0.882.
  auto t = target_metrics({{"", {4800, 0.865}}});
  CHECK(t.num_params == 4300);
  CHECK(t.val_accuracy == Approx(0.882).margin(1e-12));
  // The smallest parent sets the size, the best parent sets the accuracy.
  t = target_metrics({{"", {91082, 0.871}}, {"", {5210, 0.944}}});
  CHECK(t.num_params == 4700);  // 4689 -> 4700
  CHECK(t.val_accuracy == Approx(0.963).margin(1e-12));  // 0.96288
  // Half-way rounds away from zero: 0.9 x 1500 = 1350 -> 1400.
  CHECK(target_metrics({{"", {1500, 0.5}}}).num_params == 1400);
  // Accuracy is capped at 1.0.
  CHECK(target_metrics({{"", {5000, 0.99}}}).val_accuracy == 1.0);
  CHECK_THROWS_AS(target_metrics({}), std::invalid_argument);
}

TEST_CASE("metrics block is the paper's dict of strings", "[prompt]") {
  CHECK(metrics_block({5210, 0.944}) == "/* Metrics:\n{'num_params': '5210', 'val_accuracy': '0.944'}\n*/\n");
  CHECK(metrics_block({12, 0.5}) == "/* Metrics:\n{'num_params': '12', 'val_accuracy': '0.500'}\n*/\n");
}

TEST_CASE("few-shot prompt golden text", "[prompt]") {
  std::vector<PromptExample> parents{{kTiny, {410, 0.6234}}, {std::string(kTiny) + "\n\n", {5210, 0.944}}};
  const Prompt p = make_few_shot_prompt(parents);
  const std::string expected =
      "/* Metrics:\n{'num_params': '410', 'val_accuracy': '0.623'}\n*/\n"
      "struct Model : torch::nn::Module {\n"
      "  torch::nn::Linear fc{nullptr};\n"
      "  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
      "  torch::Tensor forward(torch::Tensor x) { return fc(x); }\n"
      "};\n\n"
      "/* Metrics:\n{'num_params': '5210', 'val_accuracy': '0.944'}\n*/\n"
      "struct Model : torch::nn::Module {\n"
      "  torch::nn::Linear fc{nullptr};\n"
      "  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
      "  torch::Tensor forward(torch::Tensor x) { return fc(x); }\n"
      "};\n\n"
      "/* Metrics:\n{'num_params': '400', 'val_accuracy': '0.963'}\n*/\n"
      "struct Model : torch::nn::Module {";
  CHECK(p.text == expected);
  CHECK(p.target.num_params == 400);  // 0.9 x 410 = 369 -> 400

  SECTION("the parents read back from the prompt text") {
    const auto back = parse_prompt_examples(p.text);
    REQUIRE(back.size() == 2);
    CHECK(back[0].metrics.num_params == 410);
    CHECK(back[0].metrics.val_accuracy == Approx(0.623));
    CHECK(back[1].metrics.num_params == 5210);
    CHECK(back[0].code + "\n" == kTiny);
    CHECK(back[1].code + "\n" == kTiny);
  }
}
