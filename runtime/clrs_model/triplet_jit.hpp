// CLRS children through the JIT: the evolvable unit is the triplet function.
// The child contract is one C++ file (no includes) defining
//
//   struct Triplet : torch::nn::Module {
//     Triplet(int64_t nb_triplet_fts, int64_t out_size);
//     torch::Tensor forward(torch::Tensor z,          // [B, N, 2h]
//                           torch::Tensor edge_fts,   // [B, N, N, h]
//                           torch::Tensor graph_fts); // [B, h]
//   };                                                // -> [B, N, N, F]
//
// F is normally out_size (the processor finds it with a probe call, so a
// narrower output such as QUADNODEMINMAX's nb_triplet_fts also plugs in).
// It compiles with the same JIT, prelude (torch_jit_options) and policy as
// the MNIST-1D children; the harness below checks the contract.
#pragma once

#include <string>

#include "child_jit.hpp"
#include "clrs_model/clrs_model.hpp"

namespace evoprompt::clrs {

// The contract checks and entry points appended after every triplet child.
// Contract rules: no_triplet, not_a_module, constructor_signature,
// forward_signature (and "harness" for anything else the harness trips on).
const std::string& triplet_harness();

struct JitTriplet {
  jit::Verdict verdict;
  TripletFactory factory;  // set when accepted; keeps the child's code alive
  double compile_ms = 0.0;
};

JitTriplet compile_triplet(jit::ChildJit& jit, const std::string& source, const std::string& display_name);

}  // namespace evoprompt::clrs
