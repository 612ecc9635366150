#!/usr/bin/python3
"""The contended workload of bench/herd's live part, with kazoo's Lock.

For each N, N contenders (processes, each with its own KazooClient and so its own
ZooKeeper session; processes rather than threads, so Python's GIL does not serialize
them) connect, start together, and each does K cycles of acquire, hold, release with no
think time, on a lock path of their own. Handoff latency is ReleaseStart -> the next
holder's Acquired on time.monotonic_ns() (CLOCK_MONOTONIC, one clock for every process).
Writes JSON shaped like Google Benchmark's (see docs/bench.md). Run with /usr/bin/python3
(Debian's python3-kazoo).
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time


def fail(msg):
    print(f"herd_kazoo: {msg}", file=sys.stderr)
    sys.exit(1)


try:
    import kazoo
    from kazoo.client import KazooClient
    from kazoo.exceptions import NoNodeError, NotEmptyError
except ImportError:
    fail("kazoo not found (apt-get install -y python3-kazoo; run with /usr/bin/python3)")

SESSION_TIMEOUT_S = 10.0


def contender(index, connect, path, cycles, hold_s, barrier, queue):
    stamps = []
    zk = None
    try:
        zk = KazooClient(hosts=connect, timeout=SESSION_TIMEOUT_S)
        zk.start(timeout=60)
        lock = zk.Lock(path, identifier=str(index))
        barrier.wait(timeout=120)
        for _ in range(cycles):
            if not lock.acquire(timeout=120):
                raise RuntimeError("acquire timed out")
            stamps.append((time.monotonic_ns(), 1))
            if hold_s > 0:
                time.sleep(hold_s)
            stamps.append((time.monotonic_ns(), 0))
            lock.release()
        queue.put((index, stamps, None))
    except Exception as e:  # reported by the parent
        try:
            barrier.abort()
        except Exception:
            pass
        queue.put((index, stamps, repr(e)))
    finally:
        if zk is not None:
            zk.stop()
            zk.close()


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(p * len(sorted_values))))
    return sorted_values[rank - 1]


def run(connect, n, cycles, hold_ms):
    path = f"/lockstep-bench/kazoo-{os.getpid()}-{n}"
    admin = KazooClient(hosts=connect, timeout=SESSION_TIMEOUT_S)
    admin.start(timeout=60)
    admin.ensure_path(path)  # the lock's directory exists before the clock starts
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(n)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=contender, args=(i, connect, path, cycles, hold_ms / 1000.0, barrier, queue))
        for i in range(n)
    ]
    wall_start = time.monotonic_ns()
    for p in procs:
        p.start()
    results = [queue.get() for _ in range(n)]
    for p in procs:
        p.join()
    wall_ms = (time.monotonic_ns() - wall_start) / 1e6
    try:
        admin.delete(path, recursive=True)
        admin.delete("/lockstep-bench")
    except (NoNodeError, NotEmptyError):
        pass
    admin.stop()
    admin.close()
    errors = [e for _, _, e in results if e]
    if errors:
        raise RuntimeError(f"contender failed: {errors[0]}")

    stamps = sorted(s for _, st, _ in results for s in st)
    lat = []
    holding = False
    released = None
    first = last = 0
    acquisitions = 0
    releases = 0
    for t, acquired in stamps:
        if acquired:
            if holding:
                raise RuntimeError("mutual exclusion violated")
            holding = True
            if acquisitions == 0:
                first = t
            acquisitions += 1
            last = t
            if released is not None:
                lat.append((t - released) / 1e6)
            released = None
        else:
            holding = False
            released = t
            releases += 1
    lat.sort()
    span = (last - first) / 1e9
    return {
        "name": f"live/kazoo/N:{n}",
        "run_name": f"live/kazoo/N:{n}",
        "real_time": wall_ms,
        "time_unit": "ms",
        "N": n,
        "cycles": cycles,
        "hold_ms": hold_ms,
        "releases": releases,
        "handoffs": len(lat),
        "handoffs_per_s": (acquisitions - 1) / span if span > 0 else 0.0,
        "p50_ms": percentile(lat, 0.50),
        "p99_ms": percentile(lat, 0.99),
        "mean_ms": sum(lat) / len(lat) if lat else 0.0,
    }


def main():
    ap = argparse.ArgumentParser(description="kazoo Lock under the bench/herd contended workload")
    ap.add_argument("--connect", required=True, help="ZooKeeper connect string, HOST:PORT")
    ap.add_argument("--n", default="1,2,4,8,16,32,64", help="contender counts, comma-separated")
    ap.add_argument("--cycles", type=int, default=10, help="lock cycles per contender")
    ap.add_argument("--hold-ms", type=float, default=5.0, help="hold time in milliseconds")
    ap.add_argument("--out", help="JSON output file (default: stdout)")
    args = ap.parse_args()
    try:
        ns = [int(x) for x in args.n.split(",") if x.strip()]
    except ValueError:
        fail(f"--n: not a list of integers: {args.n!r}")
    if not ns or min(ns) < 1:
        fail("--n: give positive contender counts")
    out = []
    for n in ns:
        try:
            r = run(args.connect, n, args.cycles, args.hold_ms)
        except Exception as e:
            fail(f"N={n}: {e}")
        print(
            f"kazoo N={n} handoffs/s={r['handoffs_per_s']:.1f} p50={r['p50_ms']:.2f}ms p99={r['p99_ms']:.2f}ms",
            file=sys.stderr,
        )
        out.append(r)
    doc = {
        "context": {
            "peer": "kazoo",
            "library": f"kazoo {getattr(kazoo, '__version__', '?')} Lock",
            "python": sys.version.split()[0],
        },
        "benchmarks": out,
    }
    text = json.dumps(doc, indent=2) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
