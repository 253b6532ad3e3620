#!/usr/bin/env bash
# The C++ trainer must reproduce the Python PyTorch reference loop
# (bench/python_train_loop.py) step for step: same seed, one thread, same
# libtorch, so the same initial weights, batches, losses and accuracies.
# The data: the native generator's canonical set, checked against the
# canonical arrays' digests first.
# Usage: python_parity.sh EVOPROMPT_BINARY TEST_DATA_DIR
set -euo pipefail
bin="$1"; digests="$2/mnist1d.sha256"; here=$(cd "$(dirname "$0")" && pwd)
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$bin" data mnist1d --out "$data" > /dev/null
(cd "$data" && grep -v '^#' "$digests" | grep -v ':float32$' | sha256sum --check --quiet) \
  || { echo "python_parity: the generated MNIST-1D differs from the canonical digests"; exit 1; }
/usr/bin/python3 - "$data" "$digests" <<'PY'
import hashlib, sys
import numpy as np
data, digests = sys.argv[1:]
want = dict(reversed(l.split()) for l in open(digests) if l.strip() and not l.startswith("#"))
for name in ("x", "x_test"):
    got = hashlib.sha256(np.load(f"{data}/{name}.npy").astype("<f4").tobytes()).hexdigest()
    if got != want[f"{name}.npy:float32"]:
        sys.exit(f"python_parity: generated {name}.npy differs from the canonical array at float32")
PY
for seed in 0 5; do
  cpp=$("$bin" seeds --task mnist1d --data "$data" --only cnn --threads 1 --device cpu --json --steps 300 --eval-every 100 --train-seed "$seed")
  py=$(/usr/bin/python3 "$here/../bench/python_train_loop.py" "$data" --full --steps 300 --eval-every 100 --seed "$seed")
  /usr/bin/python3 - "$cpp" "$py" "$seed" <<'PY'
import json, sys
cpp, py, seed = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
diffs = [k for k in ("final_train_loss", "best_val_acc", "test_acc") if cpp[k] != py[k]]
if diffs:
    sys.exit(f"seed {seed}: C++ and Python differ in {diffs}: {cpp} vs {py}")
print(f"seed {seed}: identical (final_train_loss {cpp['final_train_loss']!r}, test_acc {cpp['test_acc']})")
PY
done
