#!/usr/bin/env bash
# A seconds-long smoke of the herd benchmark (docs/bench.md, "Herds to ten thousand"):
# sim_herd's BM_Herd at N = 10 and 30 for every algorithm, with the herd in its counters
# (a queue lock's release wakes at most one waiter, zk-slow's wakes them all), and
# scripts/plot_bench.py draws herd_scale.png and the slope lines from the result.
# usage: herd_bench_test.sh SIM_HERD_BINARY SOURCE_DIR
set -uo pipefail
bench="$1"
root="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$bench" --benchmark_filter='^BM_Herd/[^/]+/(10|30)$' --benchmark_min_time=0.01 --benchmark_out="$tmp/herd.json" \
  --benchmark_out_format=json >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "FAIL: sim_herd exited $?"; exit 1; }

/usr/bin/python3 - "$tmp/herd.json" "$root/properties" <<'PY' || exit 1
import sys
sys.path.insert(0, sys.argv[2])
from bench_json import benchmarks, entry
got = benchmarks(sys.argv[1])
bad = []
for algo in ["recipe", "zk-fast-pred", "zk-ttl", "zk-slow", "etcd-session"]:
    for n in (10, 30):
        name = f"BM_Herd/{algo}/{n}"
        b = entry(got, name, bad)
        if b is None:
            continue
        for c in ("events", "store_requests", "notifications_per_release", "peak_bytes_per_client"):
            if not isinstance(b.get(c), (int, float)):
                bad.append(f"{name}: no counter {c}")
        if b["N"] != n or b["peak_bytes_per_client"] <= 0 or b["store_requests"] < 2 * n:
            bad.append(f"{name}: N {b['N']}, peak bytes/client {b['peak_bytes_per_client']}, "
                       f"requests {b['store_requests']}")
        # A queue lock's release wakes at most the next waiter; zk-slow's wakes every
        # waiter that has its watch set, so its share grows with the herd.
        if algo != "zk-slow" and b["notifications_per_release"] > 1:
            bad.append(f"{name}: {b['notifications_per_release']} notifications per release, want <= 1")
slow = [got.get(f"BM_Herd/zk-slow/{n}", {}).get("notifications_per_release", 0) for n in (10, 30)]
if not (slow[0] > 1 and slow[1] > 2 * slow[0]):
    bad.append(f"zk-slow: notifications per release {slow[0]} at N = 10, {slow[1]} at N = 30: no herd")
for line in bad:
    print("FAIL:", line)
sys.exit(1 if bad else 0)
PY

/usr/bin/python3 "$root/scripts/plot_bench.py" "$tmp" "$tmp/png" --table "$tmp/summary.md" >/dev/null 2>"$tmp/plot.log" ||
  { cat "$tmp/plot.log"; echo "FAIL: plot_bench.py"; exit 1; }
[ -s "$tmp/png/herd_scale.png" ] || { echo "FAIL: no herd_scale.png"; exit 1; }
for algo in recipe zk-fast-pred zk-ttl zk-slow etcd-session; do
  grep -q "^| 30 | " "$tmp/summary.md" && grep -q -- "- \*\*$algo\*\* (N up to 30)" "$tmp/summary.md" ||
    { cat "$tmp/summary.md"; echo "FAIL: summary.md has no row or slope line for $algo"; exit 1; }
done
echo "herd benchmark smoke: ok"
