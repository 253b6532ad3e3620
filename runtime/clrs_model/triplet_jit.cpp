#include "clrs_model/triplet_jit.hpp"

#include <memory>

namespace evoprompt::clrs {
namespace {

using NewTripletFn = torch::nn::Module* (*)(std::int64_t, std::int64_t);
using TripletForwardFn = void (*)(torch::nn::Module*, const torch::Tensor*, const torch::Tensor*, const torch::Tensor*,
                                  torch::Tensor*);

}  // namespace

const std::string& triplet_harness() {
  // `struct Triplet;` names the class even when the child lacks it, so its
  // absence is a CONTRACT failure rather than an undeclared identifier; the
  // later checks are guarded by completeness so only the first one fires.
  static const std::string harness = R"HARNESS(
struct Triplet;
namespace evoprompt_contract {
template <typename T, typename = void>
struct is_complete : std::false_type {};
template <typename T>
struct is_complete<T, std::void_t<decltype(sizeof(T))>> : std::true_type {};
template <typename T>
struct is_module : std::bool_constant<__is_base_of(torch::nn::Module, T)> {};
template <typename T>
struct is_triplet_constructible : std::bool_constant<__is_constructible(T, int64_t, int64_t)> {};
template <typename M, typename = void>
struct has_triplet_forward : std::false_type {};
template <typename M>
struct has_triplet_forward<M, std::void_t<decltype(std::declval<M&>().forward(
                                  std::declval<torch::Tensor>(), std::declval<torch::Tensor>(),
                                  std::declval<torch::Tensor>()))>>
    : std::is_same<decltype(std::declval<M&>().forward(std::declval<torch::Tensor>(), std::declval<torch::Tensor>(),
                                                       std::declval<torch::Tensor>())),
                   torch::Tensor> {};
template <typename T>
struct forward_ok : has_triplet_forward<T> {};
template <template <typename> class Check>
struct if_defined : std::disjunction<std::negation<is_complete<Triplet>>, Check<Triplet>> {};
}  // namespace evoprompt_contract
static_assert(evoprompt_contract::is_complete<Triplet>::value,
              "CONTRACT(no_triplet): the child must define struct Triplet");
static_assert(evoprompt_contract::if_defined<evoprompt_contract::is_module>::value,
              "CONTRACT(not_a_module): struct Triplet must derive from torch::nn::Module");
static_assert(evoprompt_contract::if_defined<evoprompt_contract::is_triplet_constructible>::value,
              "CONTRACT(constructor_signature): Triplet needs a constructor Triplet(int64_t nb_triplet_fts, int64_t out_size)");
static_assert(evoprompt_contract::if_defined<evoprompt_contract::forward_ok>::value,
              "CONTRACT(forward_signature): Triplet needs torch::Tensor forward(torch::Tensor z, torch::Tensor edge_fts, torch::Tensor graph_fts)");
extern "C" torch::nn::Module* evoprompt_new_triplet(int64_t nb_triplet_fts, int64_t out_size) {
  return new Triplet(nb_triplet_fts, out_size);
}
extern "C" void evoprompt_triplet_forward(torch::nn::Module* m, const torch::Tensor* z, const torch::Tensor* edge_fts,
                                          const torch::Tensor* graph_fts, torch::Tensor* out) {
  *out = static_cast<Triplet*>(m)->forward(*z, *edge_fts, *graph_fts);
}
)HARNESS";
  return harness;
}

JitTriplet compile_triplet(jit::ChildJit& jit, const std::string& source, const std::string& display_name) {
  JitTriplet out;
  auto compiled =
      jit.compile({source, display_name, "Triplet", triplet_harness(), {"evoprompt_new_triplet", "evoprompt_triplet_forward"}});
  out.verdict = compiled.verdict;
  out.compile_ms = compiled.frontend_ms + compiled.link_ms;
  if (!compiled.code) return out;
  std::shared_ptr<jit::LoadedCode> code = compiled.code;
  auto make = reinterpret_cast<NewTripletFn>(jit::entry_point(*code, "evoprompt_new_triplet"));
  auto forward = reinterpret_cast<TripletForwardFn>(jit::entry_point(*code, "evoprompt_triplet_forward"));
  out.factory = [code, make, forward](std::int64_t nb_triplet_fts, std::int64_t out_size) {
    // The deleter holds the code: a module never outlives the machine code of its methods.
    std::shared_ptr<torch::nn::Module> module(make(nb_triplet_fts, out_size),
                                              [code](torch::nn::Module* m) { delete m; });
    torch::nn::Module* raw = module.get();
    return TripletInstance{module, [forward, raw](const torch::Tensor& z, const torch::Tensor& edge_fts,
                                                  const torch::Tensor& graph_fts) {
                             torch::Tensor y;
                             forward(raw, &z, &edge_fts, &graph_fts, &y);
                             return y;
                           }};
  };
  return out;
}

}  // namespace evoprompt::clrs
