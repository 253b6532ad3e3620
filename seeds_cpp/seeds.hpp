// The seed programs, compiled into the binary until the JIT exists. Each
// seed file keeps the child contract (one `struct Model`, no includes).
#pragma once

#include <string>
#include <vector>

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

}  // namespace evoprompt
