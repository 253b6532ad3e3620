#!/usr/bin/env bash
# The CUDA path, checked on one machine with an NVIDIA GPU and Python PyTorch
# with CUDA but no LLVM (the device machine: torch 2.11+cu130, transformers,
# 16 cores). It builds evoprompt against that PyTorch's libtorch, measures,
# runs the tests with CUDA and prints one table.
#
#   scripts/gpu-check.sh --pack     here (Debian 12, scripts/install-deps.sh
#                                   done): the carry, .gpu-deps/deps.tar.xz,
#                                   from the installed Debian packages' files
#   scripts/gpu-check.sh --dry-run  here: --pack, then what needs no GPU: the
#                                   carry against the 64 MiB limit, its
#                                   libraries' closure, a build of the JIT and
#                                   the codegen tests against the unpacked carry
#                                   alone, the CUDA-only sources parsed
#   scripts/gpu-check.sh            the GPU machine (carry .gpu-deps): unpack,
#                                   build, measure, test; ~10 minutes
# With $OUT set, gpu-check.log, results.jsonl and table.md are written there.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.gpu-deps
limit_mib=64

# LLVM/Clang 19 and the libraries evoprompt builds against (headers, pkg-config
# and CMake files, unversioned .so links), not the static archives.
dev_packages="llvm-19-dev libclang-19-dev libclang-common-19-dev libsqlite3-dev libcurl4-openssl-dev libicu-dev
  libpcre2-dev libtomlplusplus-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev nlohmann-json3-dev libcli11-dev
  catch2 pkgconf pkgconf-bin"
# The shared libraries evoprompt links besides torch, MPI and tcmalloc (all
# optional or brought by the machine); --pack adds their whole closure.
linked_sonames="libLLVM.so.19.1 libclang-cpp.so.19.1 libcpp-httplib.so.0.11 libcurl.so.4 libicuuc.so.72
  libpcre2-8.so.0 libsqlite3.so.0 libtomlplusplus.so.3 libpkgconf.so.3"
# Clang's intrinsics headers for other targets (the JIT compiles for x86-64).
foreign_headers='/clang/19/include/(arm_|arm64|riscv_|sifive_|hexagon|hvx_|__clang_cuda|__clang_hip|cuda_wrappers|openmp_wrappers|ppc_wrappers|llvm_libc_wrappers|altivec|htm|s390|vecintrin|msa|lasx|lsx|larchintrin|wasm|velintrin|mma)'
# What every Linux machine has: never carried.
base_libs='^(libc|libm|libdl|libpthread|librt|libresolv|libgcc_s|libstdc\+\+|ld-linux-x86-64)\.so'

say() { echo "gpu-check: $*" >&2; }
mib_of() { stat -c %s "$1" | awk '{ printf "%.1f", $1 / 1048576 }'; }
die() { say "error: $*"; exit 1; }

# The closure of linked_sonames: each library (its soname link and the file
# behind it) and every library it loads, less the base set.
closure_files() {
  local so path
  for so in $linked_sonames; do
    path=$(/sbin/ldconfig -p | awk -v s="$so" '$1 == s && !found { print $NF; found = 1 }')
    [ -n "$path" ] || die "$so is not installed (run scripts/install-deps.sh)"
    echo "$path"
    ldd "$path" | awk '/=>/ { print $3 }'
  done | sort -u | while read -r f; do
    [[ $(basename "$f") =~ $base_libs ]] && continue
    echo "$f"
    readlink -f "$f"
  done | sed 's|^/lib/|/usr/lib/|' | grep -v '/libz3\.so' | sort -u  # merged /usr: one path each; Z3: z3_stub
}

# libz3.so.4 for the libLLVM under ROOT, made where the carry is unpacked:
# every Z3 function libLLVM imports, each ending the process with a message.
# Z3 is the static analyzer's optional solver, which the JIT never calls, and
# the real library would take 7 of the carry's 64 MiB.
z3_stub() {
  local lib=$1/usr/lib/x86_64-linux-gnu src
  src=$(mktemp --suffix=.c)
  {
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    readelf --dyn-syms -W "$lib/libLLVM.so.19.1" | awk '$7 == "UND" && $8 ~ /^Z3_/ { print $8 }' | sort -u \
      | while read -r fn; do
        echo "void $fn(void) { fputs(\"evoprompt: LLVM called $fn; the GPU check carries no Z3\\n\", stderr); abort(); }"
      done
  } >"$src"
  "${CC:-cc}" -shared -fPIC -O1 -Wl,-soname,libz3.so.4 -o "$lib/libz3.so.4" "$src" || die "cannot build the Z3 stub"
  rm -f "$src"
}

