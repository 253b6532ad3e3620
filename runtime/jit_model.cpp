#include "jit_model.hpp"

#include <torch/version.h>

#include <chrono>
#include <sstream>

namespace evoprompt {
namespace {

using ForwardFn = void (*)(torch::nn::Module*, const torch::Tensor*, torch::Tensor*);
using NewModelFn = torch::nn::Module* (*)();

std::vector<std::string> split(const std::string& list, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

// Instantiated once when the prelude module is built, so that children reuse
// these template instantiations instead of repeating them (the CNN seed's
// front end drops from ~440 ms to ~270 ms). Never called.
const char* const kPreludeWarmup = R"WARMUP(
namespace evoprompt_prelude_warmup {
template <typename Holder, typename... Args>
void warm_module(torch::nn::Module& m, const torch::Tensor& x, Args&&... args) {
  Holder h{nullptr};
  h = m.register_module("h", Holder(std::forward<Args>(args)...));
  (void)h->forward(x);
}
template <typename Holder, typename... Args>
void warm_call(torch::nn::Module& m, const torch::Tensor& x, Args&&... args) {
  Holder h{nullptr};
  h = m.register_module("h", Holder(std::forward<Args>(args)...));
  (void)h(x);
  (void)h->forward(x);
}
inline void warm(torch::nn::Module& m, const torch::Tensor& x) {
  warm_call<torch::nn::Linear>(m, x, 2, 3);
  warm_call<torch::nn::Linear>(m, x, torch::nn::LinearOptions(2, 3));
  warm_call<torch::nn::Conv1d>(m, x, torch::nn::Conv1dOptions(1, 2, 3));
  warm_call<torch::nn::Conv2d>(m, x, torch::nn::Conv2dOptions(1, 2, 3));
  warm_call<torch::nn::BatchNorm1d>(m, x, 4);
  warm_call<torch::nn::BatchNorm1d>(m, x, torch::nn::BatchNorm1dOptions(4));
  warm_call<torch::nn::BatchNorm2d>(m, x, 4);
  warm_call<torch::nn::LayerNorm>(m, x, torch::nn::LayerNormOptions({4}));
  warm_call<torch::nn::GroupNorm>(m, x, torch::nn::GroupNormOptions(2, 4));
  warm_call<torch::nn::Dropout>(m, x, 0.5);
  warm_call<torch::nn::Dropout>(m, x, torch::nn::DropoutOptions(0.5));
  warm_call<torch::nn::MaxPool1d>(m, x, torch::nn::MaxPool1dOptions(2));
  warm_call<torch::nn::AvgPool1d>(m, x, torch::nn::AvgPool1dOptions(2));
  warm_call<torch::nn::AdaptiveAvgPool1d>(m, x, torch::nn::AdaptiveAvgPool1dOptions(1));
  warm_call<torch::nn::AdaptiveMaxPool1d>(m, x, torch::nn::AdaptiveMaxPool1dOptions(1));
  warm_call<torch::nn::ReLU>(m, x);
  warm_call<torch::nn::GELU>(m, x);
  warm_call<torch::nn::SiLU>(m, x);
  warm_call<torch::nn::Tanh>(m, x);
  warm_call<torch::nn::Sigmoid>(m, x);
  warm_call<torch::nn::Flatten>(m, x);
  warm_call<torch::nn::Embedding>(m, x, 4, 3);
  warm_module<torch::nn::GRU>(m, x, torch::nn::GRUOptions(1, 2));
  warm_module<torch::nn::LSTM>(m, x, torch::nn::LSTMOptions(1, 2));
  warm_module<torch::nn::RNN>(m, x, torch::nn::RNNOptions(1, 2));
  torch::nn::Sequential seq(torch::nn::Linear(2, 3), torch::nn::ReLU());
  seq = m.register_module("seq", seq);
  (void)seq->forward(x);
  seq->push_back(torch::nn::Linear(3, 3));
  torch::nn::ModuleList list;
  list = m.register_module("list", list);
  list->push_back(torch::nn::Linear(2, 3));
  for (const auto& item : *list) (void)item->as<torch::nn::Linear>();
  (void)m.register_parameter("p", x);
  (void)m.register_buffer("b", x);
  (void)std::make_shared<torch::nn::Module>();
}
}  // namespace evoprompt_prelude_warmup
)WARMUP";

jit::JitOptions torch_jit_options(const std::string& cache_dir) {
  jit::JitOptions o;
  o.clang_path = EVOPROMPT_CLANG_PATH;
  // The standard library ABI of the linked libtorch: this file is compiled
  // with its flags (TORCH_CXX_FLAGS), so the macro here is torch's.
  o.flags = {"-std=c++17", "-O0", "-fPIC", "-w", "-DNDEBUG",
             "-D_GLIBCXX_USE_CXX11_ABI=" + std::to_string(_GLIBCXX_USE_CXX11_ABI)};
  for (const auto& dir : split(EVOPROMPT_TORCH_INCLUDE_DIRS, ':')) o.flags.push_back("-I" + dir);
  o.prelude_text = "#include <type_traits>\n";
  for (const auto& h : jit::allowed_includes()) o.prelude_text += "#include <" + h + ">\n";
  o.prelude_text += kPreludeWarmup;
  o.cache_salt = "torch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                 std::to_string(TORCH_VERSION_PATCH);
  o.cache_dir = cache_dir;
  return o;
}

const std::string& model_harness() {
  static const std::string harness = R"HARNESS(
namespace evoprompt_contract {
template <typename M, typename = void>
struct has_forward : std::false_type {};
template <typename M>
struct has_forward<M, std::void_t<decltype(std::declval<M&>().forward(std::declval<torch::Tensor>()))>>
    : std::is_same<decltype(std::declval<M&>().forward(std::declval<torch::Tensor>())), torch::Tensor> {};
}  // namespace evoprompt_contract
static_assert(__is_base_of(torch::nn::Module, Model),
              "CONTRACT(not_a_module): struct Model must derive from torch::nn::Module");
static_assert(__is_constructible(Model),
              "CONTRACT(not_default_constructible): struct Model must be default-constructible");
static_assert(evoprompt_contract::has_forward<Model>::value,
              "CONTRACT(forward_signature): Model needs torch::Tensor forward(torch::Tensor x)");
extern "C" torch::nn::Module* evoprompt_new_model() { return new Model(); }
extern "C" void evoprompt_forward(torch::nn::Module* m, const torch::Tensor* x, torch::Tensor* out) {
  *out = static_cast<Model*>(m)->forward(*x);
}
)HARNESS";
  return harness;
}

JitModel compile_model(jit::ChildJit& jit, const std::string& source, const std::string& display_name) {
  JitModel out;
  auto compiled = jit.compile({source, display_name, "Model", model_harness(), {"evoprompt_new_model", "evoprompt_forward"}});
  out.verdict = compiled.verdict;
  out.compile_ms = compiled.frontend_ms + compiled.link_ms;
  if (!compiled.code) return out;
  std::shared_ptr<jit::LoadedCode> code = compiled.code;
  auto make = reinterpret_cast<NewModelFn>(jit::entry_point(*code, "evoprompt_new_model"));
  auto forward = reinterpret_cast<ForwardFn>(jit::entry_point(*code, "evoprompt_forward"));
  out.factory = [code, make, forward] {
    // The deleter holds the code: a model never outlives the machine code of its methods.
    std::shared_ptr<torch::nn::Module> module(make(), [code](torch::nn::Module* m) { delete m; });
    torch::nn::Module* raw = module.get();
    return ModelInstance{module, [forward, raw](const torch::Tensor& x) {
                           torch::Tensor y;
                           forward(raw, &x, &y);
                           return y;
                         }};
  };
  return out;
}

void set_verdict(ChildResult& result, const jit::Verdict& verdict) {
  result.verdict = verdict.accepted() ? VerdictKind::evaluated : verdict.kind;
  result.rule = verdict.rule;
  result.message = verdict.message;
  result.diagnostics = verdict.diagnostics;
}

jit::Verdict run_guarded(const std::function<void()>& work) {
  jit::Verdict v;
  auto fail = [&](std::string message) {
    v.kind = jit::Verdict::Kind::runtime_error;
    v.rule = "runtime_error";
    v.message = std::move(message);
  };
  try {
    work();
  } catch (const c10::Error& e) {
    fail(first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    fail(first_line(e.what()));
  } catch (...) {
    fail("the child threw a non-standard exception");
  }
  return v;
}

ChildResult child_result(const ChildEvaluation& e) {
  ChildResult r;
  set_verdict(r, e.verdict);
  r.compile_ms = e.compile_ms;
  r.train_ms = e.train_ms;
  if (e.verdict.accepted()) {
    r.params_used = e.train.params.used;
    r.params_total = e.train.params.total;
    r.best_val_acc = e.train.best_val_acc;
    r.best_step = e.train.best_step;
    r.test_acc = e.train.test_acc;
    r.steps = e.train.steps;
    r.steps_per_s = e.train.steps_per_s();
    r.step_path = e.train.step_path;
  }
  return r;
}

ChildEvaluation evaluate_model_child(jit::ChildJit& jit, const std::string& source, const std::string& display_name,
                                     const ClassificationData& data, const TrainOptions& options,
                                     const std::function<void(const JitModel&)>& on_compiled) {
  ChildEvaluation out;
  auto model = compile_model(jit, source, display_name);
  out.verdict = model.verdict;
  out.compile_ms = model.compile_ms;
  if (!model.verdict.accepted()) return out;
  if (on_compiled) on_compiled(model);
  const auto t0 = std::chrono::steady_clock::now();
  out.verdict = run_guarded([&] { out.train = train_classifier(model.factory, data, options); });
  out.train_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace evoprompt
