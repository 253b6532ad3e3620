#!/usr/bin/env bash
# `evoprompt data clrs`: the written samples equal the golden reference set
# (tests/data/clrs_golden.tar.xz, unpacked into the build tree) array by array and dtype by dtype, and usage errors exit 2
# with one line and write nothing.
# Usage: clrs_cli_test.sh EVOPROMPT_BINARY GOLDEN_DIR
set -u
bin="$1"
golden="$2"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! "$py" -c 'import numpy' 2>/dev/null; then
  echo "FAIL: $py has no numpy (scripts/install-deps.sh installs python3-numpy)"
  exit 1
fi

# compare GOT_DIR WANT_DIR: every golden .npy equal in dtype, shape and value,
# and meta.json's sample facts equal.
compare() {
  "$py" - "$1" "$2" <<'PY'
import json, os, sys
import numpy as np
got, want = sys.argv[1], sys.argv[2]
gm = json.load(open(os.path.join(got, "meta.json")))
wm = json.load(open(os.path.join(want, "meta.json")))
bad = []
for key in ["algorithm", "split", "n", "sample_index_in_stream", "seed", "num_nodes", "trajectory_length"]:
    if gm.get(key) != wm.get(key):
        bad.append(f"meta {key}: {gm.get(key)!r} != {wm.get(key)!r}")
if list(gm["probes"]) != list(wm["probes"]):
    bad.append(f"probe names/order {list(gm['probes'])} != {list(wm['probes'])}")
for name, p in wm["probes"].items():
    q = gm["probes"].get(name, {})
    for key in ["stage", "location", "type", "shape", "orig_dtype", "dtype", "file"]:
        if q.get(key) != p.get(key):
            bad.append(f"{name}: meta {key} {q.get(key)!r} != {p.get(key)!r}")
    if not p.get("stored", True):
        continue
    a = np.load(os.path.join(got, p["file"]))
    b = np.load(os.path.join(want, p["file"]))
    if a.dtype != b.dtype or a.shape != b.shape:
        bad.append(f"{name}: {a.dtype}{a.shape} != {b.dtype}{b.shape}")
    elif not np.array_equal(a, b):
        bad.append(f"{name}: values differ (max |diff| {np.max(np.abs(a.astype(float) - b.astype(float)))})")
for line in bad:
    print(f"  {got}: {line}")
sys.exit(1 if bad else 0)
PY
}

# The train stream of bfs: samples 0, 1, 2 at n = 16 (seed 1, the default).
if "$bin" data clrs bfs --split train --n 16 --count 3 --out "$tmp/bfs" >"$tmp/out" 2>&1; then
  for i in 0 1 2; do
    compare "$tmp/bfs/train_n16_$i" "$golden/bfs/train_n16_$i" || fail "bfs train_n16_$i differs from the golden sample"
  done
  [ "$(ls "$tmp/bfs" | wc -l)" -eq 3 ] || fail "bfs: expected 3 sample folders, got $(ls "$tmp/bfs")"
else
  fail "data clrs bfs exited non-zero: $(cat "$tmp/out")"
fi

# The test split's default n (64) and seed (3); optimal_bst has n + 1 nodes,
# insertion_sort's int32 pointers, lcs_length's categorical edge hints.
for algo in optimal_bst insertion_sort lcs_length; do
  if "$bin" data clrs "$algo" --split test --out "$tmp/$algo" >"$tmp/out" 2>&1; then
    compare "$tmp/$algo/test_n64_0" "$golden/$algo/test_n64_0" || fail "$algo test_n64_0 differs from the golden sample"
  else
    fail "data clrs $algo --split test exited non-zero: $(cat "$tmp/out")"
  fi
done

# --start: sample 2 alone, added to an existing folder.
if "$bin" data clrs dfs --start 2 --out "$tmp/bfs" >"$tmp/out" 2>&1; then
  compare "$tmp/bfs/train_n16_2" "$golden/dfs/train_n16_2" || fail "dfs --start 2 differs from the golden train_n16_2"
  [ "$(ls "$tmp/bfs" | wc -l)" -eq 3 ] || fail "--start 2: expected the folder to keep 3 samples"
else
  fail "data clrs dfs --start 2 exited non-zero: $(cat "$tmp/out")"
fi

expect_usage() {  # expect_usage SUBSTRING ARGS...: exit 2, one line, nothing written
  local want="$1"; shift
  "$bin" "$@" --out "$tmp/none" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, want 2"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "'$*' printed $(wc -l <"$tmp/err") error lines"
  grep -q -- "$want" "$tmp/err" || fail "'$*' error lacks '$want': $(cat "$tmp/err")"
  [ ! -e "$tmp/none" ] || fail "'$*' wrote $tmp/none"
  [ -z "$(ls -A "$tmp" | grep '^\.none')" ] || fail "'$*' left a temp folder"
}
expect_usage "unknown CLRS-30 algorithm 'bogus'" data clrs bogus
expect_usage "--split must be train, val or test" data clrs bfs --split dev
expect_usage "--n must be >= 1" data clrs bfs --n 0
expect_usage "--n must be >= 1" data clrs bfs --n -3
expect_usage "--count must be >= 1" data clrs bfs --count 0

# A failure after validation (the matchers need n >= 3) leaves nothing.
"$bin" data clrs kmp_matcher --n 2 --out "$tmp/none" >"$tmp/out" 2>"$tmp/err"
[ $? -ne 0 ] || fail "kmp_matcher --n 2 exited 0"
[ ! -e "$tmp/none" ] || fail "kmp_matcher --n 2 wrote $tmp/none"
[ -z "$(ls -A "$tmp" | grep '^\.none')" ] || fail "kmp_matcher --n 2 left a temp folder"

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "clrs cli: all checks passed"
