#!/usr/bin/python3
"""Plots and tabulates the JSON that scripts/bench writes (bench/herd, bench/live_limit
and the peers in bench/peers/).

usage: scripts/plot_bench.py RESULTS_DIR PNG_DIR [--table FILE]

Reads every *.json under RESULTS_DIR (Google Benchmark's --benchmark_out files and the
peers' files of the same shape). Benchmark names say what each entry is:
  sim/ALGO/N:n               simulator counters (bench/herd)
  live/IMPL/N:n              a live run: ours (recipe, recipe-direct, zk-fast-pred, zk-slow) or a peer
                             (curator, kazoo)
  limit/sessions:S/window:W  the server's pipelined create+delete ceiling (bench/live_limit)
  BM_Herd/ALGO/N             a simulated herd of N clients, one cycle each (bench/sim_herd)
Entries repeated across rounds are reduced to the median of each counter. Writes
herd_notifications.png, handoffs.png, latency.png and sim_cost.png (and herd_scale.png
when there are BM_Herd entries) into PNG_DIR, each only when it has data, and prints a
Markdown summary (also to --table FILE).
"""
import math
import argparse
import glob
import json
import os
import re
import statistics
import sys

PROG = "plot_bench.py"

OURS = ["recipe", "recipe-direct", "zk-fast-pred", "zk-slow"]
PEERS = ["curator", "kazoo"]
SIM_ALGOS = ["zk-slow", "zk-fast", "zk-fast-pred", "recipe"]
HERD_ALGOS = ["recipe", "zk-fast-pred", "zk-ttl", "zk-slow", "etcd-session"]
# The log-log slopes are fitted over N >= this: below it a run's fixed costs (the server,
# the resource, the checkers) hide how the herd's own costs grow.
SLOPE_FROM_N = 100
LABEL = {
    "recipe": "lockstep recipe",
    "recipe-direct": "lockstep recipe handoff=direct",
    "zk-fast-pred": "lockstep zk-fast-pred",
    "zk-fast": "lockstep zk-fast",
    "zk-slow": "lockstep zk-slow",
    "zk-ttl": "lockstep zk-ttl",
    "etcd-session": "lockstep etcd-session",
    "curator": "Curator InterProcessMutex",
    "kazoo": "kazoo Lock",
}
STYLE = {
    "recipe": dict(color="tab:blue", marker="o"),
    "recipe-direct": dict(color="tab:gray", marker="o"),
    "zk-fast-pred": dict(color="tab:green", marker="s"),
    "zk-fast": dict(color="tab:olive", marker="x"),
    "zk-slow": dict(color="tab:red", marker="^"),
    "zk-ttl": dict(color="tab:cyan", marker="P"),
    "etcd-session": dict(color="tab:brown", marker="*"),
    "curator": dict(color="tab:purple", marker="D"),
    "kazoo": dict(color="tab:orange", marker="v"),
}


def fail(msg, code=1):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def load(results_dir):
    """{(kind, impl, key): [entry, ...]} where key is N (sim/live) or (S, W) (limit)."""
    files = sorted(glob.glob(os.path.join(results_dir, "**", "*.json"), recursive=True))
    if not files:
        fail(f"no *.json under {results_dir}")
    groups = {}
    errors = []
    for path in files:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"{path}: not readable JSON ({e})")
        for b in doc.get("benchmarks", []) if isinstance(doc, dict) else []:
            name = b.get("run_name") or b.get("name", "")
            if b.get("error_occurred"):
                errors.append(f"{name}: {b.get('error_message', 'error')}")
                continue
            m = re.match(r"^(sim|live)/([^/]+)/N:(\d+)", name)
            if m:
                groups.setdefault((m.group(1), m.group(2), int(m.group(3))), []).append(b)
                continue
            m = re.match(r"^BM_Herd/([^/]+)/(\d+)$", name)
            if m:
                groups.setdefault(("herd", m.group(1), int(m.group(2))), []).append(b)
                continue
            m = re.match(r"^limit/sessions:(\d+)/window:(\d+)", name)
            if m:
                groups.setdefault(("limit", "server", (int(m.group(1)), int(m.group(2)))), []).append(b)
    return groups, errors


