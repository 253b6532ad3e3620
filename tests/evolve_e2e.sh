#!/usr/bin/env bash
# End to end: a tiny evolution (T=2, m=2, n=3, 100 steps, alpha 0.58) with the replay LM,
# checked row by row in its journal; then show, dump, check, replay DIR:CHILD,
# and runs killed with SIGKILL and resumed (also with --rounds-in-flight 2), which must end
# with the same rows.
# Usage: evolve_e2e.sh EVOPROMPT_BINARY TEST_DATA_DIR
set -euo pipefail
bin=$1
data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

common=(--lm "replay:$data/replay_tiny.jsonl" --rounds 2 --prompts 2 --samples 3 --survivors 2
        --steps 100 --eval-every 50 --alpha 0.58 --threads 1 --device cpu)

"$bin" evolve --run "$work/a" "${common[@]}" --json > "$work/a.jsonl"
grep -q '"event":"summary"' "$work/a.jsonl"

# The journal's rows. Replay completion i is sample i of the run.
/usr/bin/python3 - "$work/a/journal.sqlite" <<'EOF'
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select id, name, kind, round, verdict, rule, duplicate_of, params_used, in_history, "
                  "val_acc, temperature from children order by id").fetchall()
expected = [
  (1, "large_cnn", "seed", -1, "evaluated", "", 0, 91082),
  (2, "cnn", "seed", -1, "evaluated", "", 0, 5210),
  (3, "gru", "seed", -1, "evaluated", "", 0, 4810),
  (4, "residual_mlp", "seed", -1, "evaluated", "", 0, 15210),
  (5, "r0p0s0", "sample", 0, "evaluated", "", 0, 1058),            # small CNN
  (6, "r0p0s1", "sample", 0, "policy", "forbidden_call", 0, 0),    # std::getenv
  (7, "r0p0s2", "sample", 0, "compile_error", "compile_error", 0, 0),
  (8, "r0p1s0", "sample", 0, "duplicate", "", 5, 0),               # r0p0s0 up to whitespace and comments
  (9, "r0p1s1", "sample", 0, "runtime_error", "runtime_error", 0, 0),  # Linear(20, 10) after 10 features
  (10, "r0p1s2", "sample", 0, "filtered_alpha", "", 0, 1642),      # MLP 40-32-10, val 0.400
  (11, "r1p0s0", "sample", 1, "filtered_alpha", "", 0, 826),       # chat answer in a fence, MLP 40-16-10
  (12, "r1p0s1", "sample", 1, "compile_error", "extraction", 0, 0),
  (13, "r1p0s2", "sample", 1, "filtered_alpha", "", 0, 1234),      # tanh MLP 40-24-10
  (14, "r1p1s0", "sample", 1, "policy", "reinterpret_cast", 0, 0),
  (15, "r1p1s1", "sample", 1, "duplicate", "", 2, 0),              # the CNN seed, recommented
  (16, "r1p1s2", "sample", 1, "filtered_alpha", "", 0, 622),       # MLP 40-12-10
]
got = [r[:8] for r in rows]
assert got == expected, "\n".join(f"{g} != {e}" for g, e in zip(got, expected) if g != e) or f"{len(got)} rows"
# alpha = 0.58: a child enters G only when its validation error is below it.
# Seeds are scored but never filtered, and never enter G.
for r in rows:
    if r[4] == "evaluated":
        assert 0.0 < r[9] <= 1.0, r
        assert r[8] == (0 if r[2] == "seed" else 1), r
        assert r[2] == "seed" or r[9] > 1.0 - 0.58, r
    if r[4] == "filtered_alpha":
        assert 0.0 < r[9] <= 1.0 - 0.58 and r[8] == 0, r
    if r[2] == "sample":
        assert r[10] in (0.2, 0.6, 0.8, 1.0), r
assert [(r[1], r[9]) for r in rows if r[4] in ("evaluated", "filtered_alpha") and r[2] == "sample"] == [
    ("r0p0s0", 0.446), ("r0p1s2", 0.4), ("r1p0s0", 0.324), ("r1p0s2", 0.336), ("r1p1s2", 0.326)], rows
