// The MNIST-1D task's options as the trainer's (torch): for the evaluator and
// for `seeds`, which also trains the seeds compiled ahead of time.
#pragma once

#include "mnist1d.hpp"
#include "tasks/mnist1d/mnist1d_task.hpp"
#include "trainer.hpp"

namespace evoprompt {

// Throws std::invalid_argument for bad options.
TrainOptions mnist1d_train_options(const Mnist1dEvaluatorOptions& options);
// The data (--data, else $EVOPROMPT_MNIST1D_DIR, else the generator), split
// and on `device`.
ClassificationData mnist1d_data(const Mnist1dEvaluatorOptions& options, torch::Device device);

}  // namespace evoprompt