def median_of(entries, counter):
    vals = [e[counter] for e in entries if isinstance(e.get(counter), (int, float))]
    return statistics.median(vals) if vals else None


def series(groups, kind, impl, counter):
    """(xs, ys) sorted by N; points without a positive value are left out (log axes)."""
    pts = sorted((k[2], median_of(v, counter)) for k, v in groups.items() if k[0] == kind and k[1] == impl)
    pts = [(n, y) for n, y in pts if y is not None and y > 0]
    return [n for n, _ in pts], [y for _, y in pts]


def n_axis(ax):
    """Log2 x axis of contender counts, ticks labelled as plain numbers."""
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("contenders N")


def server_limit(groups):
    best = None
    for k, v in groups.items():
        if k[0] == "limit":
            y = median_of(v, "pairs_per_s")
            if y is not None and (best is None or y > best[0]):
                best = (y, k[2])
    return best  # (pairs/s, (sessions, window)) or None


def one_lane_limit(groups):
    """One session, one lane: a create and its delete back to back, then the next pair.
    A lock handoff is serial as that lane is, so this is the rate a lock is read against."""
    return median_of(groups.get(("limit", "server", (1, 1)), []), "pairs_per_s")


def plot_all(groups, png_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(png_dir, exist_ok=True)
    written = []

    def finish(fig, ax, name, title):
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        path = os.path.join(png_dir, name)
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)

    kinds = {k[0] for k in groups}
    if "herd" in kinds:
        written.append(plot_herd(groups, png_dir, plt))
    if not kinds & {"sim", "live"}:
        return written

    # 1. Notifications per release vs N (simulator exact, live counted), log-log.
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    for algo in SIM_ALGOS:
        xs, ys = series(groups, "sim", algo, "notifications_per_release")
        if xs:
            ax.plot(xs, ys, label=f"{LABEL[algo]} (simulator)", **STYLE[algo])
    for algo in OURS:
        xs, ys = series(groups, "live", algo, "notifications_per_release")
        if xs:
            ax.plot(xs, ys, linestyle="--", alpha=0.6, label=f"{LABEL[algo]} (live ZooKeeper)", **STYLE[algo])
    n_axis(ax)
    ax.set_yscale("log")
    xs = sorted({k[2] for k in groups if k[0] in ("sim", "live") and k[2] > 1})
    if xs:
        ax.plot(xs, [n - 1 for n in xs], color="grey", linestyle=":", label="N - 1 (every other contender)")
    ax.set_ylabel("watch notifications per release")
    finish(fig, ax, "herd_notifications.png", "Herd effect: notifications per release")

    if "live" not in kinds:
        written.append(plot_sim_cost(groups, png_dir, plt))
        return written

    # 2. Handoffs per second vs N, with the server's ceiling.
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    for impl in OURS + PEERS:
        xs, ys = series(groups, "live", impl, "handoffs_per_s")
        if xs:
            ax.plot(xs, ys, label=LABEL[impl], **STYLE[impl])
    limit = server_limit(groups)
    if limit:
        ax.axhline(limit[0], color="black", linestyle=":",
                   label=f"server limit: {limit[0]:.0f} create+delete pairs/s")
    lane = one_lane_limit(groups)
    if lane:
        ax.axhline(lane, color="black", linestyle="--", alpha=0.6,
                   label=f"one session, one lane: {lane:.0f} pairs/s")
    hold = hold_ms(groups)
    if hold:
        ax.axhline(1000.0 / hold, color="grey", linestyle="-.", alpha=0.6,
                   label=f"1 / hold: {1000.0 / hold:.0f}/s (hold {hold:g} ms)")
    n_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel("lock handoffs per second")
    finish(fig, ax, "handoffs.png", f"Live ZooKeeper: lock handoffs per second{hold_note(groups)}")

    # 3. Handoff latency p50 (solid) and p99 (dashed) vs N.
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    for impl in OURS + PEERS:
        xs, ys = series(groups, "live", impl, "p50_ms")
        if xs:
            ax.plot(xs, ys, label=f"{LABEL[impl]} p50", **STYLE[impl])
        xs, ys = series(groups, "live", impl, "p99_ms")
        if xs:
            ax.plot(xs, ys, linestyle="--", alpha=0.7, label=f"{LABEL[impl]} p99", **STYLE[impl])
    n_axis(ax)
    ax.set_yscale("log")
    ax.set_ylabel("handoff latency (ms): release start -> next holder acquired")
    finish(fig, ax, "latency.png", f"Live ZooKeeper: handoff latency p50 / p99{hold_note(groups)}")

    if "sim" in kinds:
        written.append(plot_sim_cost(groups, png_dir, plt))
    return written


