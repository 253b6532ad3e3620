#!/usr/bin/env bash
# Benchmarks, each reported as a ratio against its anchor measured in the same run.
#   bench/run.sh [BUILD_DIR] [STEPS] [ROUNDS] [ANCHOR_CHILDREN] [RSS_COMPILES]
# cnn_train: training steps/s of the MNIST-1D CNN seed, one thread, batch 128, through the real
# trainer, against the same loop in Python PyTorch (Debian's python3-torch: the same libtorch).
# Rounds alternate C++ and Python so that machine noise hits both; medians are compared.
# jit_compile: median per-child JIT compile latency (after the one-time prelude) over the seeds
# and the corpus's accepted children, against g++ -O2 and clang++-19 (same prelude) subprocesses
# plus dlopen on the first ANCHOR_CHILDREN children; and RSS growth per child over RSS_COMPILES.
# evolve_workers: wall time of one small mutate evolution (4 seeds + 8 children, 500 steps) with
# the default worker processes (one per core, one thread each), against the same run evaluated
# in-process with libtorch using every core.
# clrs_train: training steps/s of Triplet-GMPNN on BFS (batch 32, n <= 16, h = 128, CPU, one
# thread) with the paper's seed v1 compiled by the JIT, against the compiled-in baseline triplet
# (the same function, ahead of time); also the JIT run with every core.
# lm_decode: decode tokens/s of the embedded LM at batch 16 against eager Python PyTorch (see
# bench/run_decode.sh; EVOPROMPT_BENCH_DECODE_LAYERS overrides the model's 24 layers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
steps=${2:-2000}
rounds=${3:-5}
anchor_children=${4:-3}
rss_compiles=${5:-500}
python=/usr/bin/python3  # Debian's interpreter, where python3-torch lives

[ -x "$build/bench/evoprompt_bench" ] || { echo "bench: build first (cmake --build $build)" >&2; exit 1; }

# The MNIST-1D arrays: $EVOPROMPT_MNIST1D_DIR, else the native generator's canonical set.
results=$(mktemp)
generated=$(mktemp -d)
trap 'rm -rf "$results" "$generated"' EXIT
data=${EVOPROMPT_MNIST1D_DIR:-$generated}
[ -n "${EVOPROMPT_MNIST1D_DIR:-}" ] || "$build/tools/evoprompt" data mnist1d --out "$data" > /dev/null
[ -f "$data/x.npy" ] || { echo "bench: no MNIST-1D arrays in $data" >&2; exit 1; }
for ((r = 1; r <= rounds; r++)); do
  "$build/bench/evoprompt_bench" "$data" "$steps" >>"$results"
  OMP_NUM_THREADS=1 "$python" "$here/python_train_loop.py" "$data" --steps "$steps" >>"$results"
done

clrs_results=$(mktemp)
clrs_steps=${EVOPROMPT_BENCH_CLRS_STEPS:-30}
for ((r = 1; r <= 3; r++)); do
  "$build/bench/evoprompt_bench_clrs" "$clrs_steps" 1 jit >>"$clrs_results"
  "$build/bench/evoprompt_bench_clrs" "$clrs_steps" 1 aot >>"$clrs_results"
done
"$build/bench/evoprompt_bench_clrs" "$clrs_steps" "$(nproc)" jit >>"$clrs_results"

compile_json=$("$build/bench/evoprompt_bench_compile" "$here/../tests/jit_corpus" "$anchor_children" "$rss_compiles")

runs=$(mktemp -d)
trap 'rm -f "$results" "$clrs_results"; rm -rf "$runs"' EXIT
evolve_s() {  # evolve_s NAME FLAGS...: wall seconds of one small evolution
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$build/tools/evoprompt" evolve --run "$runs/$name" --data "$data" --rounds 1 --prompts 2 --samples 4 \
    --steps 500 --eval-every 100 "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
in_process_s=$(evolve_s in_process --in-process --threads "$(nproc)")
workers_s=$(evolve_s workers)

"$python" - "$results" "$compile_json" "$in_process_s" "$workers_s" "$(nproc)" "$clrs_results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = {impl: statistics.median(r["steps_per_s"] for r in rows if r["impl"] == impl) for impl in ("cpp", "python")}
print(f"{'bench':<22}{'anchor (python) steps/s':>26}{'evoprompt steps/s':>20}{'ratio':>9}")
print(f"{'cnn_train_1thread':<22}{med['python']:>26.1f}{med['cpp']:>20.1f}{med['cpp'] / med['python']:>8.2f}x")
c = json.loads(sys.argv[2])
print()
print(f"jit_compile: median {c['jit_median_ms']:.0f} ms per child over {c['children']} children "
      f"(min {c['jit_min_ms']:.0f}, max {c['jit_max_ms']:.0f}); prelude load {c['prelude_load_ms']:.0f} ms")
print(f"  vs g++ -O2 subprocess + dlopen:            {c['gxx_subprocess_median_ms']:.0f} ms  -> {c['speedup_vs_gxx']:.1f}x")
print(f"  vs clang++-19 subprocess, same prelude:    {c['clang_prelude_subprocess_median_ms']:.0f} ms  -> {c['speedup_vs_clang_prelude']:.1f}x")
print(f"  RSS growth per child over {c['rss_compiles']} compiles: {c['rss_growth_per_child_kib']:.1f} KiB")
in_process, workers, cores = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
print()
print(f"evolve_workers: 4 seeds + 8 children, 500 steps: in-process ({cores} threads) {in_process:.1f} s, "
      f"{cores} workers x 1 thread {workers:.1f} s -> {in_process / workers:.2f}x")
clrs = [json.loads(l) for l in open(sys.argv[6]) if l.strip()]
one = {impl: statistics.median(r["steps_per_s"] for r in clrs if r["impl"] == impl and r["threads"] == 1)
       for impl in ("aot", "jit")}
all_cores = [r["steps_per_s"] for r in clrs if r["threads"] > 1]
print()
print(f"{'clrs_train_1thread':<22}{'anchor (AOT) steps/s':>26}{'JIT v1 steps/s':>20}{'ratio':>9}")
print(f"{'':<22}{one['aot']:>26.2f}{one['jit']:>20.2f}{one['jit'] / one['aot']:>8.2f}x")
if all_cores:
    print(f"  Triplet-GMPNN on BFS, batch 32, JIT v1 with {cores} threads: {all_cores[0]:.2f} steps/s")
PY

echo
"$here/run_decode.sh" "$build" "${EVOPROMPT_BENCH_DECODE_LAYERS:-24}"
