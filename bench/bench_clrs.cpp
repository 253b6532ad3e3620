// Training throughput of Triplet-GMPNN on BFS (batch 32, n <= 16, h = 128) on
// the CPU, through train_clrs: on-the-fly sampling, batching and the update
// step are timed; the one validation and the test are not. The triplet
// function is either the compiled-in baseline (the anchor) or the paper's
// seed v1 compiled by the JIT, the path every CLRS child takes. Prints one
// JSON line; bench/run.sh compares the two, measured in the same run.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <iostream>
#include <string>

#include "clrs_model/clrs_training.hpp"
#include "clrs_model/triplet_jit.hpp"
#include "jit_model.hpp"
#include "model.hpp"
#include "seeds.hpp"

int main(int argc, char** argv) {
  using namespace evoprompt;
  if (argc < 4 || (std::string(argv[3]) != "aot" && std::string(argv[3]) != "jit")) {
    std::cerr << "usage: evoprompt_bench_clrs STEPS THREADS aot|jit [DEVICE]\n";
    return 2;
  }
  try {
    const std::string impl = argv[3];
    clrs::ClrsTrainOptions o;
    o.algorithm = "bfs";
    o.steps = std::stoll(argv[1]);
    o.eval_every = o.steps + 1;  // one validation, after the first step
    o.test_samples = 0;
    if (argc > 4) o.device = resolve_device(argv[4]);
    torch::set_num_threads(std::stoi(argv[2]));
    clrs::TripletFactory triplet;  // empty: the compiled-in baseline (= v1)
    std::unique_ptr<jit::ChildJit> jit;
    if (impl == "jit") {
      jit = std::make_unique<jit::ChildJit>(torch_jit_options());
      for (const auto& s : clrs_seeds())
        if (s.name == "v1") {
          auto compiled = clrs::compile_triplet(*jit, s.source, s.file);
          if (!compiled.verdict.accepted()) throw std::runtime_error("v1: " + compiled.verdict.message);
          triplet = compiled.factory;
        }
    }
    const auto r = clrs::train_clrs(triplet, o);
    std::cout << nlohmann::json{{"impl", impl},
                                {"threads", torch::get_num_threads()},
                                {"device", o.device.str()},
                                {"batch", o.batch_size},
                                {"steps", r.steps},
                                {"steps_per_s", r.steps_per_s()},
                                {"params", r.params_used}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "evoprompt_bench_clrs: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