def plot_sim_cost(groups, png_dir, plt):
    """4. Simulator: server requests per release and virtual handoff latency."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for algo in SIM_ALGOS:
        xs, ys = series(groups, "sim", algo, "requests_per_release")
        if xs:
            axes[0].plot(xs, ys, label=LABEL[algo], **STYLE[algo])
        xs, ys = series(groups, "sim", algo, "mean_ms")
        if xs:
            axes[1].plot(xs, ys, label=LABEL[algo], **STYLE[algo])
    for ax, ylabel, title in (
        (axes[0], "server requests per release", "Simulator: requests per release"),
        (axes[1], "mean virtual handoff latency (ms)", "Simulator: handoff latency (server: no service time)"),
    ):
        n_axis(ax)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    fig.tight_layout()
    path = os.path.join(png_dir, "sim_cost.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


HERD_PANELS = [
    ("events", "simulated events", "Events per run"),
    ("store_requests", "store requests", "Store requests per run"),
    ("notifications_per_release", "watch notifications per release", "Notifications per release"),
    ("peak_bytes_per_client", "peak bytes per client", "Peak memory per client"),
]


def log_slope(xs, ys):
    """Least-squares slope of log(y) against log(x) over the points with x >= SLOPE_FROM_N."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x >= SLOPE_FROM_N and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    var = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / var if var > 0 else None


def herd_algos(groups):
    seen = {k[1] for k in groups if k[0] == "herd"}
    return [a for a in HERD_ALGOS if a in seen] + sorted(seen - set(HERD_ALGOS))


