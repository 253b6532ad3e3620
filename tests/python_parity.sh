#!/usr/bin/env bash
# The C++ trainer must reproduce the Python PyTorch reference loop
# (bench/python_train_loop.py) step for step: same seed, one thread, same
# libtorch, so the same initial weights, batches, losses and accuracies.
set -euo pipefail
bin="$1"; data="$2"; here=$(cd "$(dirname "$0")" && pwd)
for seed in 0 5; do
  cpp=$("$bin" seeds --task mnist1d --data "$data" --only cnn --threads 1 --json --steps 300 --eval-every 100 --seed "$seed")
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
