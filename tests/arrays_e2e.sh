#!/usr/bin/env bash
# The arrays task end to end on data this test generates (separable images
# [1, 8, 8] with a test set, and vectors [12] without one): check, seeds,
# replay, evolve with --lm mutate, show, dump, replay DIR:CHILD, the user's
# own seeds, and bad data refused in one line before anything trains.
# Usage: arrays_e2e.sh EVOPROMPT_BINARY
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
train=(--steps 200 --eval-every 50 --threads 1 --device cpu)

/usr/bin/python3 - "$work" <<'EOF'
import numpy as np, os, sys
w = sys.argv[1]
rng = np.random.RandomState(0)
def images(n):  # class k: quadrant k is bright
    y = rng.randint(0, 4, n)
    x = rng.normal(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    for i, k in enumerate(y):
        r, c = divmod(k, 2)
        x[i, 0, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 1.0
    return x, y.astype(np.int64)
os.makedirs(f"{w}/img")
x, y = images(600); np.save(f"{w}/img/x.npy", x); np.save(f"{w}/img/y.npy", y)
x, y = images(200); np.save(f"{w}/img/x_test.npy", x); np.save(f"{w}/img/y_test.npy", y)
os.makedirs(f"{w}/vec")
centres = rng.normal(0, 2, (3, 12))
y = rng.randint(0, 3, 500)
np.save(f"{w}/vec/x.npy", (centres[y] + rng.normal(0, 1, (500, 12))).astype(np.float64))
np.save(f"{w}/vec/y.npy", y.astype(np.int64))
open(f"{w}/vec/task.toml", "w").write('description = "three gaussian blobs"\nval_size = 80\n')
for name, x, y in [("nan", np.array([[0.0, np.nan]] * 20, np.float32), np.arange(20) % 2),
                   ("n", np.zeros((20, 3), np.float32), np.arange(19) % 2),
                   ("float_labels", np.zeros((20, 3), np.float32), (np.arange(20) % 2).astype(np.float32)),
                   ("one_class", np.zeros((20, 3), np.float32), np.zeros(20, np.int64)),
                   ("int_inputs", np.zeros((20, 3), np.int32), np.arange(20) % 2),
                   ("few", np.zeros((3, 3), np.float32), np.arange(3) % 2)]:
    os.makedirs(f"{w}/{name}")
    np.save(f"{w}/{name}/x.npy", x); np.save(f"{w}/{name}/y.npy", y.astype(y.dtype if y.dtype == np.float32 else np.int64))
EOF
img="arrays:$work/img"
vec="arrays:$work/vec"

# A user's own seed: a 2-D CNN for [1, 8, 8].
mkdir "$work/myseeds"
cat > "$work/myseeds/tiny_cnn.cpp" <<'EOF'
struct Model : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::Linear linear{nullptr};

  Model() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3).stride(2).padding(1)));
    linear = register_module("linear", torch::nn::Linear(64, 4));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv1(x));  // [B, 4, 4, 4]
    return linear(x.flatten(1));
  }
};
EOF
echo 'struct Net : torch::nn::Module {};' > "$work/bad.cpp"

# check: the contract is the task's.
"$bin" check "$work/myseeds/tiny_cnn.cpp" --task "$img" | grep -q accepted
status=0; "$bin" check "$work/bad.cpp" --task "$img" --json > "$work/check.json" || status=$?
[ "$status" -eq 1 ] && grep -q '"rule":"no_model"' "$work/check.json"
echo "check ok"

# seeds: the built-in seeds sized from the data train, in supervised workers.
"$bin" seeds --task "$img" "${train[@]}" --json > "$work/seeds.jsonl"
/usr/bin/python3 - "$work/seeds.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["name"] for r in rows] == ["cnn", "mlp", "small_mlp"], rows
assert all(r["verdict"] == "evaluated" for r in rows), rows
by = {r["name"]: r for r in rows}
assert by["cnn"]["params_used"] == 16 * 1 * 9 + 16 + 32 * 16 * 9 + 32 + 32 * 2 * 2 * 4 + 4, by["cnn"]
assert by["small_mlp"]["params_used"] == 64 * 16 + 16 + 16 * 4 + 4, by["small_mlp"]
assert by["cnn"]["best_val_acc"] >= 0.9 and by["cnn"]["test_acc"] >= 0.9, by["cnn"]
print("seeds ok:", {r["name"]: (r["params_used"], r["best_val_acc"], r["test_acc"]) for r in rows})
EOF
"$bin" seeds --task "$img" --seeds "$work/myseeds" "${train[@]}" | grep -q "^tiny_cnn  *evaluated"

# replay FILE: the user's seed, trained in a worker.
"$bin" replay "$work/myseeds/tiny_cnn.cpp" --task "$img" "${train[@]}" --json > "$work/replay.json"
/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['verdict']=='evaluated' and r['params_used']==300 and r['test_acc']>0.8, r" "$work/replay.json"
echo "replay ok"

