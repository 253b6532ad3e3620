#!/usr/bin/env bash
# End to end: three tiny runs (two search seeds of evoprompting, one naive
# with --reeval 1), then report (rendered in headless Chromium with the
# network off), export --jsonl/--csv, reeval --k 2 twice, dump's weights,
# a report of a run still going, and the usage errors.
# Usage: report_e2e.sh EVOPROMPT_BINARY TEST_DATA_DIR [SCREENSHOT_DIR]
set -euo pipefail
bin=$1
data=$2
shots=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
py=/usr/bin/python3

common=(--lm "replay:$data/replay_tiny.jsonl" --rounds 2 --prompts 2 --samples 3 --survivors 2
        --steps 100 --eval-every 50 --alpha 0.58 --threads 1 --device cpu)
"$bin" evolve --run "$work/a" "${common[@]}" --json > /dev/null
"$bin" evolve --run "$work/b" "${common[@]}" --seed 1 --json > /dev/null
"$bin" evolve --run "$work/c" "${common[@]}" --mode naive --reeval 1 --json > "$work/c.jsonl"

# evolve --reeval 1: one re-training per answer child, a journal row each.
$py - "$work/c" "$work/c.jsonl" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/journal.sqlite")
events = [json.loads(l) for l in open(sys.argv[2])]
reevals = [e for e in events if e["event"] == "reeval"]
summary = [e for e in events if e["event"] == "summary"][0]["summary"]
assert len(reevals) == len(summary["top"]) >= 1, (reevals, summary["top"])
assert db.execute("select count(*), min(k), max(k), min(train_seed) from reevals").fetchone() == (len(reevals), 1, 1, 1)
assert [r["name"] for r in summary["reeval"]] and summary["reeval"][0]["trainings"] == 2, summary["reeval"]
print("evolve --reeval: ok")
EOF

# report: one file, under 5 MB, that renders offline with no console message.
"$bin" report "$work/a" "$work/b" "$work/c" --out "$work/report.html" | grep -q "wrote $work/report.html (3 runs"
size=$(stat -c %s "$work/report.html")
[ "$size" -lt 5000000 ] || { echo "report is $size bytes"; exit 1; }
check_report "$work/report.html" "$work/a" "$work/b" "$work/c"
$py - "$work/dom.html" <<'EOF'
import re, sys
dom = open(sys.argv[1]).read()
assert len(re.findall(r'class="mean-curve"', dom)) == 2            # two modes
assert len(re.findall(r'class="band"', dom)) == 1                  # evoprompting has two search seeds
assert len(re.findall(r'class="run-curve"', dom)) == 3
assert len(re.findall(r'class="front"', dom)) == 3
assert len(re.findall(r'class="verdict-bar"', dom)) > 0
assert len(re.findall(r'class="lineage-edge"', dom)) > 0
assert len(re.findall(r'class="top-table"', dom)) == 3
assert "fitness mean ± sd" in dom                                  # c's re-evaluated answer
print("report DOM: ok")
EOF

# A child's view: highlighted code, a diff against each parent, its verdict.
"${chrome[@]}" --dump-dom "file://$work/report.html#c0-5" > "$work/child.html" 2> "$work/chrome.log"
if grep -a "CONSOLE" "$work/chrome.log"; then echo "the child view wrote to the console"; exit 1; fi
grep -q '<h3>a / r0p0s0 (sample, round 0)</h3>' "$work/child.html"
grep -q '<code class="hljs cpp"><span class="hljs-' "$work/child.html"
grep -q '<h3>Diff against parent ' "$work/child.html"
grep -q '<div class="add">+ ' "$work/child.html"

