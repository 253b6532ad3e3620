#!/usr/bin/env bash
# The search's own machinery past this machine, by simulation (README: "Scale-out").
#   bench/pipeline.sh [BUILD_DIR] [ROUNDS] [LM_LATENCY_S]
# Each run is `mpirun -n R evoprompt evolve --task sim` at the paper's shape (m = 10, n = 16):
# rank 0 drives, the other ranks host W workers each (oversubscribed on this machine), a
# simulated child sleeps for a seeded duration and trains nothing, and the LM is an
# OpenAI-compatible server (bench/fake_lm_server.cpp) that answers after LM_LATENCY_S.
# Slots 2, 8, 32 and 64; the mean child time grows with the slots so that every run has
# ~8 s of work per slot and round. Each slot count runs with the LM answering at once and
# after the latency, and reports:
#   utilisation   the children's sleep over slots x the rounds' wall time (LM answering at once)
#   bound         the same for a zero-cost driver: the same children, in journal order, each to the
#                 first free slot from the round's start (the round barrier's own limit)
#   overhead      rank 0's CPU time per child during the rounds (the driver's whole cost: LM client,
#                 screening, journal, dispatch, MPI polling)
#   LM hidden     1 - (round wall with latency - without) / the LM calls' summed time
# Then 64 slots over max(ROUNDS, 6) rounds with --rounds-in-flight 1, 2 and 3: utilisation and
# overhead over the span from the first round's start to the last round's end.
# Then the single-machine run of issue 17: MNIST-1D, 1 round of 4 prompts x 4 samples,
# 800 steps, 2 workers, an LM server answering every request after 6 s; workers busy =
# the children's compile + train time over 2 x the run's wall time; and the same over 2 and
# 4 rounds, with 1 or 2 rounds in flight.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
rounds=${2:-2}
latency=${3:-2}
python=/usr/bin/python3
for b in "$build/tools/evoprompt" "$build/bench/evoprompt_fake_lm"; do
  [ -x "$b" ] || { echo "bench: build first (cmake --build $build)" >&2; exit 1; }
