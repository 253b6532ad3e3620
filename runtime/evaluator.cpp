// Task names and the dispatch to each task's evaluator (torch-free).
#include "evaluator.hpp"

#include <algorithm>

#include "clrs/spec.hpp"

namespace evoprompt {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

void validate(const ClrsEvaluatorOptions& o) {
  const auto& names = clrs::clrs30_algorithms();
  if (std::find(names.begin(), names.end(), o.algorithm) == names.end())
    throw std::invalid_argument("unknown CLRS-30 algorithm '" + o.algorithm + "'");
  if (o.steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (o.batch_size < 1) throw std::invalid_argument("batch size must be >= 1");
  if (!(o.lr > 0.0)) throw std::invalid_argument("lr must be > 0");
  if (o.eval_every < 1) throw std::invalid_argument("eval-every must be >= 1");
  if (o.hidden < 1 || o.nb_triplet_fts < 1) throw std::invalid_argument("hidden and nb-triplet-fts must be >= 1");
  if (o.test_samples < -1) throw std::invalid_argument("test-samples must be >= 0, or -1 for the whole split");
  if (o.threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (o.device != "auto" && o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
    throw std::invalid_argument("unknown device '" + o.device + "' (auto, cpu, cuda, cuda:N)");
}

EvaluatorOptions task_options(const std::string& task) {
  if (task == "mnist1d") return Mnist1dEvaluatorOptions{};
  if (task.rfind("clrs:", 0) == 0) {
    ClrsEvaluatorOptions o;
    o.algorithm = task.substr(5);
    const auto& names = clrs::clrs30_algorithms();
    if (std::find(names.begin(), names.end(), o.algorithm) == names.end())
      throw std::invalid_argument("unknown CLRS-30 algorithm '" + o.algorithm + "' in task '" + task + "'");
    return o;
  }
  throw std::invalid_argument("unknown task '" + task + "' (available: mnist1d, clrs:ALGORITHM)");
}

std::string task_name(const EvaluatorOptions& options) {
  return std::visit(Overloaded{[](const Mnist1dEvaluatorOptions&) { return std::string("mnist1d"); },
                               [](const ClrsEvaluatorOptions& o) { return "clrs:" + o.algorithm; }},
                    options);
}

std::string task_opening(const EvaluatorOptions& options) {
  return std::holds_alternative<ClrsEvaluatorOptions>(options) ? "struct Triplet : torch::nn::Module {"
                                                                 : "struct Model : torch::nn::Module {";
}

std::unique_ptr<Evaluator> make_evaluator(const EvaluatorOptions& options, std::function<void(double)> on_compiled,
                                          TrainingProgress on_progress) {
  if (const auto* clrs = std::get_if<ClrsEvaluatorOptions>(&options))
    return make_clrs_evaluator(*clrs, std::move(on_compiled), std::move(on_progress));
  return make_mnist1d_evaluator(std::get<Mnist1dEvaluatorOptions>(options), std::move(on_compiled));
}

}  // namespace evoprompt