if [ -n "$shots" ]; then mkdir -p "$shots"; out="$shots/report.png"; else out="$work/report.png"; fi
"${chrome[@]}" --window-size=1280,2400 --screenshot="$out" "file://$work/report.html" 2> "$work/chrome.log"
[ "$(head -c 8 "$out" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "no PNG screenshot"; exit 1; }
[ "$(stat -c %s "$out")" -gt 50000 ] || { echo "the screenshot is nearly empty"; exit 1; }
echo "screenshot: $out"

# export: one child per line, every journal field.
"$bin" export "$work/a" --jsonl > "$work/a.jsonl"
"$bin" export "$work/a" --csv --out "$work/a.csv" 2> /dev/null
$py - "$work/a" "$work/a.jsonl" "$work/a.csv" <<'EOF'
import csv, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/journal.sqlite")
db.row_factory = sqlite3.Row
rows = db.execute("select * from children order by id").fetchall()
lines = [json.loads(l) for l in open(sys.argv[2])]
assert len(lines) == len(rows) == 16
for row, line in zip(rows, lines):
    for k in row.keys():
        if k == "diagnostics":
            assert line[k] == json.loads(row[k]), k
        elif k == "in_history":
            assert line[k] == bool(row[k]), k
        else:
            assert line[k] == row[k], (k, line[k], row[k])
assert lines[4]["parent_ids"] and lines[0]["parent_ids"] == []
table = list(csv.DictReader(open(sys.argv[3], newline="")))
assert len(table) == 16 and table[4]["source"] == rows[4]["source"]
assert {"reeval_val_mean", "parent_ids", "completion"} <= set(table[0])
print("export: ok")
EOF

# reeval --k 2: two rows per answer child, weights kept; a second call trains
# nothing and gives the same means.
"$bin" reeval "$work/a" --k 2 --json > "$work/r1.jsonl"
"$bin" reeval "$work/a" --k 2 --json > "$work/r2.jsonl"
$py - "$work/a" "$work/r1.jsonl" "$work/r2.jsonl" <<'EOF'
import json, os, sqlite3, struct, sys
run = sys.argv[1]
first = [json.loads(l) for l in open(sys.argv[2])]
second = [json.loads(l) for l in open(sys.argv[3])]
db = sqlite3.connect(run + "/journal.sqlite")
top = [c["id"] for c in first[-1]["summary"]["top"]]
rows = db.execute("select child_id, k, train_seed, verdict, weights, val_acc from reevals order by child_id, k").fetchall()
assert [(r[0], r[1], r[2]) for r in rows] == [(c, k, k) for c in top for k in (1, 2)], rows
assert len([e for e in first if e["event"] == "reeval"]) == 2 * len(top)
assert [e for e in second if e["event"] == "reeval"] == []
assert first[-1]["summary"]["reeval"] == second[-1]["summary"]["reeval"]
for r in rows:
    assert r[3] == "evaluated" and r[4] == f"weights/k{r[1]}/r0p0s0.safetensors", r
    with open(os.path.join(run, r[4]), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    assert header["__metadata__"]["seed"] == str(r[2]) and abs(float(header["__metadata__"]["val_acc"]) - r[5]) < 1e-5
    assert sum(1 for k in header if k != "__metadata__") >= 4, header  # the small CNN's weights and biases
s = first[-1]["summary"]["reeval"][0]
assert s["name"] == "r0p0s0" and s["trainings"] == 3 and s["val_sd"] >= 0
print("reeval: ok")
EOF
"$bin" show "$work/a" | grep -q "re-evaluated (mean ± sd"
"$bin" dump "$work/a" --out "$work/dump" | grep -q "with 2 weight files (safetensors)"
[ -s "$work/dump/001_r0p0s0.cpp" ] && [ -s "$work/dump/001_r0p0s0.k1.safetensors" ] && [ -s "$work/dump/001_r0p0s0.k2.safetensors" ]
"$bin" export "$work/a" --jsonl | $py -c "import json,sys; r=[json.loads(l) for l in sys.stdin][4]; assert r['reeval']['trainings']==3, r"

# A run still going: the journal is read as it is.
"$bin" evolve --run "$work/live" --lm "replay:$data/replay_tiny.jsonl" --rounds 2 --prompts 2 --samples 3 \
  --steps 600 --eval-every 300 --threads 1 --device cpu --json > "$work/live.log" 2>&1 &
live=$!
for _ in $(seq 1 600); do
  kill -0 "$live" 2>/dev/null || { echo "the live run ended early"; cat "$work/live.log"; exit 1; }
  n=$($py -c "import sqlite3,sys
try: print(sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute(\"select count(*) from children where verdict != 'pending'\").fetchone()[0])
except Exception: print(0)" "$work/live/journal.sqlite")
  [ "$n" -ge 5 ] && break
  sleep 0.1
done
# The driver is paused so that the report and a snapshot of the journal
# (to count against) see the same rows; its workers go on.
kill -STOP "$live"
"$bin" report "$work/live" --out "$work/live.html" > /dev/null
mkdir "$work/snap"
$py -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))" \
  "$work/live/journal.sqlite" "$work/snap/journal.sqlite"
kill -CONT "$live"
kill -0 "$live" || { echo "the live run ended before its report"; exit 1; }
kill -INT "$live"; wait "$live" || true
check_report "$work/live.html" "$work/snap"
$py -c "import sqlite3,sys; n=sqlite3.connect(sys.argv[1]).execute('select count(*) from children').fetchone()[0]; assert 5 <= n < 16, n" \
  "$work/snap/journal.sqlite"

# Usage errors: one line, exit 2, nothing written.
expect_usage "$work/none: no run journal here" report "$work/none" --out "$work/x.html"
expect_usage "export: give --jsonl or --csv" export "$work/a"
expect_usage "--jsonl excludes --csv" export "$work/a" --jsonl --csv
expect_usage "cannot write $work/no/such/x.html" report "$work/a" --out "$work/no/such/x.html"
expect_usage "--k: Value 0 not in range" reeval "$work/a" --k 0
expect_usage "$work/live: the search has not finished" reeval "$work/live" --k 1
[ ! -e "$work/x.html" ] && [ ! -e "$work/no" ] || { echo "a refused report left a file"; exit 1; }
echo "report e2e ok"
