#!/usr/bin/env bash
# End-to-end checks of the evoprompt CLI: clear one-line errors with non-zero
# exits for bad input, and the data -> seeds round trip.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect_error() {  # expect_error EXPECTED_SUBSTRING ARGS...
  local want="$1"; shift
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL: '$*' exited 0"; failures=$((failures + 1)); return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then echo "FAIL: '$*' printed $(wc -l <"$tmp/err") error lines"; failures=$((failures + 1)); fi
  if ! grep -q -- "$want" "$tmp/err"; then echo "FAIL: '$*' error lacks '$want': $(cat "$tmp/err")"; failures=$((failures + 1)); fi
}

expect_error "bogus" seeds --task mnist1d --bogus
expect_error "unknown task 'cifar'" seeds --task cifar
expect_error "data folder not found" seeds --task mnist1d --data "$tmp/missing"
expect_error "unknown seed 'vgg'" seeds --task mnist1d --only vgg
expect_error "steps must be >= 1" seeds --task mnist1d --steps 0
expect_error "unknown device 'tpu'" seeds --task mnist1d --device tpu
expect_error "--task is required" seeds
expect_error "padding" data mnist1d --out "$tmp/bad" --padding 10 5
[ ! -e "$tmp/bad/x.npy" ] || { echo "FAIL: bad generator args left files behind"; failures=$((failures + 1)); }

# Generate a small variant, then train one seed on it for a few steps.
"$bin" data mnist1d --out "$tmp/small" --num-samples 600 --seed 7 >"$tmp/out" 2>&1 \
  || { echo "FAIL: data mnist1d: $(cat "$tmp/out")"; failures=$((failures + 1)); }
for f in x y x_test y_test t templates_x templates_t templates_y; do
  [ -s "$tmp/small/$f.npy" ] || { echo "FAIL: $f.npy not written"; failures=$((failures + 1)); }
done
grep -q "wrote 480 train and 120 test samples" "$tmp/out" || { echo "FAIL: data summary: $(cat "$tmp/out")"; failures=$((failures + 1)); }

"$bin" seeds --task mnist1d --data "$tmp/small" --val-size 80 --steps 20 --eval-every 10 --only cnn --only residual_mlp \
  --threads 1 --json >"$tmp/json" 2>"$tmp/err" || { echo "FAIL: seeds --json: $(cat "$tmp/err")"; failures=$((failures + 1)); }
[ "$(wc -l <"$tmp/json")" -eq 2 ] || { echo "FAIL: expected 2 JSON lines, got: $(cat "$tmp/json")"; failures=$((failures + 1)); }
for key in '"name":"cnn"' '"params_used":5210' '"params_total":5210' '"best_val_acc":' '"test_acc":' \
           '"steps_per_s":' '"wall_s":' '"name":"residual_mlp"' '"params_used":15210' '"steps":20'; do
  grep -q "$key" "$tmp/json" || { echo "FAIL: JSON lacks $key"; failures=$((failures + 1)); }
done

# check and replay: exit 0 accepted/evaluated, 1 rejected or failed, 2 usage error.
corpus="$(dirname "$0")/jit_corpus"
expect_exit() {  # expect_exit CODE ARGS...
  local want="$1"; shift
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ $rc -eq "$want" ] || { echo "FAIL: '$*' exited $rc, expected $want: $(head -c 300 "$tmp/err")"; failures=$((failures + 1)); }
}
expect_exit 0 check "$corpus/accepted__tiny_linear.cpp"
grep -q "^verdict: accepted" "$tmp/out" || { echo "FAIL: check text output: $(cat "$tmp/out")"; failures=$((failures + 1)); }
expect_exit 1 check --json "$corpus/policy-forbidden_call__getenv.cpp"
grep -q '"verdict":"policy"' "$tmp/out" && grep -q '"rule":"forbidden_call"' "$tmp/out" && grep -q '"diagnostics":\[' "$tmp/out" \
  || { echo "FAIL: check --json policy output: $(cat "$tmp/out")"; failures=$((failures + 1)); }
expect_exit 1 check --json "$corpus/compile_error__undeclared_identifier.cpp"
grep -q '"verdict":"compile_error"' "$tmp/out" || { echo "FAIL: compile_error verdict: $(cat "$tmp/out")"; failures=$((failures + 1)); }
expect_exit 2 check "$tmp/no_such_child.cpp"
expect_exit 2 check "$tmp"
expect_exit 2 check --task cifar "$corpus/accepted__tiny_linear.cpp"
expect_exit 0 replay --json --data "$tmp/small" --val-size 80 --steps 20 --eval-every 10 --threads 1 "$corpus/accepted__tiny_linear.cpp"
for key in '"verdict":"evaluated"' '"params_used":410' '"params_total":410' '"best_val_acc":' '"test_acc":' '"compile_ms":' '"train_ms":' '"step_path":"eager"'; do
  grep -q "$key" "$tmp/out" || { echo "FAIL: replay JSON lacks $key: $(cat "$tmp/out")"; failures=$((failures + 1)); }
