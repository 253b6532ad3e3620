// Each seed file is included inside a namespace of its own, so the file text
// stays exactly the child contract and the four `Model`s do not collide.
#include <torch/torch.h>

#include "seeds.hpp"
#include "seed_sources.hpp"

namespace evoprompt {
namespace seed_large_cnn {
#include "mnist1d/large_cnn.cpp"
}
namespace seed_cnn {
#include "mnist1d/cnn.cpp"
}
namespace seed_gru {
#include "mnist1d/gru.cpp"
}
namespace seed_residual_mlp {
#include "mnist1d/residual_mlp.cpp"
}

namespace {

template <typename M>
ModelFactory factory_of() {
  return [] {
    auto model = std::make_shared<M>();
    M* raw = model.get();  // owned by the instance's module pointer
    return ModelInstance{model, [raw](const torch::Tensor& x) { return raw->forward(x); }};
  };
}

}  // namespace

const std::vector<Seed>& mnist1d_seeds() {
  static const std::vector<Seed> seeds = {
      {"large_cnn", "mnist1d/large_cnn.cpp", seed_source_large_cnn, factory_of<seed_large_cnn::Model>()},
      {"cnn", "mnist1d/cnn.cpp", seed_source_cnn, factory_of<seed_cnn::Model>()},
      {"gru", "mnist1d/gru.cpp", seed_source_gru, factory_of<seed_gru::Model>()},
      {"residual_mlp", "mnist1d/residual_mlp.cpp", seed_source_residual_mlp, factory_of<seed_residual_mlp::Model>()},
  };
  return seeds;
}

}  // namespace evoprompt
