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

# check_report HTML RUN...: HTML (a `report` of the RUNs) renders in headless
# Chromium with the network off and nothing on the console, with a Pareto
# point per scored child and a lineage node per child of the journals.
chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/chrome"
        --proxy-server=http://127.0.0.1:9 --proxy-bypass-list='<-loopback>' --host-resolver-rules='MAP * ~NOTFOUND'
        --enable-logging=stderr --v=0 --virtual-time-budget=10000)
check_report() {
  local html=$1; shift
  "${chrome[@]}" --dump-dom "file://$html" > "$work/dom.html" 2> "$work/chrome.log"
  if grep -a "CONSOLE" "$work/chrome.log"; then echo "$html wrote to the console"; exit 1; fi
  /usr/bin/python3 - "$work/dom.html" "$@" <<'PY'
import re, sqlite3, sys
dom = open(sys.argv[1]).read()
assert 'data-rendered="true"' in dom, "the page script did not finish"
scored = children = 0
for run in sys.argv[2:]:
    db = sqlite3.connect("file:" + run + "/journal.sqlite?mode=ro", uri=True)
    scored += db.execute("select count(*) from children where verdict in ('evaluated','filtered_alpha')").fetchone()[0]
    children += db.execute("select count(*) from children").fetchone()[0]
points = len(re.findall(r'<circle class="pareto-point"', dom))
nodes = len(re.findall(r'<circle class="lineage-node', dom))
assert points == scored, (points, scored)
assert nodes == children, (nodes, children)
print(f"report renders: {points} points, {nodes} lineage nodes")
PY
}
