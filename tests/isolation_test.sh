#!/usr/bin/env bash
# Isolation between children and between drivers:
# 1. On one worker, a child that changes process-wide torch state, then an
#    ordinary CNN: the CNN's scores equal those of a fresh worker (replay).
#    A child with a CUDA error, and one that replaces the CPU allocator (which
#    cannot be put back), each get their verdict and retire their worker.
# 2. Workers hold no credentials: the --api-key-env variable and the usual
#    secret names are not in /proc/PID/environ of any worker.
# 3. One driver per run folder: while a run is alive, a second evolve (new or
#    --resume) exits 2 with one line naming the driver's pid and writes
#    nothing; after kill -9 of the driver, --resume finishes the run.
# Usage: isolation_test.sh EVOPROMPT_BINARY ISOLATION_DIR DATA_DIR
set -euo pipefail
bin=$1
children=$2
data=$3
work=$(mktemp -d)
driver=""
trap '[ -z "$driver" ] || kill -9 "$driver" 2>/dev/null || true; rm -rf "$work"' EXIT
py=/usr/bin/python3

# Completions: the state changer, the small CNN, the CUDA error, the allocator
# changer, the MLP 40-32-10 (replay_tiny.jsonl lines 1 and 6).
$py - "$children" "$data/replay_tiny.jsonl" "$work/replay.jsonl" <<'PY'
import json, os, sys
children, tiny, out = sys.argv[1:]
opening = "struct Model : torch::nn::Module {"
body = lambda name: open(os.path.join(children, name)).read().split(opening, 1)[1]
lines = open(tiny).read().splitlines()
with open(out, "w") as f:
    f.write(json.dumps({"text": body("1_state_changer.cpp")}) + "\n")
    f.write(lines[0] + "\n")
    f.write(json.dumps({"text": body("3_cuda_error.cpp")}) + "\n")
    f.write(json.dumps({"text": body("4_allocator_changer.cpp")}) + "\n")
    f.write(lines[5] + "\n")
PY

common=(--rounds 1 --prompts 1 --samples 5 --steps 200 --eval-every 100 --alpha 1.0 --workers 1 --threads 1
        --device cpu)
"$bin" evolve --run "$work/a" --lm "replay:$work/replay.jsonl" "${common[@]}" --json > /dev/null

$py - "$work/a/journal.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = {r[0]: r[1:] for r in db.execute(
    "select name, verdict, rule, message, params_used from children where kind = 'sample'")}
assert rows["r0p0s0"][:2] == ("runtime_error", "runtime_error"), rows["r0p0s0"]  # the state changer fails itself
assert "dtype" in rows["r0p0s0"][2] or "Double" in rows["r0p0s0"][2], rows["r0p0s0"]
assert rows["r0p0s1"][0] == "evaluated" and rows["r0p0s1"][3] == 1058, rows["r0p0s1"]  # the small CNN
assert rows["r0p0s2"][0] == "runtime_error" and "CUDA error" in rows["r0p0s2"][2], rows["r0p0s2"]
assert rows["r0p0s3"][0] == "runtime_error" and "Cannot set another allocator" in rows["r0p0s3"][2], rows["r0p0s3"]
assert rows["r0p0s4"][0] == "evaluated" and rows["r0p0s4"][3] == 1642, rows["r0p0s4"]  # the MLP
slot, restarts, last_exit = db.execute("select slot, restarts, last_exit from workers").fetchone()
# Retired twice: after the CUDA error, and after the CPU allocator that cannot be put back.
assert restarts == 2, (restarts, last_exit)
assert last_exit == "retired: torch state not restorable: CPU allocator", last_exit
print("isolation journal: ok")
PY

# The children after the state changer score as on a fresh worker.
for child in r0p0s1 r0p0s4; do
  "$bin" replay "$work/a:$child" --json > "$work/replay_$child.json"
  $py - "$work/replay_$child.json" "$child" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("verdict", "params_used", "val_acc", "test_acc"):
    assert r["new"][k] == r["stored"][k], (sys.argv[2], k, r)
