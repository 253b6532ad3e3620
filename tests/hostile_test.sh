#!/usr/bin/env bash
# Hostile children in one evolution run: each must get its verdict from the
# worker supervisor (timeout, crash, oom, runtime_error) while the run goes on
# (the slow legal child takes ~2 s unloaded: the 10 s limit leaves room for a busy machine)
# and ends normally; killed workers are replaced.
# Usage: hostile_test.sh EVOPROMPT_BINARY HOSTILE_DIR DATA_DIR
set -euo pipefail
bin=$1
hostile=$2
data=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Completions continue the prompt's opening line: strip each file up to it.
# The last completion is an ordinary child, after all the hostile ones.
/usr/bin/python3 - "$hostile" "$data/replay_tiny.jsonl" "$work/hostile.jsonl" <<'PY'
import json, os, sys
hostile, tiny, out = sys.argv[1:]
opening = "struct Model : torch::nn::Module {"
names = sorted(f for f in os.listdir(hostile) if f.endswith(".cpp"))
with open(out, "w") as f:
    for name in names:
        text = open(os.path.join(hostile, name)).read()
        f.write(json.dumps({"text": text.split(opening, 1)[1]}) + "\n")
    f.write(open(tiny).readline())  # the small CNN
with open(out + ".names", "w") as f:
    f.write("\n".join(names))
PY
count=$(( $(wc -l < "$work/hostile.jsonl") ))

"$bin" evolve --run "$work/run" --lm "replay:$work/hostile.jsonl" --rounds 1 --prompts 1 --samples "$count" \
  --steps 20 --eval-every 10 --alpha 1.0 --threads 1 --device cpu --workers 2 --train-timeout-s 10 --mem-limit-mb 1024 \
  > "$work/out" 2> "$work/err" || { cat "$work/err"; exit 1; }

/usr/bin/python3 - "$work/run/journal.sqlite" "$work/hostile.jsonl.names" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
names = open(sys.argv[2]).read().split("\n")
rows = db.execute("select name, verdict, rule, message, train_ms from children where kind='sample' order by sample").fetchall()
assert len(rows) == len(names) + 1, rows
rules = {"timeout": "train", "crash": "SIGSEGV", "runtime_error": "runtime_error", "evaluated": ""}
for file, (name, verdict, rule, message, train_ms) in zip(names, rows):
    want = file.split("__")[0]
    assert verdict == want, f"{file}: {verdict} ({rule}: {message}), expected {want}"
    if want in rules:
        assert rule == rules[want], f"{file}: rule {rule}"
    if "one_terabyte" in file:
        assert rule == "allocation" and "can't allocate memory" in message, (rule, message)
    if "until_memory_runs_out" in file:
        assert rule == "rss" and "over the limit of 1024 MiB" in message, (rule, message)
    if "recursion" in file:
        assert message.endswith("(twice, on fresh workers)"), message  # a crash is retried once
    if "slow_but_legal" in file:
        assert train_ms > 1000, f"the slow child took only {train_ms} ms"
    print(f"{file}: {verdict} {rule}")
last = rows[-1]
assert last[1] == "evaluated", last  # the run went on
restarts = db.execute("select sum(restarts) from workers").fetchone()[0]
assert restarts >= 5, f"{restarts} worker restarts; expected one per timeout and RSS kill, two for the crash"
assert db.execute("select value from meta where key='status'").fetchone()[0] == "finished"
print(f"hostile children: ok ({restarts} worker replacements)")
PY
"$bin" show "$work/run" | grep -q "^workers:" || { echo "show lists no workers"; exit 1; }
"$bin" show "$work/run" | grep -q "timeout 2" || { echo "show lacks the verdict counts"; exit 1; }