# evolve: mutate's children of the vector seeds, with the data in every prompt's header.
"$bin" evolve --run "$work/run" --task "$vec" --lm mutate --rounds 2 --prompts 2 --samples 4 --survivors 2 \
  "${train[@]}" --json > "$work/run.jsonl"
grep -q '"event":"summary"' "$work/run.jsonl"
/usr/bin/python3 - "$work/run/journal.sqlite" "$work/vec" <<'EOF'
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
task = db.execute("select value from meta where key='task'").fetchone()[0]
assert task == "arrays:" + sys.argv[2], task
train = json.loads(db.execute("select value from meta where key='train'").fetchone()[0])
assert train["val_size"] == 80 and train["test_size"] == 100 and train["steps"] == 200, train
seeds = db.execute("select name, verdict from children where kind='seed' order by id").fetchall()
assert seeds == [("mlp", "evaluated"), ("small_mlp", "evaluated")], seeds
prompts = [r[0] for r in db.execute("select text from prompts")]
assert prompts and all(p.startswith("/* Task: three gaussian blobs\nInput: x [B, 12] float32. "
                                    "Output: [B, 3] logits (3 classes). */\n\n/* Metrics:") for p in prompts), prompts[0][:200]
v = [r[0] for r in db.execute("select verdict from children where kind='sample'")]
assert len(v) == 16, v
ran = sum(x in ("evaluated", "filtered_alpha") for x in v)
distinct = sum(x != "duplicate" for x in v)
assert ran >= 0.8 * distinct, v
best = db.execute("select max(fitness) from children where kind='sample' and verdict='evaluated'").fetchone()[0]
print(f"evolve ok: {ran}/{distinct} distinct children ran, best fitness {best}")
EOF

# show, dump, and replay DIR:CHILD work on the run.
"$bin" show "$work/run" | grep -q "arrays:$work/vec"
"$bin" dump "$work/run" --out "$work/top" --top 2 | grep -q "wrote"
for f in "$work"/top/*.cpp; do "$bin" check "$f" --task "$vec" > /dev/null; done
child=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select name from children where kind='sample' and verdict='evaluated' order by fitness desc limit 1\").fetchone()[0])" "$work/run/journal.sqlite")
"$bin" replay "$work/run:$child" --json > "$work/replay_child.json"
/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['stored']['val_acc']==r['new']['val_acc'] and r['stored']['params_used']==r['new']['params_used'], r" "$work/replay_child.json"
echo "show, dump, replay DIR:CHILD ok"

# The user's seeds as the first parents.
"$bin" evolve --run "$work/own" --task "$img" --seeds "$work/myseeds" --lm mutate --rounds 1 --prompts 1 \
  --samples 2 --survivors 1 "${train[@]}" --json > /dev/null
[ "$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select group_concat(name) from children where kind='seed'\").fetchone()[0])" "$work/own/journal.sqlite")" = "tiny_cnn" ]
echo "own seeds ok"

# Bad data: one line, exit 2, nothing trained or left behind.
expect_usage "$work/nan/x.npy: NaN at row 0" evolve --task "arrays:$work/nan" --run "$work/bad"
expect_usage "$work/n/y.npy: 19 labels for the 20 rows of x.npy" evolve --task "arrays:$work/n" --run "$work/bad"
expect_usage "$work/float_labels/y.npy: labels must be integers" seeds --task "arrays:$work/float_labels"
expect_usage "$work/one_class/y.npy: fewer than 2 classes" replay "$work/myseeds/tiny_cnn.cpp" --task "arrays:$work/one_class"
expect_usage "$work/int_inputs/x.npy: inputs must be float32 or float64" check "$work/bad.cpp" --task "arrays:$work/int_inputs"
expect_usage "3 rows are too few" evolve --task "arrays:$work/few" --run "$work/bad"
expect_usage "$work/none: no such folder" evolve --task "arrays:$work/none" --run "$work/bad"
expect_usage "--data is a setting of task mnist1d, not arrays:$work/vec" evolve --task "$vec" --data "$work" --run "$work/bad"
expect_usage "--seeds is a setting of the arrays:DIR tasks, not mnist1d" evolve --seeds "$work/myseeds" --run "$work/bad"
[ ! -e "$work/bad" ] || { echo "a refused evolve left $work/bad behind"; exit 1; }

# report and export work for this task too.
"$bin" report "$work/run" "$work/own" --out "$work/report.html" > /dev/null
check_report "$work/report.html" "$work/run" "$work/own"
[ "$("$bin" export "$work/run" --jsonl | wc -l)" -eq "$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from children').fetchone()[0])" "$work/run/journal.sqlite")" ]
echo "arrays e2e ok"
