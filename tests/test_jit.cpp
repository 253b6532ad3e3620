#include "torch_catch.hpp"

#include <dlfcn.h>
#include <pthread.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "jit_model.hpp"
#include "mnist1d.hpp"
#include "seeds.hpp"

using namespace evoprompt;
namespace fs = std::filesystem;

// Every thread this test binary starts is counted here: the JIT must start
// none (LLVM 19's ORC, left to its default, ran tasks on short-lived threads
// that raced with initialisation and wrote into the caller's stack).
static std::atomic<int> threads_started{0};

extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) noexcept {
  using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const auto real = reinterpret_cast<Create>(::dlsym(RTLD_NEXT, "pthread_create"));
  ++threads_started;
  return real(thread, attr, start, arg);
}

namespace {

jit::ChildJit& shared_jit() {
  static jit::ChildJit jit(torch_jit_options(EVOPROMPT_TEST_CACHE_DIR));
  return jit;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string corpus(const std::string& name) { return read_file(fs::path(EVOPROMPT_CORPUS_DIR) / name); }

const ClassificationData& tiny_data() {
  static const ClassificationData data = [] {
    Mnist1dArgs args;
    args.num_samples = 300;
    const auto d = generate_mnist1d(args);
    return make_classification_data(d, holdout_split(d.num_train(), 40, 1), torch::kCPU);
  }();
  return data;
}

TrainOptions few_steps(std::int64_t steps) {
  torch::set_num_threads(1);
  TrainOptions o;
  o.steps = steps;
  o.eval_every = steps;
  o.batch_size = 32;
  return o;
}

std::int64_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return 0;
}

const char* kTinyChild = R"(
struct Model : torch::nn::Module {
  torch::nn::Linear fc{nullptr};
  Model() { fc = register_module("fc", torch::nn::Linear(40, 10)); }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};
)";

}  // namespace

TEST_CASE("the JIT compiles the seeds, and they train exactly like the AOT build", "[jit]") {
  for (const auto& seed : mnist1d_seeds()) {
    INFO(seed.name);
    const auto model = compile_model(shared_jit(), seed.source, seed.file);
    REQUIRE(model.verdict.accepted());
    const auto jit_count = count_params(model.factory(), 40, 10);
    const auto aot_count = count_params(seed.factory(), 40, 10);
    CHECK(jit_count.used == aot_count.used);
    CHECK(jit_count.total == aot_count.total);
    if (seed.name == "cnn" || seed.name == "residual_mlp") {
      const auto via_jit = train_classifier(model.factory, tiny_data(), few_steps(30));
      const auto via_aot = train_classifier(seed.factory, tiny_data(), few_steps(30));
      CHECK(via_jit.final_train_loss == via_aot.final_train_loss);
      CHECK(via_jit.best_val_acc == via_aot.best_val_acc);
    }
  }
}

