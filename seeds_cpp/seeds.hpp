// The seed programs, compiled into the binary until the JIT exists. Each
// seed file keeps the child contract (one `struct Model`, no includes).
#pragma once

#include <string>
#include <vector>

#include "clrs_model/clrs_model.hpp"
#include "model.hpp"

namespace evoprompt {

struct Seed {
  std::string name;  // e.g. "cnn"
  std::string file;    // path under seeds_cpp/, e.g. "mnist1d/cnn.cpp"
  std::string source;  // the file's text, embedded at build time (what the JIT compiles)
  ModelFactory factory;  // the same file compiled ahead of time: the JIT's test oracle
};

// The paper's four MNIST-1D seeds, in the paper's order.
const std::vector<Seed>& mnist1d_seeds();

// A CLRS seed: a triplet function in the triplet child contract (one
// `struct Triplet`, no includes; see clrs_model/triplet_jit.hpp).
struct ClrsSeed {
  std::string name;    // e.g. "v1", "concatrep"
  std::string file;    // path under seeds_cpp/, e.g. "clrs/v1.cpp"
  std::string source;  // the file's text, embedded at build time (what the JIT compiles)
  clrs::TripletFactory factory;  // the same file compiled ahead of time: the JIT's test oracle
};

// The paper's nine seed triplet functions v1..v9 (Appendix A.5), then the
// five it found (Appendix A.4): quadnodeminmax, concatrep, maxmean,
// div2mean, tanhexpandtriplets.
const std::vector<ClrsSeed>& clrs_seeds();

}  // namespace evoprompt
