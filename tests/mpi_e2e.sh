#!/usr/bin/env bash
# MPI scale-out on one machine (loopback ranks, oversubscribed):
# 1. a 3-rank run (rank 0 the driver, ranks 1 and 2 a worker each) writes
#    the rows of the single-process run, row for row (mutate LM, one
#    thread, CPU); `show` lists the workers by rank and host;
# 2. kill -9 of rank 1 mid-run ends the job with one line naming the lost
#    rank and its host; --resume under a new mpirun gives the same rows;
# 3. hostile children on the remote ranks get their verdicts, and the run
#    goes on to its end.
# Usage: mpi_e2e.sh EVOPROMPT_BINARY HOSTILE_DIR DATA_DIR
set -euo pipefail
bin=$1
hostile=$2
data=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"

mpirun=(mpirun --oversubscribe -n 3)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)
"$bin" data mnist1d --out "$work/data" > /dev/null
common=(--data "$work/data" --rounds 2 --prompts 2 --samples 3 --survivors 2 --steps 100 --eval-every 50
        --threads 1 --device cpu --seed 3)

# The rows that decide a run, timings and worker placement aside.
rows() {
  /usr/bin/python3 - "$1/journal.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for table, order in [("children", "id"), ("prompts", "id"), ("lm_calls", "id"), ("selections", "round, rank"),
                     ("rounds", "round")]:
    columns = [r[1] for r in db.execute(f"pragma table_info({table})")
               if not r[1].endswith("_ms") and r[1] not in ("ms", "started_at", "finished_at")]
    for row in db.execute(f"select {', '.join(columns)} from {table} order by {order}"):
        print(table, repr(row))
PY
}

"$bin" evolve --run "$work/one" "${common[@]}" --workers 2 > /dev/null 2> "$work/one.err" \
  || { cat "$work/one.err"; exit 1; }
rows "$work/one" > "$work/one.rows"
[ "$(grep -c '^children' "$work/one.rows")" -eq 16 ] || { echo "expected 4 seeds + 12 children"; exit 1; }

# 1. Three ranks, the same rows.
"${mpirun[@]}" "$bin" evolve --run "$work/three" "${common[@]}" --workers 1 > /dev/null 2> "$work/three.err" \
  || { cat "$work/three.err"; exit 1; }
rows "$work/three" > "$work/three.rows"
diff "$work/one.rows" "$work/three.rows" || { echo "the 3-rank run's rows differ from the single-process run's"; exit 1; }
"$bin" show "$work/three" > "$work/show.txt"
host=$(hostname)
grep -q "^  rank 1 on $host:" "$work/show.txt" && grep -q "^  rank 2 on $host:" "$work/show.txt" \
  || { echo "show lists no workers by rank"; cat "$work/show.txt"; exit 1; }
/usr/bin/python3 - "$work/three/journal.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ranks = db.execute("select rank, count(*), sum(children) from workers group by rank order by rank").fetchall()
assert [r[:2] for r in ranks] == [(1, 1), (2, 1)], ranks
assert sum(r[2] for r in ranks) == 16, ranks  # every child ran on a remote rank
PY
echo "3 ranks: the single-process rows"

# 2. kill -9 of rank 1 once some children are in, then --resume.
set +e
"${mpirun[@]}" "$bin" evolve --run "$work/killed" "${common[@]}" --workers 1 > /dev/null 2> "$work/killed.err" &
job=$!
set -e
rank1=""
for _ in $(seq 1 600); do
  done_children=$(/usr/bin/python3 -c "
import sqlite3, sys
try:
    db = sqlite3.connect('file:$work/killed/journal.sqlite?mode=ro', uri=True)
    print(db.execute(\"select count(*) from children where kind='sample' and verdict!='pending'\").fetchone()[0])
except Exception:
    print(0)")
  if [ "$done_children" -ge 4 ]; then
    for p in $(pgrep -f "evoprompt evolve --run $work/killed"); do
      if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then rank1=$p; fi
    done
    break
  fi
  sleep 0.1
done
[ -n "$rank1" ] || { echo "rank 1 not found"; kill "$job"; exit 1; }
kill -9 "$rank1"
set +e
wait "$job"
rc=$?
set -e
[ "$rc" -ne 0 ] || { echo "the job went on without rank 1"; exit 1; }
grep -q "^evoprompt: error: MPI rank 1 on host $host (pid $rank1) was lost" "$work/killed.err" \
  || { echo "no line names the lost rank"; cat "$work/killed.err"; exit 1; }
"${mpirun[@]}" "$bin" evolve --run "$work/killed" --resume > /dev/null 2> "$work/resumed.err" \
  || { cat "$work/resumed.err"; exit 1; }
rows "$work/killed" > "$work/killed.rows"
diff "$work/one.rows" "$work/killed.rows" || { echo "kill -9 of a rank and --resume changed the rows"; exit 1; }
echo "kill -9 of rank 1, then --resume: the same rows"

# 3. Hostile children on remote ranks: a crash and a throw, between ordinary children.
/usr/bin/python3 - "$hostile" "$data/replay_tiny.jsonl" "$work/hostile.jsonl" <<'PY'
import json, os, sys
hostile, tiny, out = sys.argv[1:]
opening = "struct Model : torch::nn::Module {"
ordinary = open(tiny).readline()
with open(out, "w") as f:
    for name in ["crash__unbounded_recursion.cpp", "runtime_error__throw_int.cpp"]:
        f.write(ordinary)
        f.write(json.dumps({"text": open(os.path.join(hostile, name)).read().split(opening, 1)[1]}) + "\n")
PY
"${mpirun[@]}" "$bin" evolve --run "$work/hostile" --lm "replay:$work/hostile.jsonl" --rounds 1 --prompts 1 \
  --samples 4 --steps 20 --eval-every 10 --alpha 1.0 --threads 1 --device cpu --workers 1 \
  > /dev/null 2> "$work/hostile.err" || { cat "$work/hostile.err"; exit 1; }
/usr/bin/python3 - "$work/hostile/journal.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select verdict, rule, message from children where kind='sample' order by sample").fetchall()
assert [r[0] for r in rows] == ["evaluated", "crash", "duplicate", "runtime_error"], rows
assert rows[1][1] == "SIGSEGV" and rows[1][2].endswith("(twice, on fresh workers)"), rows[1]
assert db.execute("select value from meta where key='status'").fetchone()[0] == "finished"
print("hostile children on remote ranks: their verdicts, and the run finished")
PY