# After round 0, GETTOP picks the one child of G (p = 2); round 1 prompts from it alone.
assert [r[0] for r in db.execute("select child_id from selections where round=0 order by rank")] == [5]
assert json.loads(db.execute("select parent_pool from rounds where round=1").fetchone()[0]) == [5]
assert db.execute("select count(*) from selections where round=1").fetchone()[0] == 0
assert db.execute("select count(*) from rounds where finished_at is not null").fetchone()[0] == 2
assert db.execute("select count(*) from prompts").fetchone()[0] == 4
for (text,) in db.execute("select text from prompts"):
    assert text.startswith("/* Metrics:\n{'num_params': '") and text.endswith("*/\nstruct Model : torch::nn::Module {")
assert db.execute("select count(*), sum(samples) from lm_calls").fetchone() == (4, 12)
meta = dict(db.execute("select key, value from meta"))
assert meta["status"] == "finished" and json.loads(meta["evolution"])["rounds"] == 2
assert json.loads(meta["train"])["steps"] == 100
print("journal rows: ok")
EOF

# show: budget, verdict counts, the top-p table.
"$bin" show "$work/a" --json > "$work/show.json"
/usr/bin/python3 - "$work/show.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["samples_used"] == 12 and s["budget"] == 12, s
assert s["verdicts"] == {"evaluated": 1, "filtered_alpha": 4, "policy": 2, "compile_error": 2, "duplicate": 2,
                         "runtime_error": 1}, s["verdicts"]
assert [c["id"] for c in s["top"]] == [5], s["top"]  # the answer is the top p of G, and G holds one child
assert [c["name"] for c in s["seeds"]][0] in ("cnn", "gru", "large_cnn", "residual_mlp")
print("show: ok")
EOF
"$bin" show "$work/a" | grep -q "budget: 12 of 12 samples used"

# dump: the top children, ready for check and replay.
"$bin" dump "$work/a" --out "$work/top" --top 2 | grep -q "wrote 1 children"
for f in "$work"/top/*.cpp; do
  head -1 "$f" | grep -q '^/\* Metrics:$'
  "$bin" check "$f" > /dev/null
done
"$bin" dump "$work/a" --out "$work/all" --all | grep -q "wrote 16 children"
grep -q "policy forbidden_call" "$work/all/r0p0s1.cpp"

# replay DIR:CHILD re-runs a journal child: the same training gives the same numbers.
"$bin" replay "$work/a:r0p0s0" --json > "$work/replay.json"
/usr/bin/python3 - "$work/replay.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["stored"]["params_used"] == r["new"]["params_used"] == 1058, r
assert r["stored"]["val_acc"] == r["new"]["val_acc"], r
print("replay DIR:CHILD: ok")
EOF
status=0
"$bin" replay "$work/a:r0p1s1" > /dev/null || status=$?
[ "$status" -eq 1 ]  # the runtime_error child fails again

# Kill -9 the driver at several points, resuming each time; no worker may
# outlive its driver, and the resumed run must end with the same rows.
tag="evoprompt-e2e-$$-$RANDOM"
finished() {  # finished DIR; read-only: the poller must never create the journal itself
  /usr/bin/python3 -c "import sqlite3,sys
try: print(sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute(\"select count(*) from children where verdict != 'pending'\").fetchone()[0])
except Exception: print(0)" "$1/journal.sqlite" 2>/dev/null || echo 0
}
orphans() { grep -l "$tag" /proc/[0-9]*/environ 2>/dev/null | wc -l; }
kill_at() {  # kill_at DIR FINISHED_CHILDREN EVOLVE_ARGS...
  local dir=$1 at=$2; shift 2
  EVOPROMPT_E2E_TAG=$tag "$bin" evolve --run "$dir" "$@" --json > /dev/null 2>&1 &
  local pid=$! n=0
  for _ in $(seq 1 900); do
    n=$(finished "$dir")
    [ "$n" -ge "$at" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "killed with $n of 16 children finished"
  [ "$n" -lt 16 ] || { echo "the run ended before the kill"; exit 1; }
  for _ in $(seq 1 20); do [ "$(orphans)" -eq 0 ] && break; sleep 0.1; done
  [ "$(orphans)" -eq 0 ] || { echo "workers outlived their killed driver"; exit 1; }
}
same_rows() {  # same_rows RUN_A RUN_B: children, selections and parent pools equal
  /usr/bin/python3 - "$1/journal.sqlite" "$2/journal.sqlite" <<'EOF'
import sqlite3, sys
cols = ("id, name, verdict, rule, duplicate_of, params_used, val_acc, best_step, test_acc, fitness, in_history, "
        "temperature, completion")
a, b = (sqlite3.connect(p).execute(f"select {cols} from children order by id").fetchall() for p in sys.argv[1:])
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:2]
sa, sb = (sqlite3.connect(p).execute("select * from selections order by round, rank").fetchall() for p in sys.argv[1:])
assert sa == sb
pa, pb = (sqlite3.connect(p).execute("select round, parent_pool from rounds order by round").fetchall() for p in sys.argv[1:])
assert pa == pb, (pa, pb)
EOF
}
kill_at "$work/b" 6 "${common[@]}"
kill_at "$work/b" 10 --resume
kill_at "$work/b" 13 --resume
"$bin" evolve --run "$work/b" --resume --json > /dev/null
same_rows "$work/a" "$work/b"
echo "resume after three kills -9: ok"

