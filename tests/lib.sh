# What the shell tests share. Source it after setting $bin (the evoprompt
# binary) and $work (a scratch folder).

# expect_usage MESSAGE ARGS...: `evoprompt ARGS` exits 2 with one line on
# stderr that holds MESSAGE (a fixed string).
expect_usage() {
  local message=$1; shift
  set +e
  "$bin" "$@" > "$work/out.txt" 2> "$work/err.txt"; local rc=$?
  set -e
  [ "$rc" -eq 2 ] || { echo "expected exit 2 from: $*; got $rc"; cat "$work/err.txt"; exit 1; }
  grep -qF -- "$message" "$work/err.txt" || { echo "expected '$message' from: $*"; cat "$work/err.txt"; exit 1; }
  [ "$(wc -l < "$work/err.txt")" -eq 1 ] || { echo "expected one line from: $*"; cat "$work/err.txt"; exit 1; }
}
