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

TEST_CASE("task header text, and its parse", "[prompt]") {
  const TaskHeader h{"Tiny images of four shapes", {3, 8, 8}, 4};
  CHECK(task_header_text(h) ==
        "/* Task: Tiny images of four shapes\n"
        "Input: x [B, 3, 8, 8] float32. Output: [B, 4] logits (4 classes). */\n\n");
  // One line, and nothing that would close the comment early.
  CHECK(task_header_text({"two\nlines */ here **//", {20}, 3}) ==
        "/* Task: two lines  here \n"
        "Input: x [B, 20] float32. Output: [B, 3] logits (3 classes). */\n\n");
  CHECK(task_header_text({"", {2, 30}, 5}) ==
        "/* Task:\nInput: x [B, 2, 30] float32. Output: [B, 5] logits (5 classes). */\n\n");

  for (const TaskHeader& t : {h, TaskHeader{"", {2, 30}, 5}, TaskHeader{" spaced ", {7}, 12},
                              TaskHeader{"rank 4", {2, 3, 4, 5}, 2}, TaskHeader{"scalar", {}, 2}}) {
    INFO(task_header_text(t));
    const auto back = parse_task_header(task_header_text(t) + "/* Metrics:\n");
    REQUIRE(back);
    CHECK(back->description == t.description);
    CHECK(back->input_shape == t.input_shape);
    CHECK(back->classes == t.classes);
  }
  // Only at the very start, and only when both class counts agree.
  CHECK_FALSE(parse_task_header("\n" + task_header_text(h)));
  CHECK_FALSE(parse_task_header("/* Metrics:\n{'num_params': '410', 'val_accuracy': '0.623'}\n*/\n"));
  CHECK_FALSE(parse_task_header(
      "/* Task: x\nInput: x [B, 3] float32. Output: [B, 4] logits (5 classes). */\n\n"));
  CHECK_FALSE(parse_task_header(
      "/* Task: x\nInput: x [B, 99999999999999999999] float32. Output: [B, 4] logits (4 classes). */\n\n"));
}

TEST_CASE("few-shot prompt with a task header", "[prompt]") {
  const TaskHeader h{"Tiny images", {3, 8, 8}, 4};
  std::vector<PromptExample> parents{{kTiny, {410, 0.6234}}};
  const Prompt p = make_few_shot_prompt(parents, kModelOpening, h);
  const std::string expected =
      "/* Task: Tiny images\n"
      "Input: x [B, 3, 8, 8] float32. Output: [B, 4] logits (4 classes). */\n\n"
      "/* Metrics:\n{'num_params': '410', 'val_accuracy': '0.623'}\n*/\n"
      "struct Model : torch::nn::Module {\n"
      "  torch::nn::Linear fc{nullptr};\n"
      "  Model() { fc = register_module(\"fc\", torch::nn::Linear(40, 10)); }\n"
      "  torch::Tensor forward(torch::Tensor x) { return fc(x); }\n"
      "};\n\n"
      "/* Metrics:\n{'num_params': '400', 'val_accuracy': '0.636'}\n*/\n"
      "struct Model : torch::nn::Module {";
  CHECK(p.text == expected);
  // No header: the paper's prompt, byte for byte.
  CHECK(make_few_shot_prompt(parents, kModelOpening, std::nullopt).text == make_few_shot_prompt(parents).text);
  CHECK_FALSE(parse_task_header(make_few_shot_prompt(parents).text));

  // The examples read back without the header.
  const auto back = parse_prompt_examples(p.text);
  REQUIRE(back.size() == 1);
  CHECK(back[0].metrics.num_params == 410);
  CHECK(back[0].code + "\n" == kTiny);
  const auto header = parse_task_header(p.text);
  REQUIRE(header);
  CHECK(header->description == "Tiny images");
  CHECK(header->input_shape == std::vector<std::int64_t>{3, 8, 8});
  CHECK(header->classes == 4);
}
