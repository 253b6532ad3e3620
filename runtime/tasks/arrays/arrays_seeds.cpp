// Seeds sized from the data, in the idiom `--lm mutate` edits (see
// codegen/operators/mutate_lm.hpp): flat MLPs, strided 1-D or 2-D CNNs.
#include <numeric>
#include <string>

#include "tasks/arrays/arrays_task.hpp"

namespace evoprompt::tasks {
namespace {

std::string n(std::int64_t v) { return std::to_string(v); }

// Length after a kernel-3, stride-2, padding-1 convolution.
std::int64_t halved(std::int64_t l) { return (l - 1) / 2 + 1; }

std::string mlp(std::int64_t features, std::int64_t classes, bool flatten) {
  return "// An MLP with one residual block, sized from the data.\n"
         "struct Model : torch::nn::Module {\n"
         "  torch::nn::Linear input{nullptr}, hidden{nullptr}, output{nullptr};\n\n"
         "  Model() {\n"
         "    input = register_module(\"input\", torch::nn::Linear(" + n(features) + ", 64));\n"
         "    hidden = register_module(\"hidden\", torch::nn::Linear(64, 64));\n"
         "    output = register_module(\"output\", torch::nn::Linear(64, " + n(classes) + "));\n"
         "  }\n\n"
         "  torch::Tensor forward(torch::Tensor x) {\n"
         "    x = torch::relu(input(" + std::string(flatten ? "x.flatten(1)" : "x") + "));\n"
         "    x = x + torch::relu(hidden(x));\n"
         "    return output(x);\n"
         "  }\n"
         "};\n";
}

// One hidden layer of 16: the small end of the seeds. (A linear classifier
// would be a degenerate seed: tiny, so fit by -params x error even when its
// error is above alpha.)
std::string small_mlp(std::int64_t features, std::int64_t classes, bool flatten) {
  return "// An MLP with one hidden layer of 16 units.\n"
         "struct Model : torch::nn::Module {\n"
         "  torch::nn::Linear hidden{nullptr}, output{nullptr};\n\n"
         "  Model() {\n"
         "    hidden = register_module(\"hidden\", torch::nn::Linear(" + n(features) + ", 16));\n"
         "    output = register_module(\"output\", torch::nn::Linear(16, " + n(classes) + "));\n"
         "  }\n\n"
         "  torch::Tensor forward(torch::Tensor x) {\n"
         "    x = torch::relu(hidden(" + std::string(flatten ? "x.flatten(1)" : "x") + "));\n"
         "    return output(x);\n"
         "  }\n"
         "};\n";
}

// Two strided convolutions (1-D for [C, L], 2-D for [C, H, W]), then a linear layer.
std::string cnn(const std::vector<std::int64_t>& shape, std::int64_t classes) {
  const bool two_d = shape.size() == 3;
  const std::string conv = two_d ? "Conv2d" : "Conv1d";
  std::int64_t flat = 32;
  std::string after1 = "[B, 16", after2 = "[B, 32";
  for (std::size_t i = 1; i < shape.size(); ++i) {
    flat *= halved(halved(shape[i]));
    after1 += ", " + n(halved(shape[i]));
    after2 += ", " + n(halved(halved(shape[i])));
  }
  return "// A small " + std::string(two_d ? "2-D" : "1-D") + " CNN: two strided convolutions, then a linear layer.\n"
         "struct Model : torch::nn::Module {\n"
         "  torch::nn::" + conv + " conv1{nullptr}, conv2{nullptr};\n"
         "  torch::nn::Linear linear{nullptr};\n\n"
         "  Model() {\n"
         "    conv1 = register_module(\"conv1\", torch::nn::" + conv + "(torch::nn::" + conv + "Options(" + n(shape[0]) +
         ", 16, 3).stride(2).padding(1)));\n"
         "    conv2 = register_module(\"conv2\", torch::nn::" + conv + "(torch::nn::" + conv +
         "Options(16, 32, 3).stride(2).padding(1)));\n"
         "    linear = register_module(\"linear\", torch::nn::Linear(" + n(flat) + ", " + n(classes) + "));\n"
         "  }\n\n"
         "  torch::Tensor forward(torch::Tensor x) {\n"
         "    x = torch::relu(conv1(x));  // " + after1 + "]\n"
         "    x = torch::relu(conv2(x));  // " + after2 + "]\n"
         "    return linear(x.flatten(1));\n"
         "  }\n"
         "};\n";
}

}  // namespace

std::vector<SeedSource> generic_seeds(const std::vector<std::int64_t>& shape, std::int64_t classes) {
  const std::int64_t features =
      std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<std::int64_t>());
  const bool flatten = shape.size() != 1;
  std::vector<SeedSource> seeds;
  if (shape.size() == 2 || shape.size() == 3) seeds.push_back({"cnn", "arrays/cnn.cpp", cnn(shape, classes)});
  seeds.push_back({"mlp", "arrays/mlp.cpp", mlp(features, classes, flatten)});
  seeds.push_back({"small_mlp", "arrays/small_mlp.cpp", small_mlp(features, classes, flatten)});
  return seeds;
}

}  // namespace evoprompt::tasks
