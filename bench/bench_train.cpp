// Training throughput of the CNN seed under the real trainer: batch 128, the
// canonical data. Prints one JSON line; bench/run.sh compares it with the
// Python PyTorch loop measured in the same run (one CPU thread), and
// scripts/gpu-check.sh times whole children on a GPU, eager and graphed.
//   evoprompt_bench MNIST1D_DIR [STEPS] [--device D] [--cuda-graph on|off] [--eval-every N]
// Without --eval-every there is one evaluation, at the end, outside the timed steps.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "mnist1d.hpp"
#include "model.hpp"
#include "seeds.hpp"
#include "trainer.hpp"

int main(int argc, char** argv) {
  using namespace evoprompt;
  if (argc < 2) {
    std::cerr << "usage: evoprompt_bench MNIST1D_DIR [STEPS] [--device D] [--cuda-graph on|off] [--eval-every N]\n";
    return 2;
  }
  try {
    TrainOptions options;
    options.steps = 2000;
    int i = 2;
    if (argc > 2 && argv[2][0] != '-') options.steps = std::stoll(argv[i++]);
    options.eval_every = options.steps;
    for (; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      const std::string v = argv[++i];
      if (a == "--device") options.device = resolve_device(v);
      else if (a == "--cuda-graph" && (v == "on" || v == "off")) options.cuda_graph = v == "on";
      else if (a == "--eval-every") options.eval_every = std::stoll(v);
      else throw std::invalid_argument("unknown argument " + a + " " + v);
    }
    torch::set_num_threads(1);
    const auto data = load_mnist1d(argv[1]);
    const auto tensors = make_classification_data(data, holdout_split(data.num_train(), 500, 42), options.device);
    const Seed* cnn = nullptr;
    for (const auto& s : mnist1d_seeds())
      if (s.name == "cnn") cnn = &s;
    const auto r = train_classifier(cnn->factory, tensors, options);
    std::cout << nlohmann::json{{"impl", "cpp"},          {"steps", options.steps},
                                {"steps_per_s", r.steps_per_s()}, {"wall_s", r.wall_s},
                                {"best_val_acc", r.best_val_acc}, {"device", options.device.str()},
                                {"step_path", r.step_path}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "evoprompt_bench: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
