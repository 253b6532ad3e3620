#!/usr/bin/env bash
# Benchmarks, each reported as a ratio against its anchor measured in the same run.
#   bench/run.sh [BUILD_DIR] [STEPS] [ROUNDS]
# cnn_train: training steps/s of the MNIST-1D CNN seed, one thread, batch 128, through the real
# trainer, against the same loop in Python PyTorch (Debian's python3-torch: the same libtorch).
# Rounds alternate C++ and Python so that machine noise hits both; medians are compared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
steps=${2:-2000}
rounds=${3:-5}
data=${EVOPROMPT_MNIST1D_DIR:-$here/../../shared/data/mnist1d}
python=/usr/bin/python3  # Debian's interpreter, where python3-torch lives

[ -x "$build/bench/evoprompt_bench" ] || { echo "bench: build first (cmake --build $build)" >&2; exit 1; }
[ -d "$data" ] || { echo "bench: MNIST-1D folder not found: $data (set EVOPROMPT_MNIST1D_DIR)" >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
  "$build/bench/evoprompt_bench" "$data" "$steps" >>"$results"
  OMP_NUM_THREADS=1 "$python" "$here/python_train_loop.py" "$data" --steps "$steps" >>"$results"
done

"$python" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = {impl: statistics.median(r["steps_per_s"] for r in rows if r["impl"] == impl) for impl in ("cpp", "python")}
print(f"{'bench':<22}{'anchor (python) steps/s':>26}{'evoprompt steps/s':>20}{'ratio':>9}")
print(f"{'cnn_train_1thread':<22}{med['python']:>26.1f}{med['cpp']:>20.1f}{med['cpp'] / med['python']:>8.2f}x")
PY