done
expect_exit 1 replay --json --data "$tmp/small" --val-size 80 --steps 5 --threads 1 "$corpus/runtime_error__throw_int_in_forward.cpp"
grep -q '"verdict":"runtime_error"' "$tmp/out" || { echo "FAIL: replay runtime_error: $(cat "$tmp/out")"; failures=$((failures + 1)); }

# evolve, show, dump: usage errors are one line, exit 2, and leave no run behind.
data_dir="$(dirname "$0")/data"
expect_error "--run is required" evolve
expect_error "unknown mode 'greedy'" evolve --run "$tmp/run" --mode greedy
expect_error "unknown --lm 'gpt'" evolve --run "$tmp/run" --lm gpt
expect_error "--lm local:$tmp/no_model" evolve --run "$tmp/run" --lm local:"$tmp/no_model"
expect_error "replay: cannot open" evolve --run "$tmp/run" --lm replay:"$tmp/none.jsonl"
expect_error "rounds must be >= 1" evolve --run "$tmp/run" --rounds 0
expect_error "rounds_in_flight must be >= 1" evolve --run "$tmp/run" --rounds-in-flight 0
expect_error "--lm-concurrency (lm.concurrency) must be at least 1" evolve --run "$tmp/run" --lm-concurrency 0
expect_error "--lm-gpu-memory (lm.gpu_memory) must be in (0, 0.85]" evolve --run "$tmp/run" --lm-gpu-memory 0.9
expect_error "unknown --cuda-graph 'maybe' (on or off)" evolve --run "$tmp/run" --cuda-graph maybe
expect_error "--workers-per-gpu must be >= 1" evolve --run "$tmp/run" --workers-per-gpu 0
# A flag of another task is an error, never ignored; one spelling everywhere.
expect_error "--hidden is a setting of the clrs:ALGORITHM tasks, not mnist1d" evolve --run "$tmp/run" --hidden 8
expect_error "--val-size is a setting of tasks mnist1d, arrays:DIR, not clrs:bfs" evolve --run "$tmp/run" --task clrs:bfs --val-size 10
expect_error "--data is a setting of task mnist1d, not clrs:bfs" replay --task clrs:bfs --data "$tmp" "$corpus/accepted__tiny_linear.cpp"
expect_error "--train-seed: '-1' is not a non-negative integer" seeds --task mnist1d --train-seed -1
printf '[train]\nhidden = 8\n' >"$tmp/other.toml"
expect_error "'train.hidden' is not a setting of task mnist1d" evolve --run "$tmp/run" --config "$tmp/other.toml"
# The LM is checked before any seed trains: an unreachable server fails in seconds.
start=$(date +%s)
expect_error "openai: cannot reach http://127.0.0.1:9/v1" evolve --run "$tmp/run" --lm openai:http://127.0.0.1:9/v1
[ $(( $(date +%s) - start )) -le 10 ] || { echo "FAIL: the unreachable LM took $(( $(date +%s) - start )) s to refuse"; failures=$((failures + 1)); }
expect_error "unknown preset 'huge'" evolve --run "$tmp/run" --preset huge
printf '[evolution]\nrounds = 2\nroundz = 3\n' >"$tmp/typo.toml"
expect_error "unknown setting 'evolution.roundz'" evolve --run "$tmp/run" --config "$tmp/typo.toml"
printf '[evolution]\nrounds = "two"\n' >"$tmp/type.toml"
expect_error "'evolution.rounds' has the wrong type" evolve --run "$tmp/run" --config "$tmp/type.toml"
expect_error "no run journal here" evolve --run "$tmp/run" --resume
[ ! -e "$tmp/run/journal.sqlite" ] || { echo "FAIL: a rejected evolve left a journal"; failures=$((failures + 1)); }
expect_error "no run journal here" show "$tmp/run"
expect_error "no run journal here" dump "$tmp/run" --out "$tmp/dump"

# A one-round run on the small data set: flags override the TOML, which overrides the preset.
printf '[evolution]\nrounds = 5\nprompts = 1\nsamples = 2\n[train]\nsteps = 999\n' >"$tmp/run.toml"
"$bin" evolve --run "$tmp/run" --config "$tmp/run.toml" --rounds 1 --steps 10 --eval-every 5 --data "$tmp/small" \
  --val-size 80 --lm replay:"$data_dir/replay_tiny.jsonl" --threads 1 >"$tmp/out" 2>"$tmp/err" \
  || { echo "FAIL: evolve: $(tail -3 "$tmp/err")"; failures=$((failures + 1)); }
grep -q "budget: 2 of 2 samples used" "$tmp/out" || { echo "FAIL: evolve summary: $(cat "$tmp/out")"; failures=$((failures + 1)); }
expect_error "already holds a run" evolve --run "$tmp/run" --lm mutate
expect_error "give only --run" evolve --run "$tmp/run" --resume --rounds 3
expect_exit 0 evolve --run "$tmp/run" --resume
grep -q "already finished" "$tmp/err" || { echo "FAIL: resume of a finished run: $(cat "$tmp/err")"; failures=$((failures + 1)); }
expect_error "has no child 'r9p9s9'" replay "$tmp/run:r9p9s9"

if [ $failures -eq 0 ]; then echo "cli: all checks passed"; else echo "cli: $failures failures"; fi
[ $failures -eq 0 ]
