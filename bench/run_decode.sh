#!/usr/bin/env bash
# lm_decode: decode tokens/s of the embedded LM (codegen/lm), batch 16, against the same model and
# loop in eager Python PyTorch (Debian's python3-torch), both measured here on the same weights.
#   bench/run_decode.sh [BUILD_DIR] [LAYERS] [REPS]
# A random f32 model shaped like Qwen2.5-Coder-0.5B (LAYERS overrides its 24 layers), one prefill
# of a 64-token prompt, the cache repeated into 16 rows, 32 new tokens each (greedy), CPU, every
# core. tok/s = 16 * 32 / median wall time of the whole request (prefill included).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
layers=${2:-24}
reps=${3:-3}
python=/usr/bin/python3  # Debian's interpreter, where python3-torch lives
bin=$build/bench/evoprompt_bench_decode
[ -x "$bin" ] || { echo "bench: build first (ninja -C $build evoprompt_bench_decode)" >&2; exit 1; }

model=$(mktemp -d)
trap 'rm -rf "$model"' EXIT
cpp_json=$("$bin" --layers "$layers" --reps "$reps" --write "$model")
py_json=$("$python" "$here/python_decode.py" "$model" --reps "$reps")
"$python" - "$cpp_json" "$py_json" <<'PY'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
s = c["shape"]
agree = sum(a == b for a, b in zip(c["tokens0"], p["tokens0"]))
print(f"lm_decode: Qwen2 hidden {s['hidden']}, ffn {s['intermediate']}, {s['layers']} layers, {s['heads']}/{s['kv_heads']} heads, "
      f"vocab {s['vocab']}; f32 CPU, {c['threads']} threads; batch {c['batch']}, prompt {c['prompt_tokens']}, "
      f"{c['new_tokens']} new tokens (greedy; sample 0 agrees on {agree}/{len(c['tokens0'])} tokens)")
print(f"  prefill: python {p['prefill_s'] * 1e3:.0f} ms, evoprompt {c['prefill_s'] * 1e3:.0f} ms")
print(f"lm_decode: python {p['tokens_per_s']:.1f} tok/s, evoprompt {c['tokens_per_s']:.1f} tok/s "
      f"-> {c['tokens_per_s'] / p['tokens_per_s']:.2f}x")
PY