# The LLVM and Clang headers that evoprompt's sources include (the preprocessor
# says which): about a fifth of the packages' headers.
llvm_headers() {
  local src
  for src in "$repo"/jit/*.cpp "$repo"/tests/test_mnist1d.cpp; do
    g++ -std=c++17 -MM -MG -I/usr/lib/llvm-19/include -I"$repo/jit" -D_GNU_SOURCE -D__STDC_CONSTANT_MACROS \
      -D__STDC_FORMAT_MACROS -D__STDC_LIMIT_MACROS "$src" || die "cannot list the headers of $src"
  done | tr ' \\' '\n\n' | grep -E '^/usr/(lib/llvm-19/include|include/llvm-19)/' | sort -u
}

# The package of a file (registered under /lib or /usr/lib: merged /usr).
owning_package() {
  { dpkg -S "$1" 2>/dev/null || dpkg -S "${1/#\/usr\/lib\//\/lib\/}" 2>/dev/null || true; } | head -1 | cut -d: -f1 | sed 's/, .*//'
}

pack() {
  command -v dpkg >/dev/null || die "--pack needs Debian's dpkg (this machine's packages are what is carried)"
  local list pkg missing=""
  for pkg in $dev_packages; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  [ -z "$missing" ] || die "not installed:$missing (run scripts/install-deps.sh)"
  mkdir -p "$carry"
  list=$(mktemp)
  {
    closure_files
    llvm_headers
    for pkg in $dev_packages; do
      case $pkg in llvm-19-dev | libclang-19-dev) continue ;; esac  # their headers: llvm_headers
      dpkg -L "$pkg" | grep -E '^/usr/include/|/pkgconfig/[^/]+\.pc$|^/usr/(lib|share)/cmake/|^/usr/lib/x86_64-linux-gnu/cmake/|/lib/x86_64-linux-gnu/[^/]+\.so$|^/usr/lib/llvm-19/lib/clang/19/include/|^/usr/bin/(pkgconf|pkg-config)$|^/usr/lib/libCatch2WithMain\.a$' || true
    done
  } | grep -vE "$foreign_headers" | sort -u | while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "${f#/}"; fi; done >"$list"
  tar -C / --no-recursion -cf - -T "$list" | xz -9e -T2 >"$carry/deps.tar.xz.part"
  mv "$carry/deps.tar.xz.part" "$carry/deps.tar.xz"
  {
    echo "# $(date -u +%FT%TZ), $(. /etc/os-release && echo "$PRETTY_NAME"): the packages the files of deps.tar.xz come from"
    { closure_files | while read -r f; do owning_package "$(readlink -f "$f")"; done; printf '%s\n' $dev_packages; } \
      | sort -u | grep . | while read -r p; do dpkg-query -W -f='${Package} ${Version}\n' "$p"; done
  } >"$carry/packages.txt"
  say "packed $(wc -l <"$list") files from $(($(wc -l <"$carry/packages.txt") - 1)) Debian packages: $carry/deps.tar.xz, $(mib_of "$carry/deps.tar.xz") MiB"
  rm -f "$list"
}

# The working tree that travels to the device (tracked and untracked files
# git does not ignore) plus the carry, in MiB (rounded up).
travel_mib() {
  local bytes
  bytes=$( (cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null; stat -c %s "$carry/deps.tar.xz" "$carry/packages.txt") | awk '{ s += $1 } END { print s }')
  echo $(((bytes + 1048575) / 1048576))
}