print(sys.argv[2], "on a fresh worker: same scores", r["new"]["val_acc"], r["new"]["test_acc"])
PY
done

# A live run: slow children keep it going while the workers and the lock are checked.
export OPENAI_API_KEY=sk-test-openai MY_SERVICE_TOKEN=tok-test CUSTOM_LM_CREDENTIAL_VAR=cred-test
export EVOPROMPT_ISOLATION_PLAIN=kept
live=(--lm "replay:$data/replay_tiny.jsonl" --rounds 2 --prompts 2 --samples 3 --steps 3000 --eval-every 1000
      --alpha 1.0 --workers 2 --threads 1 --device cpu --api-key-env CUSTOM_LM_CREDENTIAL_VAR)
"$bin" evolve --run "$work/b" "${live[@]}" --json > /dev/null 2>&1 &
driver=$!
pids=""
for _ in $(seq 1 600); do
  pids=$($py -c "import sqlite3,sys
try: print(' '.join(str(p) for (p,) in sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute(\"select pid from workers where state in ('idle','busy')\")))
except Exception: pass" "$work/b/journal.sqlite" 2>/dev/null || true)
  [ "$(echo $pids | wc -w)" -eq 2 ] && break
  sleep 0.1
done
[ "$(echo $pids | wc -w)" -eq 2 ] || { echo "the live run's workers did not show up"; exit 1; }
for pid in $pids; do
  env_of=$(tr '\0' '\n' < /proc/$pid/environ)
  for secret in OPENAI_API_KEY MY_SERVICE_TOKEN CUSTOM_LM_CREDENTIAL_VAR; do
    if echo "$env_of" | grep -q "^$secret="; then echo "worker $pid holds $secret"; exit 1; fi
  done
  echo "$env_of" | grep -q '^EVOPROMPT_ISOLATION_PLAIN=kept$' || { echo "worker $pid lost a plain variable"; exit 1; }
  echo "$env_of" | grep -q '^PATH=' || { echo "worker $pid has no PATH"; exit 1; }
done
echo "workers hold no credentials: ok"

expect_refused() {  # expect_refused ARGS...: exit 2, one line naming the driver's pid, the journal untouched
  local before after rc=0
  before=$(sha256sum "$work/b/driver.lock" | cut -c1-64)
  "$bin" evolve "$@" > "$work/out2" 2> "$work/err2" || rc=$?
  [ "$rc" -eq 2 ] || { echo "second driver ($*): exit $rc, expected 2"; cat "$work/err2"; exit 1; }
  [ "$(wc -l < "$work/err2")" -eq 1 ] || { echo "second driver ($*): not one line"; cat "$work/err2"; exit 1; }
  grep -q "pid $driver)" "$work/err2" || { echo "second driver ($*): no pid $driver in: $(cat "$work/err2")"; exit 1; }
  after=$(sha256sum "$work/b/driver.lock" | cut -c1-64)
  [ "$before" = "$after" ] || { echo "second driver ($*) wrote the lock file"; exit 1; }
}
expect_refused --run "$work/b" --resume
expect_refused --run "$work/b" "${live[@]}"
kill -0 "$driver" || { echo "the first driver ended before the checks"; exit 1; }
"$bin" show "$work/b" > /dev/null  # readers work on a live run
echo "a second driver is refused: ok"

kill -9 "$driver"
wait "$driver" 2>/dev/null || true
driver=""
"$bin" evolve --run "$work/b" --resume --json > /dev/null
[ "$($py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select value from meta where key='status'\").fetchone()[0])" "$work/b/journal.sqlite")" = finished ] \
  || { echo "--resume after kill -9 did not finish the run"; exit 1; }
echo "kill -9, then --resume: ok"
echo "isolation: all ok"