done
command -v mpirun > /dev/null || { echo "bench: mpirun not found (scripts/install-deps.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" - "$build" "$work" "$rounds" "$latency" <<'PY'
import json, os, signal, sqlite3, subprocess, sys, time
build, work, rounds, latency = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
evoprompt = os.path.join(build, "tools/evoprompt")
root = ["--allow-run-as-root"] if os.getuid() == 0 else []

def server(latency_s):
    port_file = os.path.join(work, f"port{time.time_ns()}")
    p = subprocess.Popen([os.path.join(build, "bench/evoprompt_fake_lm"), port_file, str(latency_s)])
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        time.sleep(0.01)
    return p, int(open(port_file).read())

def driver_pid(run):
    """The evoprompt process driving `run`: MPI rank 0, or the only one."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open(f"/proc/{pid}/cmdline").read().split("\0")
            env = open(f"/proc/{pid}/environ").read().split("\0")
        except OSError:
            continue
        if not (os.path.basename(argv[0]) == "evoprompt" and argv[1:2] == ["evolve"] and run in argv):
            continue
        rank = [v for v in env if v.startswith("OMPI_COMM_WORLD_RANK=")]
        if rank in ([], ["OMPI_COMM_WORLD_RANK=0"]):
            return pid

def cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def evolve(name, command, latency_s):
    """Runs `command` (an evolve with --json) against a fresh LM server: the rounds' wall
    times, the driver's CPU seconds over the rounds, and the journal."""
    lm, port = server(latency_s)
    run = os.path.join(work, name)
    argv = [a.replace("{run}", run).replace("{port}", str(port)) for a in command]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    starts, ends, pid, cpu, cpu_first, cpu_last = {}, {}, None, 0.0, None, None
    for line in p.stdout:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event") == "round_start":
            starts[e["round"]] = time.monotonic()
            pid = pid or driver_pid(run)
            now = cpu_s(pid)
            cpu -= now
            cpu_first = now if cpu_first is None else cpu_first
        if e.get("event") == "round_end":
            ends[e["round"]] = time.monotonic()
            cpu_last = cpu_s(pid)
            cpu += cpu_last
    rc = p.wait()
    wall = time.monotonic() - t0
    lm.send_signal(signal.SIGTERM); lm.wait()
    if rc != 0: sys.exit(f"bench: {name} failed (exit {rc})")
    db = sqlite3.connect(os.path.join(run, "journal.sqlite"))
    # cpu: summed over each round's own span (rounds one at a time); cpu_span: from the first
    # round's start to the last round's end (rounds in flight overlap).
    return {"starts": starts, "ends": ends, "wall": wall, "db": db, "cpu": cpu,
            "cpu_span": (cpu_last or 0.0) - (cpu_first or 0.0)}

def sim(child_s, ranks, workers, n_rounds, in_flight=1):
    """mpirun of an evolve of sim children at the paper's shape on ranks x workers slots;
    evolve() starts the LM server with its latency."""
    flags = ["evolve", "--run", "{run}", "--task", "sim", "--child-seconds", str(child_s), "--json",
             "--lm", "openai:http://127.0.0.1:{port}/v1", "--lm-concurrency", "64",
             "--rounds", str(n_rounds), "--rounds-in-flight", str(in_flight), "--prompts", "10", "--samples", "16",
             "--survivors", "10", "--workers", str(workers), "--alpha", "1.0"]
    return ["mpirun", "--oversubscribe"] + root + ["-n", str(ranks + 1), evoprompt] + flags

def makespan(durations, slots):
    free = [0.0] * slots
    for d in durations:
        i = min(range(slots), key=free.__getitem__)
        free[i] += d
    return max(free)

print(f"{'slots':>5} {'ranks x workers':>15} {'child s':>8} {'children':>8} {'utilisation':>11} {'bound':>6} "
      f"{'overhead ms/child':>17} {'round s, LM at once':>19} {f'round s, LM {latency:g} s':>17} {'LM hidden':>9}")
for slots, ranks, workers in [(2, 2, 1), (8, 4, 2), (32, 8, 4), (64, 8, 8)]:
    child_s = 8.0 * slots / 160
    fast = evolve(f"s{slots}-fast", sim(child_s, ranks, workers, rounds), 0)
    slow = evolve(f"s{slots}-slow", sim(child_s, ranks, workers, rounds), latency)
    busy = wall = ideal = 0.0
    for t, t0 in fast["starts"].items():
        durations = [r[0] / 1000 for r in fast["db"].execute("select train_ms from children where round=? order by id", (t,))]
        ideal += makespan(durations, slots)
        busy += fast["db"].execute("select sum(train_ms) from children where round=?", (t,)).fetchone()[0] / 1000
        wall += fast["ends"][t] - t0
    children = fast["db"].execute("select count(*) from children where round >= 0").fetchone()[0]
    round_fast = sum(fast["ends"][t] - s for t, s in fast["starts"].items()) / len(fast["starts"])
    round_slow = sum(slow["ends"][t] - s for t, s in slow["starts"].items()) / len(slow["starts"])
    lm_s = slow["db"].execute("select sum(ms) from lm_calls").fetchone()[0] / 1000 / len(slow["starts"])
    hidden = 1 - (round_slow - round_fast) / lm_s
    print(f"{slots:>5} {f'{ranks} x {workers}':>15} {child_s:>8.2f} {children:>8} {busy / (slots * wall):>10.1%} {busy / (slots * ideal):>5.0%} "
          f"{1000 * fast['cpu'] / children:>17.2f} {round_fast:>19.2f} {round_slow:>17.2f} {hidden:>8.1%}")

# Across the round barrier: --rounds-in-flight N lets round t's parents be the top after round
# t-N, so the next round's children fill the slots that a round's tail leaves idle. Whole-run
# figures, from the first round's start to the last round's end, over `many` rounds.
many = max(rounds, 6)
print()
print(f"{'slots':>5} {'rounds in flight':>16} {'rounds':>6} {'children':>8} {'utilisation':>11} {'overhead ms/child':>17} "
      f"{'span s, LM at once':>18} {f'span s, LM {latency:g} s':>16}")
slots, ranks, workers = 64, 8, 8
for in_flight in (1, 2, 3):
    spans = []
    for lm_latency in (0, latency):
        r = evolve(f"s{slots}-f{in_flight}-l{lm_latency}", sim(8.0 * slots / 160, ranks, workers, many, in_flight), lm_latency)
        spans.append(max(r["ends"].values()) - min(r["starts"].values()))
        if lm_latency == 0:
            fast = r
    busy = fast["db"].execute("select sum(train_ms) from children where round >= 0").fetchone()[0] / 1000
    children = fast["db"].execute("select count(*) from children where round >= 0").fetchone()[0]
    print(f"{slots:>5} {in_flight:>16} {many:>6} {children:>8} {busy / (slots * spans[0]):>10.1%} "
          f"{1000 * fast['cpu_span'] / children:>17.2f} {spans[0]:>18.2f} {spans[1]:>16.2f}")

# Issue 17's measurement: real MNIST-1D children, one machine, an LM answering after 6 s.
data = os.path.join(work, "mnist1d")
subprocess.run([evoprompt, "data", "mnist1d", "--out", data], check=True, stdout=subprocess.DEVNULL)
print()
print(f"{'MNIST-1D, 4 x 4 a round, 800 steps, 2 workers, LM 6 s':<58} {'wall s':>7} {'LM calls s':>10} "
      f"{'workers busy':>12}")
for concurrency, lm_latency, n_rounds, in_flight in ((1, 6, 1, 1), (16, 6, 1, 1), (16, 0, 1, 1), (16, 6, 2, 2),
                                                      (16, 6, 4, 1), (16, 6, 4, 2), (16, 0, 4, 2)):
    r = evolve(f"mnist1d-c{concurrency}-l{lm_latency}-r{n_rounds}-f{in_flight}", [evoprompt, "evolve", "--run", "{run}", "--data", data, "--json",
               "--lm", "openai:http://127.0.0.1:{port}/v1", "--lm-concurrency", str(concurrency),
               "--rounds", str(n_rounds), "--rounds-in-flight", str(in_flight), "--prompts", "4", "--samples", "4",
               "--steps", "800", "--eval-every", "100", "--workers", "2", "--threads", "1", "--device", "cpu"], lm_latency)
    busy = r["db"].execute("select sum(compile_ms + train_ms) from children").fetchone()[0] / 1000
    lm_s = r["db"].execute("select sum(ms) from lm_calls").fetchone()[0] / 1000
    label = f"  --lm-concurrency {concurrency}" + ("" if lm_latency else ", LM answering at once (the ceiling)")
    if n_rounds > 1:
        label = f"  {n_rounds} rounds, --rounds-in-flight {in_flight}" + ("" if lm_latency else ", LM at once")
    print(f"{label:<58} {r['wall']:>7.1f} {lm_s:>10.1f} {busy / (2 * r['wall']):>11.1%}")
PY
