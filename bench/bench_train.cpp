// Training throughput of the CNN seed under the real trainer: one thread,
// batch 128, the canonical data. Prints one JSON line; bench/run.sh compares
// it with the Python PyTorch loop measured in the same run.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "mnist1d.hpp"
#include "seeds.hpp"
#include "trainer.hpp"

int main(int argc, char** argv) {
  using namespace evoprompt;
  if (argc < 2) {
    std::cerr << "usage: evoprompt_bench MNIST1D_DIR [STEPS]\n";
    return 2;
  }
  try {
    const std::int64_t steps = argc > 2 ? std::stoll(argv[2]) : 2000;
    torch::set_num_threads(1);
    const auto data = load_mnist1d(argv[1]);
    const auto tensors = make_classification_data(data, holdout_split(data.num_train(), 500, 42), torch::kCPU);
    TrainOptions options;
    options.steps = steps;
    options.eval_every = steps;  // one evaluation, at the end, outside the timed steps
    const Seed* cnn = nullptr;
    for (const auto& s : mnist1d_seeds())
      if (s.name == "cnn") cnn = &s;
    const auto r = train_classifier(cnn->factory, tensors, options);
    std::cout << nlohmann::json{{"impl", "cpp"}, {"steps", steps}, {"steps_per_s", r.steps_per_s()}}.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "evoprompt_bench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
