#!/usr/bin/env bash
# README command 1's figures stay true: runs the evolution of command 1
# (evolve --task mnist1d: preset quick, --lm mutate, seed 0, the generated
# canonical data) on the CPU and checks its journal against the table and the
# sample counts that README.md prints under "Command 1".
# Usage: readme_figures.sh EVOPROMPT_BINARY README.md [SCREENSHOT_DIR]
set -euo pipefail
bin=$1
readme=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" evolve --task mnist1d --run "$work/run" --device cpu --json > "$work/events.jsonl"

/usr/bin/python3 - "$work/run/journal.sqlite" "$readme" <<'EOF'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8").read()

row = re.compile(r"^\| (best seed|best child|2nd child) \(`(\w+)`[^|]*\| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \| \**−([\d.]+)\**",
                 re.M)
table = {m[1]: (m[2], int(m[3].replace(",", "")), m[4], m[5], "-" + m[6]) for m in row.finditer(text)}
assert sorted(table) == ["2nd child", "best child", "best seed"], f"README table rows not found: {table}"
counts = re.search(r"(\d+) samples: (\d+) entered G, (\d+) were filtered by α", text)
assert counts, "README's sample counts line not found"

def shown(r):  # name, params, val, test, fitness as the README rounds them
    return (r[0], r[1], f"{r[2]:.3f}", f"{r[3]:.3f}", f"{r[4]:.1f}")

cols = "name, params_used, val_acc, test_acc, fitness"
seed = db.execute(f"select {cols} from children where kind = 'seed' order by fitness desc, id limit 1").fetchone()
top = db.execute(f"select {cols} from children where in_history = 1 order by fitness desc, id limit 2").fetchall()
got = {"best seed": shown(seed), "best child": shown(top[0]), "2nd child": shown(top[1])}
bad = [f"{k}: README {table[k]}, run {got[k]}" for k in table if table[k] != got[k]]

samples = db.execute("select count(*) from children where kind != 'seed'").fetchone()[0]
in_g = db.execute("select count(*) from children where in_history = 1").fetchone()[0]
alpha = db.execute("select count(*) from children where verdict = 'filtered_alpha'").fetchone()[0]
if (samples, in_g, alpha) != tuple(map(int, counts.groups())):
    bad.append(f"counts: README {counts.groups()}, run {(samples, in_g, alpha)}")
assert not bad, "README command 1 figures are stale:\n  " + "\n  ".join(bad)
print("README figures of command 1: ok", got)
EOF

# The issue's check of `report`: command 1's run gives a page under 5 MB that
# renders offline, with its front, curve and lineage.
source "$(dirname "$0")/lib.sh"
"$bin" report "$work/run" --out "$work/report.html" > /dev/null
[ "$(stat -c %s "$work/report.html")" -lt 5000000 ]
check_report "$work/report.html" "$work/run"
for mark in 'class="front"' 'class="mean-curve"' 'class="lineage-edge"'; do
  grep -q "$mark" "$work/dom.html" || { echo "the report of command 1 lacks $mark"; exit 1; }
done
if [ -n "${3:-}" ]; then
  mkdir -p "$3"
  "${chrome[@]}" --window-size=1280,2600 --screenshot="$3/command1.png" "file://$work/report.html" 2> /dev/null
  echo "screenshot: $3/command1.png"
fi
