#!/usr/bin/env bash
# A seconds-long smoke of the live benchmarks against the throwaway server of scripts/test
# (docs/bench.md): bench/herd's recipe at N = 2 and 4 with hold 0, and bench/live_limit's
# one lane. Both must report their rates and the CPU each release (pair) costs this
# process and the server; a LOCKSTEP_ZK_PID naming no process is refused with one clear
# error; scripts/plot_bench.py tabulates the CPU.
# usage: live_bench_test.sh HERD_BINARY LIVE_LIMIT_BINARY SOURCE_DIR
set -uo pipefail
herd="$1"
limit="$2"
root="$3"
[[ -n ${LOCKSTEP_ZK:-} && -n ${LOCKSTEP_ZK_STATE:-} ]] ||
  { echo "FAIL: LOCKSTEP_ZK and LOCKSTEP_ZK_STATE must name a running server (scripts/test sets them)"; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

LOCKSTEP_ZK_PID=$("$root/scripts/zk" status | awk '$1 == "node" && $2 == 1 { print $4 }')
[[ $LOCKSTEP_ZK_PID =~ ^[0-9]+$ ]] || { echo "FAIL: no server PID in scripts/zk status"; exit 1; }
export LOCKSTEP_ZK_PID LOCKSTEP_BENCH_HOLD_MS=0 LOCKSTEP_BENCH_CYCLES=5 LOCKSTEP_BENCH_LIMIT_S=0.3

"$herd" --benchmark_filter='^live/recipe/N:(2|4)/' --benchmark_out="$tmp/herd.json" \
  --benchmark_out_format=json >"$tmp/herd.log" 2>&1 || { cat "$tmp/herd.log"; echo "FAIL: herd exited $?"; exit 1; }
"$limit" --benchmark_filter='^limit/sessions:1/window:1/' --benchmark_out="$tmp/limit.json" \
  --benchmark_out_format=json >"$tmp/limit.log" 2>&1 || { cat "$tmp/limit.log"; echo "FAIL: live_limit exited $?"; exit 1; }

/usr/bin/python3 - "$tmp/herd.json" "$tmp/limit.json" "$root/properties" <<'PY' || exit 1
import os, sys
sys.path.insert(0, sys.argv[3])
from bench_json import benchmarks, entry
bad = []
def check(path, names, unit, rate):
    got = benchmarks(path)
    for name in names:
        b = entry(got, name, bad)
        if b is None:
            continue
        for c in (rate, f"client_cpu_ms_per_{unit}", f"client_sys_ms_per_{unit}", f"client_switches_per_{unit}",
                  f"server_cpu_ms_per_{unit}", "client_cores", "server_cores"):
            if not isinstance(b.get(c), (int, float)) or b[c] <= 0:
                bad.append(f"{name}: counter {c} is {b.get(c)!r}, want > 0")
        if b.get(f"client_sys_ms_per_{unit}", 0) > b.get(f"client_cpu_ms_per_{unit}", 0):
            bad.append(f"{name}: kernel time above the whole CPU time")
        # Every unit of work is at least one round trip to the server and back, and the
        # machine's cores bound how busy the two sides can keep them.
        for c in ("client_cores", "server_cores"):
            if b.get(c, 0) > os.cpu_count() + 0.5:
                bad.append(f"{name}: {c} {b[c]} above the machine's {os.cpu_count()} cores")
check(sys.argv[1], ["live/recipe/N:2/iterations:1/real_time", "live/recipe/N:4/iterations:1/real_time"],
      "release", "handoffs_per_s")
check(sys.argv[2], ["limit/sessions:1/window:1/iterations:1/real_time"], "pair", "pairs_per_s")
for line in bad:
    print("FAIL:", line)
sys.exit(1 if bad else 0)
PY

# A PID that names nothing: one clear error, not a silent absence of the server's figures.
LOCKSTEP_ZK_PID=999999999 "$limit" --benchmark_filter='^limit/sessions:1/window:1/' >"$tmp/bad.log" 2>&1
grep -q "LOCKSTEP_ZK_PID=999999999: not a running process" "$tmp/bad.log" ||
  { cat "$tmp/bad.log"; echo "FAIL: a LOCKSTEP_ZK_PID of no process was not refused"; exit 1; }

/usr/bin/python3 "$root/scripts/plot_bench.py" "$tmp" "$tmp/png" --table "$tmp/summary.md" >/dev/null 2>"$tmp/plot.log" ||
  { cat "$tmp/plot.log"; echo "FAIL: plot_bench.py"; exit 1; }
grep -q "^CPU a release costs" "$tmp/summary.md" && grep -Eq "^\| 4 \| [0-9.]+ \([0-9.]+, [0-9,]+\) / [0-9.]+ / [0-9.]+ \|" "$tmp/summary.md" ||
  { cat "$tmp/summary.md"; echo "FAIL: summary.md has no CPU table with a row for N = 4"; exit 1; }
grep -Eq "^\| 1 \| 1 \| [0-9,]+ \| [0-9,]+ \| [0-9.]+ \([0-9.]+\) \|$" "$tmp/summary.md" ||
  { cat "$tmp/summary.md"; echo "FAIL: summary.md's limit table has no client CPU for one lane"; exit 1; }
echo "live benchmark smoke: ok"