dry_run() {
  [ -x "$repo/build/tools/evoprompt" ] || die "build first (cmake -S . -B build -G Ninja && cmake --build build)"
  pack
  local mib tmp
  mib=$(travel_mib)
  say "working tree + carry: $mib MiB (limit $limit_mib)"
  [ "$mib" -le "$limit_mib" ] || die "the carry does not fit: $mib MiB > $limit_mib MiB"
  (cd "$repo" && git check-ignore -q .gpu-deps/deps.tar.xz) || die ".gpu-deps is not ignored by git: it must travel as a carry"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  tar -C "$tmp" -xJf "$carry/deps.tar.xz"
  z3_stub "$tmp"
  # Every carried library finds what it needs in the carry or the base set.
  local lib need unresolved=0
  for lib in "$tmp"/usr/lib/x86_64-linux-gnu/*.so.*; do
    [ -L "$lib" ] && continue
    for need in $(readelf -d "$lib" | awk '/NEEDED/ { gsub(/[][]/, "", $5); print $5 }'); do
      [[ $need =~ $base_libs ]] && continue
      [ -e "$tmp/usr/lib/x86_64-linux-gnu/$need" ] || { say "$(basename "$lib") needs $need, which is not carried"; unresolved=1; }
    done
  done
  [ "$unresolved" = 0 ] || die "the carry's libraries are not closed"
  say "the carry's $(ls "$tmp"/usr/lib/x86_64-linux-gnu/*.so.* | wc -l) libraries are closed over the base set"
  # The CUDA-only sources against this libtorch's CUDA headers, over a stub of
  # the CUDA runtime API (nothing here links or runs them).
  local stub=$tmp/cuda-stub
  mkdir -p "$stub/c10/cuda/impl"
  echo '#pragma once' >"$stub/c10/cuda/impl/cuda_cmake_macros.h"
  cat >"$stub/cuda_runtime_api.h" <<'EOF'
#pragma once
#include <cstddef>
#define CUDA_VERSION 12000
#define CUDART_VERSION 12000
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
typedef struct CUgraph_st* cudaGraph_t;
typedef struct CUgraphExec_st* cudaGraphExec_t;
enum cudaError { cudaSuccess = 0, cudaErrorNotReady = 600 };
typedef enum cudaError cudaError_t;
enum cudaStreamCaptureMode { cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal, cudaStreamCaptureModeRelaxed };
enum cudaStreamCaptureStatus { cudaStreamCaptureStatusNone, cudaStreamCaptureStatusActive, cudaStreamCaptureStatusInvalidated };
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
#define cudaStreamDefault 0
#define cudaStreamNonBlocking 1
#define cudaEventDefault 0
#define cudaEventBlockingSync 1
#define cudaEventDisableTiming 2
#define cudaEventInterprocess 4
const char* cudaGetErrorString(cudaError_t);
#define EVOPROMPT_STUB(name) template <class... A> cudaError_t name(A...);
EVOPROMPT_STUB(cudaGetLastError) EVOPROMPT_STUB(cudaMemGetInfo) EVOPROMPT_STUB(cudaStreamSynchronize)
EVOPROMPT_STUB(cudaStreamQuery) EVOPROMPT_STUB(cudaStreamIsCapturing) EVOPROMPT_STUB(cudaGetDevice)
EVOPROMPT_STUB(cudaSetDevice) EVOPROMPT_STUB(cudaStreamGetPriority) EVOPROMPT_STUB(cudaDeviceGetStreamPriorityRange)
EVOPROMPT_STUB(cudaMemcpyAsync) EVOPROMPT_STUB(cudaThreadExchangeStreamCaptureMode) EVOPROMPT_STUB(cudaEventCreateWithFlags)
EVOPROMPT_STUB(cudaEventDestroy) EVOPROMPT_STUB(cudaEventRecord) EVOPROMPT_STUB(cudaStreamWaitEvent)
EVOPROMPT_STUB(cudaEventQuery) EVOPROMPT_STUB(cudaEventSynchronize) EVOPROMPT_STUB(cudaEventElapsedTime)
EVOPROMPT_STUB(cudaMemcpy) EVOPROMPT_STUB(cudaDeviceSynchronize) EVOPROMPT_STUB(cudaGetDeviceCount)
EOF
  cp "$stub/cuda_runtime_api.h" "$stub/cuda_runtime.h"
  printf '#pragma once\n#include "cuda_runtime_api.h"\n' >"$stub/cuda.h"
  local src
  for src in runtime/trainer.cpp runtime/model.cpp codegen/lm/local_lm.cpp tests/test_cuda.cpp; do
    g++ -std=c++17 -fsyntax-only -DEVOPROMPT_TORCH_CUDA=1 -I"$stub" -I/usr/include/torch/csrc/api/include \
      -I"$repo/runtime" -I"$repo/tests" -I"$repo/codegen" -I"$repo/codegen/lm" -I"$repo/jit" -I"$repo/seeds_cpp" \
      "$repo/$src" || die "$src does not compile with EVOPROMPT_TORCH_CUDA"
  done
  say "the CUDA-only code of trainer.cpp, model.cpp, local_lm.cpp and test_cuda.cpp parses (CUDA runtime stubbed)"
  python3 -c 'import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]' "$repo/bench/gpu_check.py" \
    "$repo/bench/python_train_loop.py" || die "the Python side does not parse"
  # The JIT and the codegen tests, built from the carry's LLVM, libraries and
  # pkg-config files (torch and the compiler from this machine), and run.
  (
    use_carry "$tmp"
    cmake -S "$repo" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEVOPROMPT_LLVM_ROOT="$tmp" \
      -DCMAKE_PREFIX_PATH="$tmp/usr" >"$tmp/configure.log" 2>&1 || { tail -30 "$tmp/configure.log"; exit 1; }
    outside() { grep -v "$tmp" | grep -v NOTFOUND; }  # lines naming a path outside the carry
    if grep -E '^(CLI11_DIR|nlohmann_json_DIR|Catch2_DIR|SQLite3_INCLUDE_DIR|CURL_INCLUDE_DIR|CURL_DIR|PKG_CONFIG_EXECUTABLE):' \
      "$tmp/build/CMakeCache.txt" | outside; then say "found outside the carry (above)"; exit 1; fi
    cmake --build "$tmp/build" --target evoprompt_jit evoprompt_codegen_tests >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; exit 1; }
    if ldd "$tmp/build/tests/evoprompt_codegen_tests" | grep -E 'libLLVM|libcurl|libicuuc|libpcre2' | outside; then
      say "linked outside the carry (above)"; exit 1
    fi
    "$tmp/build/tests/evoprompt_codegen_tests" "[prompt]" >"$tmp/tests.log" 2>&1 || { tail -30 "$tmp/tests.log"; exit 1; }
    # This machine's evoprompt, its LLVM, Clang and Z3 swapped for the carry's: the JIT compiles a child.
    "$repo/build/tools/evoprompt" check "$repo/seeds_cpp/mnist1d/cnn.cpp" >"$tmp/check.log" 2>&1 || { tail -30 "$tmp/check.log"; exit 1; }
    if ldd "$repo/build/tools/evoprompt" | grep -E 'libLLVM|libclang-cpp|libz3' | outside; then
      say "loaded outside the carry (above)"; exit 1
    fi
  ) || die "the build against the unpacked carry failed"
  say "the JIT and the codegen tests build against the carry alone, and their [prompt] tests pass"
  say "this machine's evoprompt, on the carry's LLVM, Clang and Z3 stub, JIT-compiles the CNN seed"
  say "dry run done: carry $(mib_of "$carry/deps.tar.xz") MiB, working tree + carry $mib MiB of $limit_mib"
}

# The carry unpacked at $1 as the place to find libraries, headers and tools.
use_carry() {
  local root=$1
  # The JIT imitates this clang++ driver, which locates Clang's resource
  # headers beside it (../lib/clang/19); it is never run.
  [ -f "$root/usr/lib/llvm-19/lib/clang/19/include/stddef.h" ] || die "the carry lacks Clang's resource headers"
  mkdir -p "$root/usr/lib/llvm-19/bin" && touch "$root/usr/lib/llvm-19/bin/clang++"
  export PATH="$root/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_LIBDIR="$root/usr/lib/x86_64-linux-gnu/pkgconfig:$root/usr/share/pkgconfig"
  export PKG_CONFIG_SYSROOT_DIR="$root"
}

# The GPU machine.
check() {
  local out=${OUT:-$repo/gpu-check-out}
  mkdir -p "$out"
  exec > >(tee "$out/gpu-check.log") 2>&1
  local start=$SECONDS budget=${EVOPROMPT_GPU_CHECK_BUDGET_S:-570}
  local results=$out/results.jsonl tmp
  : >"$results"
  tmp=$(mktemp -d)
  # measure NAME COMMAND...: the command's last output line (JSON) into the
  # results as check NAME; a failure is logged and the check goes on.
  measure() {
    local name=$1 line
    shift
    if line=$("$@" 2>"$tmp/$name.err" | tail -1) && [ -n "$line" ]; then
      python3 -c 'import json, sys; r = json.loads(sys.argv[2]); r["check"] = sys.argv[1]; print(json.dumps(r))' \
        "$name" "$line" >>"$results" && echo "$name: $line" || say "$name: not JSON: $line"
    else
      say "$name failed: $(tail -5 "$tmp/$name.err")"
    fi
  }
  [ -f "$carry/deps.tar.xz" ] || die "no $carry/deps.tar.xz: run scripts/gpu-check.sh --pack on Debian first, and carry .gpu-deps"
  nvidia-smi -L || die "no NVIDIA GPU"
  local deps=/tmp/evoprompt-gpu-deps build=$repo/build-gpu
  rm -rf "$deps" && mkdir -p "$deps" && tar -C "$deps" -xJf "$carry/deps.tar.xz"
  z3_stub "$deps"
  use_carry "$deps"
  local torch_cmake torch_lib
  torch_cmake=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$torch_lib"
  say "torch $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)'), $(nproc) cores; unpacked in $((SECONDS - start)) s"
  local nvcc cuda_home
  nvcc=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
  cuda_home=$([ -n "$nvcc" ] && dirname "$(dirname "$nvcc")" || echo /usr/local/cuda)
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEVOPROMPT_LLVM_ROOT="$deps" \
    -DCMAKE_PREFIX_PATH="$deps/usr;$torch_cmake" -DEVOPROMPT_TCMALLOC=OFF -DCUDAToolkit_ROOT="$cuda_home" \
    ${nvcc:+-DCMAKE_CUDA_COMPILER="$nvcc"} -DUSE_SYSTEM_NVTX=ON -DTORCH_CUDA_ARCH_LIST=9.0 \
    || die "configure failed"
  grep -q 'EVOPROMPT_TORCH_CUDA' "$build/build.ninja" || die "configured without CUDA (TorchConfig set no C10_CUDA_LIBRARY)"
  ninja -C "$build" -k 0 evoprompt evoprompt_bench evoprompt_bench_decode evoprompt_bench_logits evoprompt_bench_clrs \
    || die "build failed (the first errors are above)"
  say "built in $((SECONDS - start)) s"
  local bin=$build/tools/evoprompt
  "$bin" data mnist1d --out "$tmp/mnist1d" >/dev/null
  "$bin" check "$repo/seeds_cpp/mnist1d/cnn.cpp" >/dev/null || say "the JIT's first compile (its prelude) failed"

  # 1. The CNN seed under the paper's protocol (8000 steps, validation every 250), a whole child.
  measure cnn_graph "$build/bench/evoprompt_bench" "$tmp/mnist1d" 8000 --device cuda --cuda-graph on --eval-every 250
  measure cnn_eager "$build/bench/evoprompt_bench" "$tmp/mnist1d" 8000 --device cuda --cuda-graph off --eval-every 250
  measure cnn_python python3 "$repo/bench/python_train_loop.py" "$tmp/mnist1d" --full --steps 8000 --device cuda
  # 2. Children per minute, K workers per GPU: the 4 seeds, then one round of 2 x 8 mutate children.
  children_per_min() {
    local k=$1 t0 t1
    t0=$(date +%s.%N)
    "$bin" evolve --run "$tmp/run$k" --data "$tmp/mnist1d" --lm mutate --rounds 1 --prompts 2 --samples 8 \
      --steps 2000 --eval-every 250 --workers-per-gpu "$k" >"$tmp/run$k.log" 2>&1 || { tail -5 "$tmp/run$k.log" >&2; return 1; }
    t1=$(date +%s.%N)
    python3 - "$tmp/run$k/journal.sqlite" "$k" "$t0" "$t1" <<'PY'
import json, sqlite3, sys
db, k, t0, t1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = sqlite3.connect(db).execute("SELECT verdict, step_path FROM children").fetchall()
n = sum(1 for v, _ in rows if v == "evaluated")
paths = sorted({p for v, p in rows if v == "evaluated"})
print(json.dumps({"workers_per_gpu": k, "children": n, "steps": 2000, "wall_s": t1 - t0,
                  "per_min": 60 * n / (t1 - t0), "step_paths": paths}))
PY
  }
  local k
  for k in 1 4 16; do measure children_per_min children_per_min "$k"; done
  # 3. Embedded LM decode against transformers' generate(), bf16, batch 16, one random Qwen2-0.5B-shaped folder.
  measure decode_cpp "$build/bench/evoprompt_bench_decode" --device cuda --dtype bf16 --write "$tmp/qwen" --reps 3
  measure decode_transformers python3 "$repo/bench/gpu_check.py" decode "$tmp/qwen" --reps 3
  rm -rf "$tmp/qwen"
  # 4. Logit parity against transformers, f32, on the GPU and the CPU.
  parity() {
    local m=$1 dev=$2
    "$build/bench/evoprompt_bench_logits" "$tmp/parity/$m" "$(cat "$tmp/parity/$m/ids.txt")" "$tmp/parity/$m.$dev.f32" \
      --device "$dev" >&2 || return 1
    python3 "$repo/bench/gpu_check.py" parity-diff "$tmp/parity/$m" "$tmp/parity/$m.$dev.f32" \
      | python3 -c 'import json, sys; r = json.load(sys.stdin); r["device"] = sys.argv[1]; print(json.dumps(r))' "$dev"
  }
  if python3 "$repo/bench/gpu_check.py" parity-models "$tmp/parity" >"$tmp/parity.log" 2>&1; then
    local m dev
    for m in qwen2 llama; do for dev in cuda cpu; do measure parity parity "$m" "$dev"; done; done
  else
    say "parity models: $(tail -5 "$tmp/parity.log")"
  fi
  # 5. CLRS BFS at batch 32 (the JIT-compiled seed v1), the GPU against every core.
  measure clrs_gpu "$build/bench/evoprompt_bench_clrs" 30 1 jit cuda
  measure clrs_cpu "$build/bench/evoprompt_bench_clrs" 30 "$(nproc)" jit cpu
  say "measured in $((SECONDS - start)) s"

  # 6. The tests, with CUDA, in what is left of the budget (the node tokenizer
  # parity needs node_modules, which do not travel).
  local left=$((budget - (SECONDS - start)))
  if [ "$left" -gt 60 ]; then
    timeout $((left - 30)) ninja -C "$build" -k 0 >"$out/build-tests.log" 2>&1 || say "building the tests: see build-tests.log"
    left=$((budget - (SECONDS - start)))
    (cd "$build" && timeout $((left > 20 ? left - 10 : 10)) ctest -j "$(nproc)" -LE slow -E 'tokenizer_parity|node_modules|report_e2e' --timeout 240 \
      --output-on-failure >"$out/ctest.log" 2>&1) || true
    python3 - "$out/ctest.log" >>"$results" <<'PY' || true
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", text)
failed = re.findall(r"^\s*\d+ - (.+?) \((?:Failed|Timeout|SEGFAULT|Subprocess aborted|Not Run)", text, re.M)
total = int(m.group(3)) if m else 0
print(json.dumps({"check": "tests", "total": total, "passed": total - int(m.group(2)) if m else 0,
                  "failed_names": "; ".join(failed[:12]) or ("ctest did not finish" if not m else "")}))
PY
  else
    say "no time left for the tests"
  fi
  rm -rf "$tmp"
  say "done in $((SECONDS - start)) s"
  python3 "$repo/bench/gpu_check.py" table "$results" | tee "$out/table.md"
}

case "${1:-}" in
  --pack) pack ;;
  --dry-run) dry_run ;;
  "") check ;;
  *) echo "usage: scripts/gpu-check.sh [--pack | --dry-run]" >&2; exit 2 ;;
esac
