// Per-child compile latency of the in-process JIT (after the one-time
// prelude), on one core, over the four seeds and the accepted children of the
// test corpus, against compiling the same child with a subprocess:
//   (a) g++ -O2 -shared, then dlopen;
//   (b) clang++-19 importing the same precompiled prelude, then dlopen.
// Also the RSS growth per child over many compiles. Prints one JSON line.
//   evoprompt_bench_compile CORPUS_DIR [ANCHOR_CHILDREN] [RSS_COMPILES]
#include <dlfcn.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "jit_model.hpp"
#include "seeds.hpp"

namespace fs = std::filesystem;
using namespace evoprompt;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::int64_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return 0;
}

// Compiles `source` (prelude include + child + harness) with a compiler
// subprocess into a shared object and dlopens it; returns milliseconds.
double subprocess_compile(const std::string& compiler_cmd, const std::string& source, const fs::path& dir, int i) {
  const fs::path src = dir / ("child" + std::to_string(i) + ".cpp");
  const fs::path so = dir / ("child" + std::to_string(i) + ".so");
  std::ofstream(src) << source;
  const auto t0 = Clock::now();
  const std::string cmd = compiler_cmd + " " + src.string() + " -o " + so.string() + " 2>" + (dir / "err.txt").string();
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("anchor compile failed: " + read_file(dir / "err.txt"));
  void* handle = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle || !::dlsym(handle, "evoprompt_new_model")) throw std::runtime_error("dlopen failed");
  const double ms = ms_since(t0);
  ::dlclose(handle);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: evoprompt_bench_compile CORPUS_DIR [ANCHOR_CHILDREN] [RSS_COMPILES]\n";
    return 2;
  }
  try {
    const fs::path corpus = argv[1];
    const int anchor_children = argc > 2 ? std::stoi(argv[2]) : 3;
    const int rss_compiles = argc > 3 ? std::stoi(argv[3]) : 100;
    torch::set_num_threads(1);

    std::vector<std::pair<std::string, std::string>> children;  // name, source
    for (const auto& s : mnist1d_seeds()) children.emplace_back(s.file, s.source);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(corpus))
      if (e.path().filename().string().rfind("accepted__", 0) == 0) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) children.emplace_back(f.filename().string(), read_file(f));

    const auto opts = torch_jit_options();
    const auto t_prelude = Clock::now();
    jit::ChildJit jit(opts);
    const double prelude_ms = ms_since(t_prelude);

    std::vector<double> jit_ms, frontend_ms, link_ms;
    for (const auto& [name, source] : children) {
      const auto t0 = Clock::now();
      auto model = compile_model(jit, source, name);
      if (!model.verdict.accepted()) throw std::runtime_error(name + ": " + model.verdict.message);
      jit_ms.push_back(ms_since(t0));
    }

    // Anchors on the first few children (each g++ compile takes ~20 s here).
    const fs::path dir = fs::temp_directory_path() / "evoprompt_bench_compile";
    fs::create_directories(dir);
    std::string includes;
    for (const auto& f : opts.flags)
      if (f.rfind("-I", 0) == 0 || f.rfind("-D", 0) == 0) includes += " " + f;
    const std::string gxx = "g++ -O2 -std=c++17 -fPIC -shared -w" + includes;
    std::string clangxx = opts.clang_path + " -shared -std=c++17 -O0 -fPIC -w" + includes;
    for (const auto& a : jit.prelude_args()) clangxx += " " + a;
    std::vector<double> gxx_ms, clang_ms;
    for (int i = 0; i < anchor_children && i < static_cast<int>(children.size()); ++i) {
      const std::string& child = children[i].second;
      gxx_ms.push_back(subprocess_compile(gxx, opts.prelude_text + child + model_harness(), dir, i));
      clang_ms.push_back(subprocess_compile(clangxx, child + model_harness(), dir, 100 + i));
    }
    fs::remove_all(dir);

    // RSS growth per child: compile, build, run and free the same child many times.
    const auto& probe = children[1];
    for (int i = 0; i < 10; ++i) compile_model(jit, probe.second, probe.first).factory();
    const auto rss_before = rss_kib();
    for (int i = 0; i < rss_compiles; ++i) compile_model(jit, probe.second, probe.first).factory();
    const double rss_per_child_kib = static_cast<double>(rss_kib() - rss_before) / rss_compiles;

    const double jit_median = median(jit_ms);
    std::cout << nlohmann::json{{"children", jit_ms.size()},
                                {"jit_median_ms", jit_median},
                                {"jit_min_ms", *std::min_element(jit_ms.begin(), jit_ms.end())},
                                {"jit_max_ms", *std::max_element(jit_ms.begin(), jit_ms.end())},
                                {"prelude_load_ms", prelude_ms},
                                {"anchor_children", gxx_ms.size()},
                                {"gxx_subprocess_median_ms", median(gxx_ms)},
                                {"clang_prelude_subprocess_median_ms", median(clang_ms)},
                                {"speedup_vs_gxx", median(gxx_ms) / jit_median},
                                {"speedup_vs_clang_prelude", median(clang_ms) / jit_median},
                                {"rss_compiles", rss_compiles},
                                {"rss_growth_per_child_kib", rss_per_child_kib}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "evoprompt_bench_compile: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