def plot_herd(groups, png_dir, plt):
    """herd_scale.png: the four BM_Herd counters against N, log-log, slopes in the legend."""
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    for ax, (counter, ylabel, title) in zip(axes.flat, HERD_PANELS):
        for algo in herd_algos(groups):
            xs, ys = series(groups, "herd", algo, counter)
            if not xs:
                continue
            k = log_slope(xs, ys)
            label = LABEL.get(algo, algo) + (f" (slope {k:.2f})" if k is not None else "")
            ax.plot(xs, ys, label=label, **STYLE.get(algo, {}))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("clients N (one cycle each)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Simulated herds (bench/sim_herd BM_Herd); slopes fitted over N >= {SLOPE_FROM_N}")
    fig.tight_layout()
    path = os.path.join(png_dir, "herd_scale.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def herd_table(groups):
    lines = ["Simulated herds, one cycle each (bench/sim_herd BM_Herd): events / store requests / "
             "notifications per release / peak bytes per client / CPU seconds", ""]
    algos = herd_algos(groups)
    ns = sorted({k[2] for k in groups if k[0] == "herd"})
    lines.append("| N | " + " | ".join(algos) + " |")
    lines.append("|---:|" + "---:|" * len(algos))
    for n in ns:
        cells = []
        for a in algos:
            e = groups.get(("herd", a, n), [])
            if not e:
                cells.append("-")
                continue
            cpu = median_of(e, "cpu_time")
            unit = e[0].get("time_unit", "ms")
            cpu_s = cpu / {"ns": 1e9, "us": 1e6, "ms": 1e3, "s": 1}.get(unit, 1e3) if cpu is not None else None
            cells.append(f"{fmt(median_of(e, 'events'))} / {fmt(median_of(e, 'store_requests'))} / "
                         f"{fmt(median_of(e, 'notifications_per_release'), 2)} / "
                         f"{fmt(median_of(e, 'peak_bytes_per_client'))} / {fmt(cpu_s, 2)}")
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Log-log slopes over N >= {SLOPE_FROM_N} (1 = grows as N, 2 = as N^2; for bytes per "
                 "client, 0 = total memory linear in N):")
    lines.append("")
    for a in algos:
        parts = []
        for counter, what in (("events", "events"), ("store_requests", "store requests"),
                              ("notifications_per_release", "notifications per release"),
                              ("peak_bytes_per_client", "peak bytes per client")):
            xs, ys = series(groups, "herd", a, counter)
            k = log_slope(xs, ys)
            parts.append(f"{what} {k:.2f}" if k is not None else f"{what} -")
        top = max((k[2] for k in groups if k[0] == "herd" and k[1] == a), default=None)
        lines.append(f"- **{a}** (N up to {top:,}): " + ", ".join(parts))
    return lines


def hold_ms(groups):
    for k, v in groups.items():
        if k[0] == "live":
            h = median_of(v, "hold_ms")
            if h is not None:
                return h
    return None


def hold_note(groups):
    hold = hold_ms(groups)
    return f" (hold {hold:g} ms)" if hold is not None else ""


def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def cpu_table(groups, ns):
    """What a release costs in CPU on each side (bench/cpu_meter.h), beside what a pair of
    the one-lane limit costs: the rate of a lock on a saturated machine is the cores over
    this cost. Empty when the runs did not measure it."""
    def cell(entries, unit):
        client = median_of(entries, f"client_cpu_ms_per_{unit}")
        if client is None:
            return "-"
        sys_ = median_of(entries, f"client_sys_ms_per_{unit}")
        switches = median_of(entries, f"client_switches_per_{unit}")
        server = median_of(entries, f"server_cpu_ms_per_{unit}")
        cores = [median_of(entries, "client_cores"), median_of(entries, "server_cores")]
        used = sum(c for c in cores if c is not None)
        return f"{fmt(client, 2)} ({fmt(sys_, 2)}, {fmt(switches)}) / {fmt(server, 2)} / {fmt(used, 2)}"

    rows = []
    for n in ns:
        cells = [cell(groups.get(("live", i, n), []), "release") for i in OURS]
        if any(c != "-" for c in cells):
            rows.append(f"| {n} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    lane = cell(groups.get(("limit", "server", (1, 1)), []), "pair")
    return ["", "CPU a release costs: this process's clients in ms (of which in the kernel, ms; "
            "their threads' context switches) / the server in ms / the cores both kept busy; "
            f"the one-lane limit, per create+delete pair: {lane}", "",
            "| N | " + " | ".join(OURS) + " |", "|---:|" + "---:|" * len(OURS)] + rows


def table(groups):
    lines = []
    ns = sorted({k[2] for k in groups if k[0] == "live"})
    limit = server_limit(groups)
    best_lim = limit[0] if limit else None
    lim = one_lane_limit(groups)
    rounds = max((len(v) for k, v in groups.items() if k[0] == "live"), default=0)
    if ns:
        hold = hold_ms(groups)
        lines.append(f"Live ZooKeeper, handoffs per second (median of {rounds} round(s); hold "
                     f"{fmt(hold, 1)} ms, no think time; one session, one lane: {fmt(lim)} "
                     f"create+delete pairs/s, the \"limit\" below; pipelined at best: {fmt(best_lim)})")
        lines.append("")
        lines.append("| N | recipe | recipe handoff=direct | zk-fast-pred | zk-slow | Curator | kazoo | "
                     "recipe / best peer | recipe / limit | direct / best peer | direct / limit |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n in ns:
            v = {i: median_of(groups.get(("live", i, n), []), "handoffs_per_s") for i in OURS + PEERS}
            peers = [v[p] for p in PEERS if v[p]]
            best = max(peers) if peers else None
            r, d = v["recipe"], v["recipe-direct"]
            ratio = lambda x: f"{x / best:.2f}x" if x and best else "-"
            # With a hold the hold bounds every lock, not the server: no share of the limit.
            frac = lambda x: f"{100 * x / lim:.1f}%" if x and lim and not hold else "-"
            lines.append(f"| {n} | {fmt(r)} | {fmt(d)} | {fmt(v['zk-fast-pred'])} | {fmt(v['zk-slow'])} | "
                         f"{fmt(v['curator'])} | {fmt(v['kazoo'])} | {ratio(r)} | {frac(r)} | "
                         f"{ratio(d)} | {frac(d)} |")
        lines.append("")
        lines.append("Live handoff latency p50 / p99 in ms")
        lines.append("")
        lines.append("| N | recipe | recipe handoff=direct | zk-fast-pred | zk-slow | Curator | kazoo |")
        lines.append("|---:|---:|---:|---:|---:|---:|---:|")
        for n in ns:
            cells = []
            for i in OURS + PEERS:
                e = groups.get(("live", i, n), [])
                p50, p99 = median_of(e, "p50_ms"), median_of(e, "p99_ms")
                cells.append(f"{fmt(p50, 2)} / {fmt(p99, 2)}" if p50 is not None else "-")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines.extend(cpu_table(groups, ns))
        fast = median_of(groups.get(("live", "zk-fast-pred", 64), []), "handoffs_per_s")
        slow = median_of(groups.get(("live", "zk-slow", 64), []), "handoffs_per_s")
        if fast and slow:
            lines.append("")
            lines.append(f"zk-fast-pred vs zk-slow at N=64 (live): {fast:,.0f} vs {slow:,.0f} handoffs/s = "
                         f"{fast / slow:.2f}x")
    sim_ns = sorted({k[2] for k in groups if k[0] == "sim"})
    if sim_ns:
        lines.append("")
        lines.append("Simulator (exact): watch notifications per release / server requests per release / "
                     "mean virtual handoff ms")
        lines.append("")
        lines.append("| N | " + " | ".join(SIM_ALGOS) + " |")
        lines.append("|---:|" + "---:|" * len(SIM_ALGOS))
        for n in sim_ns:
            cells = []
            for a in SIM_ALGOS:
                e = groups.get(("sim", a, n), [])
                if not e:
                    cells.append("-")
                    continue
                cells.append(f"{fmt(median_of(e, 'notifications_per_release'), 2)} / "
                             f"{fmt(median_of(e, 'requests_per_release'), 1)} / "
                             f"{fmt(median_of(e, 'mean_ms'), 2)}")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    if any(k[0] == "herd" for k in groups):
        if lines:
            lines.append("")
        lines.extend(herd_table(groups))
    if limit:
        lines.append("")
        lines.append("Server limit (bench/live_limit, pipelined create+delete); client CPU ms per pair "
                     "(context switches):")
        lines.append("")
        lines.append("| sessions | lanes per session | pairs/s | requests/s | client CPU |")
        lines.append("|---:|---:|---:|---:|---:|")

        def client_cpu(e):
            ms = median_of(e, "client_cpu_ms_per_pair")
            return f"{fmt(ms, 3)} ({fmt(median_of(e, 'client_switches_per_pair'), 1)})" if ms is not None else "-"

        for k in sorted(k for k in groups if k[0] == "limit"):
            e = groups[k]
            lines.append(f"| {k[2][0]} | {k[2][1]} | {fmt(median_of(e, 'pairs_per_s'))} | "
                         f"{fmt(median_of(e, 'ops_per_s'))} | {client_cpu(e)} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Plot and tabulate lockstep benchmark JSON (bench/herd, bench/live_limit, bench/peers).",
    )
    ap.add_argument("results_dir", help="directory holding the JSON files (searched recursively)")
    ap.add_argument("png_dir", help="directory to write the PNG plots into (created)")
    ap.add_argument("--table", metavar="FILE", help="also write the Markdown summary to FILE")
    args = ap.parse_args()
    if not os.path.isdir(args.results_dir):
        fail(f"results dir {args.results_dir} does not exist", 2)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        fail("matplotlib not found (apt-get install -y python3-matplotlib; run with /usr/bin/python3)")
    groups, errors = load(args.results_dir)
    for e in errors:
        print(f"{PROG}: skipped failed benchmark {e}", file=sys.stderr)
    try:
        written = plot_all(groups, args.png_dir)
    except OSError as e:
        fail(f"cannot write plots into {args.png_dir}: {e}")
    text = table(groups)
    if args.table:
        try:
            with open(args.table, "w") as f:
                f.write(text)
        except OSError as e:
            fail(f"cannot write --table {args.table}: {e}")
    sys.stdout.write(text)
    print(f"\nplots: {', '.join(written)}", file=sys.stderr)


if __name__ == "__main__":
    main()
