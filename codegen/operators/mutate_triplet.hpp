// The mutate operator for CLRS children: the evolvable unit is a triplet
// function, `struct Triplet : torch::nn::Module` (runtime/clrs_model/
// triplet_jit.hpp has the contract: forward(z [B,N,2h], edge_fts [B,N,N,h],
// graph_fts [B,h]) -> [B,N,N,F]).
//
// A parent in the seeds' idiom (seeds_cpp/clrs/) is read as a small program:
// terms `tri_* = rep(input).unsqueeze(..)` summed into `triplets`
// [B,N,N,N,W], element-wise ops on it, a reduction over axis 1, element-wise
// ops on the result and an optional output layer. Edits keep the program
// shape-correct (equal term widths, axes 2 and 3 broadcast to N); layers are
// made lazily from `x.size(-1)`, so widths downstream follow by themselves.
// Parents outside the idiom get a text-level edit, or come back unchanged.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "mutate_lm.hpp"
#include "prompt.hpp"

namespace evoprompt::codegen {

// The opening line CLRS children complete (the engine re-attaches it).
inline constexpr const char* kTripletOpening = "struct Triplet : torch::nn::Module {";

// Whether `code` defines `struct Triplet` (the operator to dispatch to).
bool is_triplet_program(const std::string& code);

// One child of Triplet parents: as MutateOperator::make_child (temperature
// sets 1-3 edits; deterministic; never a parent's or an `avoid` text when
// avoidable). The completion is the text after kTripletOpening through `};`.
MutationResult make_triplet_child(const std::vector<PromptExample>& parents, double temperature,
                                  std::uint64_t stream, const std::set<std::string>& avoid = {});

// The operator's parse of one Triplet program, printed back (completion
// text); empty when the program is outside the idiom it reads.
std::string canonical_triplet(const std::string& code);

// Trainable parameters by the operator's count for the paper's shapes
// (z 256, edge and graph features 128, nb_triplet_fts 8, out_size 128), as
// the CLRS tests count them (Haiku: a module used twice counts once); -1
// when the program is outside the idiom.
std::int64_t triplet_params(const std::string& code);

}  // namespace evoprompt::codegen
