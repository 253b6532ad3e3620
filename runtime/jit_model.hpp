// Children of the MNIST-1D task through the JIT: the torch prelude and flags,
// the harness that turns `struct Model` into entry points, and evaluation
// that turns any failure into a verdict.
#pragma once

#include <functional>
#include <string>

#include "child_jit.hpp"
#include "evaluator.hpp"
#include "model.hpp"
#include "trainer.hpp"

namespace evoprompt {

// Prelude, flags and driver for children that use libtorch.
jit::JitOptions torch_jit_options(const std::string& cache_dir = "");

// The contract checks and factory appended after every MNIST-1D child.
const std::string& model_harness();

struct JitModel {
  jit::Verdict verdict;
  ModelFactory factory;  // set when accepted; keeps the child's code alive
  double compile_ms = 0.0;
};

JitModel compile_model(jit::ChildJit& jit, const std::string& source, const std::string& display_name);

// Runs a child's training; an exception from its code (c10::Error,
// std::exception or anything else) becomes a runtime_error verdict carrying
// the first line of its message. Accepted when `work` returns.
jit::Verdict run_guarded(const std::function<void()>& work);

// The verdict as an evaluator reports it: "evaluated" when accepted, else the
// verdict's kind, with its rule, message and diagnostics.
void set_verdict(ChildResult& result, const jit::Verdict& verdict);

struct ChildEvaluation {
  jit::Verdict verdict;  // accepted means evaluated
  TrainResult train;
  double compile_ms = 0.0;
  double train_ms = 0.0;
};

// The evaluation as an evaluator reports it: verdict, timings and, when
// accepted, the training's scores.
ChildResult child_result(const ChildEvaluation& evaluation);

// Compiles and trains one child. Never throws for a bad child: exceptions
// from its code (std::exception or anything else) become runtime_error.
// `on_compiled` (optional) runs between compiling and training, for
// supervisors that time the two phases separately.
ChildEvaluation evaluate_model_child(jit::ChildJit& jit, const std::string& source, const std::string& display_name,
                                     const ClassificationData& data, const TrainOptions& options,
                                     const std::function<void(const JitModel&)>& on_compiled = {});

}  // namespace evoprompt