TEST_CASE("exceptions thrown inside JIT code become runtime_error verdicts", "[jit]") {
  struct Case {
    const char* file;
    const char* message;
  };
  for (const auto& c : {Case{"runtime_error__throw_runtime_error_in_forward.cpp", "boom"},
                        Case{"runtime_error__throw_int_in_forward.cpp", "non-standard exception"},
                        Case{"runtime_error__linear_in_features_mismatch.cpp", "shapes cannot be multiplied"},
                        Case{"runtime_error__throw_in_constructor.cpp", ""}}) {
    INFO(c.file);
    const auto e = evaluate_model_child(shared_jit(), corpus(c.file), c.file, tiny_data(), few_steps(3));
    CHECK(e.verdict.kind == jit::Verdict::Kind::runtime_error);
    CHECK_THAT(e.verdict.message, Catch::Contains(c.message));
    CHECK(e.verdict.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("JIT code cannot reach the host's own symbols", "[jit]") {
  const auto model = compile_model(shared_jit(), corpus("link_error__host_symbol.cpp"), "host.cpp");
  CHECK(model.verdict.kind == jit::Verdict::Kind::compile_error);
  CHECK(model.verdict.rule == "unresolved_symbol");
  CHECK_THAT(model.verdict.message, Catch::Contains("evoprompt::NumpyRandom::rand()"));
  CHECK_FALSE(model.factory);
  // libtorch itself is reachable: the tiny child links and runs.
  const auto ok = compile_model(shared_jit(), kTinyChild, "tiny.cpp");
  REQUIRE(ok.verdict.accepted());
  CHECK(ok.factory().forward(torch::ones({2, 40})).sizes() == torch::IntArrayRef({2, 10}));
}

TEST_CASE("verdicts come in order: too_large, compile_error, policy, contract", "[jit]") {
  const std::string huge = std::string(kTinyChild) + "//" + std::string(70000, 'x') + "\n";
  CHECK(shared_jit().check({huge, "huge.cpp", "Model", model_harness(), {}}).kind == jit::Verdict::Kind::too_large);
  // A compile error wins over the policy violation before it.
  const auto both = shared_jit().check(
      {"int counter = 0;\nstruct Model : torch::nn::Module { torch::Tensor forward(torch::Tensor x) { return y; } };\n",
       "both.cpp", "Model", model_harness(), {}});
  CHECK(both.kind == jit::Verdict::Kind::compile_error);
  CHECK_THAT(both.message, Catch::StartsWith("both.cpp:2:") && Catch::Contains("undeclared identifier 'y'"));
  // A #line directive cannot make the child's errors pass for the harness's.
  const auto posing = shared_jit().check(
      {"#line 1 \"evoprompt_harness.inc\"\nstruct Model : torch::nn::Module { torch::Tensor forward(torch::Tensor x) { return y; } };\n",
       "posing.cpp", "Model", model_harness(), {}});
  CHECK(posing.kind == jit::Verdict::Kind::compile_error);
  // A policy violation wins over a broken contract.
  const auto policy = shared_jit().check({"int counter = 0;\nstruct Net {};\n", "p.cpp", "Model", model_harness(), {}});
  CHECK(policy.kind == jit::Verdict::Kind::policy);
  CHECK(policy.rule == "mutable_global");
  CHECK(policy.message == "p.cpp:1:5: mutable global 'counter' would leak state between children");
  const auto contract = shared_jit().check({"struct Net {};\n", "c.cpp", "Model", model_harness(), {}});
  CHECK(contract.kind == jit::Verdict::Kind::contract);
  CHECK(contract.rule == "no_model");
}

TEST_CASE("the JIT starts no threads of its own when it compiles and frees children", "[jit]") {
  shared_jit();  // the prelude and the engine exist
  const int at_start = threads_started.load();
  std::thread([] {}).join();
  REQUIRE(threads_started.load() == at_start + 1);  // the count sees threads

  const int before = threads_started.load();
  for (int i = 0; i < 5; ++i) {
    const auto model = compile_model(shared_jit(), kTinyChild, "tiny.cpp");
    REQUIRE(model.verdict.accepted());
  }  // each model's code is deinitialised and freed here
  CHECK(threads_started.load() == before);
}

TEST_CASE("children compile in parallel on separate threads", "[jit]") {
  const std::vector<std::string> files = {"accepted__tiny_linear.cpp", "accepted__cnn_stride2_wide.cpp",
                                          "accepted__layernorm_silu_mlp.cpp", "accepted__dilated_cnn.cpp"};
  std::vector<JitModel> models(files.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < files.size(); ++i)
    threads.emplace_back([&, i] { models[i] = compile_model(shared_jit(), corpus(files[i]), files[i]); });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < files.size(); ++i) {
    INFO(files[i]);
    REQUIRE(models[i].verdict.accepted());
    CHECK(models[i].factory().forward(torch::randn({4, 40})).sizes() == torch::IntArrayRef({4, 10}));
  }
}

TEST_CASE("memory stays bounded over 100 compiles", "[jit][slow]") {
  auto compile_and_run = [] {
    auto model = compile_model(shared_jit(), kTinyChild, "tiny.cpp");
    REQUIRE(model.verdict.accepted());
    model.factory().forward(torch::ones({1, 40}));
  };
  for (int i = 0; i < 10; ++i) compile_and_run();  // warm up allocator pools and caches
  const auto before = rss_kib();
  for (int i = 0; i < 100; ++i) compile_and_run();
  const auto growth_per_child = static_cast<double>(rss_kib() - before) / 100.0;
  INFO("RSS growth per child: " << growth_per_child << " KiB");
  CHECK(growth_per_child < 128.0);  // a leaked backend TargetMachine was 520 KiB a child
}

TEST_CASE("every child of the corpus gets its expected verdict", "[jit][slow]") {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(EVOPROMPT_CORPUS_DIR))
    if (entry.path().extension() == ".cpp") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 100);

  struct Outcome {
    std::string got;
    std::string detail;
  };
  std::vector<Outcome> outcomes(files.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < files.size(); i = next++) {
      const auto name = files[i].filename().string();
      const auto expected = name.substr(0, name.find("__"));
      const auto source = read_file(files[i]);
      auto& out = outcomes[i];
      if (expected == "runtime_error") {
        const auto e = evaluate_model_child(shared_jit(), source, name, tiny_data(), few_steps(2));
        out.got = evoprompt::to_string(e.verdict.kind);
        out.detail = e.verdict.message;
        continue;
      }
      const auto model = compile_model(shared_jit(), source, name);
      const auto& v = model.verdict;
      out.got = evoprompt::to_string(v.kind);
      if (v.kind == jit::Verdict::Kind::policy || v.kind == jit::Verdict::Kind::contract)
        out.got += "-" + v.rule;
      if (v.kind == jit::Verdict::Kind::compile_error && v.rule == "unresolved_symbol") out.got = "link_error";
      out.detail = v.message;
      if (v.accepted()) {
        try {
          const auto y = model.factory().forward(torch::randn({3, 40}));
          if (y.sizes() != torch::IntArrayRef({3, 10})) out.got = "wrong_output_shape";
        } catch (const std::exception& e) {
          out.got = "threw";
          out.detail = e.what();
        }
      }
    }
  };
  std::thread helper(worker);
  worker();
  helper.join();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto name = files[i].filename().string();
    const auto expected = name.substr(0, name.find("__"));
    INFO(name << ": " << outcomes[i].detail);
    CHECK(outcomes[i].got == expected);
  }
}