# The same with 2 rounds in flight: round 1 asks from the seeds while round 0 trains.
"$bin" evolve --run "$work/a2" "${common[@]}" --rounds-in-flight 2 --json > /dev/null
/usr/bin/python3 - "$work/a2/journal.sqlite" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
pools = [json.loads(p) for (p,) in db.execute("select parent_pool from rounds order by round")]
assert len(pools) == 2 and pools[0] == pools[1], pools  # both rounds' parents are the seeds
EOF
kill_at "$work/b2" 5 "${common[@]}" --rounds-in-flight 2
kill_at "$work/b2" 11 --resume
"$bin" evolve --run "$work/b2" --resume --json > /dev/null
same_rows "$work/a2" "$work/b2"
echo "rounds in flight, resume after two kills -9: ok"
# SIGINT: stop cleanly (exit 130, status interrupted), then resume to the same rows.
# A second SIGINT leaves at once; the journal stays consistent.
for signals in 1 2; do
  dir="$work/int$signals"
  "$bin" evolve --run "$dir" "${common[@]}" --json > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 900); do
    n=$(/usr/bin/python3 -c "import sqlite3,sys
try: print(sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute(\"select count(*) from children where verdict != 'pending'\").fetchone()[0])
except Exception: print(0)" "$dir/journal.sqlite" 2>/dev/null || echo 0)
    [ "$n" -ge 7 ] && break
    sleep 0.1
  done
  kill -INT "$pid"
  [ "$signals" -eq 2 ] && kill -INT "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 130 ] || { echo "SIGINT x$signals: exit $status, expected 130"; exit 1; }
  /usr/bin/python3 - "$dir/journal.sqlite" "$signals" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
if sys.argv[2] == "1":
    assert db.execute("select value from meta where key='status'").fetchone()[0] == "interrupted"
PY
  "$bin" evolve --run "$dir" --resume --json > /dev/null
  /usr/bin/python3 - "$work/a/journal.sqlite" "$dir/journal.sqlite" <<'PY'
import sqlite3, sys
cols = "id, name, verdict, rule, params_used, val_acc, fitness, in_history"
a, b = (sqlite3.connect(p).execute(f"select {cols} from children order by id").fetchall() for p in sys.argv[1:])
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:2]
PY
  echo "SIGINT x$signals, then resume: ok"
done
echo "evolve e2e: all ok"
