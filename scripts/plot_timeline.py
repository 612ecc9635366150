#!/usr/bin/env python3
"""Draws a lockstep run as a timeline picture.

usage: scripts/plot_timeline.py TRACE.jsonl -o timeline.png [--title T]

TRACE.jsonl is the trace `lockstep run SCENARIO --trace FILE` writes (one JSON object a
line: {"t": ns, "src": "client 3" | "server" | "store 2" | "world", "ev": ...}). The
picture has one row per client, in true time:

  green bar        the client believed it held the lock (acquired until the first of
                   lost_observed, release_start, client_crashed, client_start, client_done)
  thin grey line   waiting for the lock (acquire_start until acquired / acquire_failed)
  hatched orange   the process was paused (fault "pause for ..." until "resume")
  dark hatched     the process was down (crashed until restarted)
  purple strip     the session was suspended (until reconnected / expired)
  markers          crashes, session expiries (learned by the client; declared by the
                   server), lost_observed, and every other fault with a short label
  red band         two or more clients believed they held the lock at once: mutual
                   exclusion violated

Exit status: 0 written, 2 bad input (one line on stderr).
"""

import argparse
import itertools
import json
import os
import re
import sys

PROG = "plot_timeline.py"

# Lines that never matter to the picture and make up most of a long trace.
SKIP_MARKERS = ('"ev":"req"', '"ev":"watch"', '"ev":"resource_read"', '"ev":"resource_write"')

HOLD_ENDS = {"lost_observed", "release_start", "client_crashed", "client_start", "client_done"}
WAIT_ENDS = {"acquired", "acquire_failed", "client_crashed", "client_start", "client_done"}
SUSPEND_ENDS = {"client_crashed", "client_start", "client_done"}

COLORS = {
    "hold": "#2e9e44",
    "hold_edge": "#1b5e28",
    "wait": "#b8b8b8",
    "pause": "#f28e1c",
    "down": "#404040",
    "suspend": "#8e44ad",
    "partition": "#e6b800",
    "fault": "#d35400",
    "violation": "#e0201b",
    "stall": "#7f7f7f",
    "lost": "#c0392b",
}


def fail(message):
    print(f"{PROG}: {message}", file=sys.stderr)
    sys.exit(2)


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        fail(f"{message} (see --help)")


def parse_args(argv):
    p = OneLineParser(
        prog=PROG,
        description="Draws a lockstep JSON-lines trace as a timeline PNG: one row per client, "
        "lock holds, pauses, crashes, session expiries, faults, and any overlap of two holders "
        "in red.",
        epilog="Exit status: 0 written, 2 bad input.",
    )
    p.add_argument("trace", metavar="TRACE.jsonl", help="trace written by `lockstep run --trace`")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="picture to write")
    p.add_argument("--title", help="title (default: algorithm, seed and clients of the run)")
    return p.parse_args(argv)


def is_server(src):
    """The one server, one of N stores ("store K"), or a separate resource's server."""
    return src in ("server", "resource") or (isinstance(src, str) and src.startswith("store "))


def client_of(src):
    """'client 3' -> 3; anything else -> None."""
    if isinstance(src, str) and src.startswith("client "):
        try:
            return int(src[7:])
        except ValueError:
            return None
    return None


def duration_s(text):
    """'10s' / '250ms' / '1500us' / '3m' -> seconds, or None."""
    units = (("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("m", 60.0), ("h", 3600.0))
    for unit, scale in units:
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                return None
    return None


def fault_length_s(detail):
    """' for 2s' in a fault's detail -> 2.0, or None."""
    at = detail.rfind(" for ")
    if at < 0:
        return None
    word = detail[at + 5 :].split(" ")[0]
    return duration_s(word)


DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)\b")


def human_duration(seconds):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.3g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g}ms"
    return f"{seconds * 1e6:.3g}us"


def short_label(detail):
    """A fault's detail, short enough to print beside its marker."""
    label = detail.split(" (")[0]
    label = DURATION_RE.sub(lambda m: human_duration(duration_s(m.group(0))), label)
    label = label.replace("clock: ", "clock ")
    if label.startswith("clock strobe swing "):
        label = "clock strobe ±" + label.split(" ")[3]
    return label if len(label) <= 30 else label[:29] + "…"


class Timeline:
    """Everything the picture shows, in seconds of true time."""

    def __init__(self):
        self.meta = {}
        self.verdicts = []
        self.clients = 0
        self.end = 0.0
        self.holds = {}  # client -> [(start, end, token)]
        self.waits = {}
        self.pauses = {}
        self.downs = {}
        self.suspends = {}
        self.partitions = {}
        self.windows = {}  # client -> [(start, end, label)]  other timed faults
        self.crashes = []  # (t, client)
        self.expired_client = []  # (t, client): the client learned its session expired
        self.expired_server = []  # (t, client): the server expired it
        self.lost = []  # (t, client)
        self.faults = []  # (t, client, label)
        self.server_faults = []  # (t, label)
        self.stalls = []  # (start, end)

    def rows(self, d, c):
        return d.setdefault(c, [])


def read_trace(path):
    try:
        f = open(path, "r", encoding="utf-8")
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    tl = Timeline()
    open_hold, open_wait, open_pause, open_down = {}, {}, {}, {}
    open_suspend, open_partition = {}, {}
    open_stall = None
    max_client = -1
    lines = 0
    try:
        with f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                lines += 1
                if any(m in line for m in SKIP_MARKERS):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    fail(f"{path}:{n}: not a JSON line (expected a lockstep trace, "
                         "one JSON object a line)")
                if not isinstance(rec, dict) or "t" not in rec or "ev" not in rec:
                    fail(f'{path}:{n}: not a lockstep trace line (no "t" and "ev")')
                try:
                    t = float(rec["t"]) / 1e9
                except (TypeError, ValueError):
                    fail(f'{path}:{n}: "t" is not a number')
                ev = rec["ev"]
                src = rec.get("src")
                tl.end = max(tl.end, t)
                if src == "world":
                    if ev == "start":
                        tl.meta = rec
                    elif ev == "verdict":
                        tl.verdicts.append(rec)
                    continue
                if is_server(src):
                    if ev == "session_end" and rec.get("why") == "expired":
                        c = rec.get("client")
                        if isinstance(c, int) and c >= 0:
                            tl.expired_server.append((t, c))
                    continue
                c = client_of(src)
                if c is None:
                    continue
                detail = rec.get("detail", "")
                if not isinstance(detail, str):
                    detail = str(detail)
                if c < 0:  # a server-side fault or note
                    if ev == "fault":
                        if detail.startswith("server stall for "):
                            open_stall = t
                        elif detail == "server stall ends":
                            if open_stall is not None:
                                tl.stalls.append((open_stall, t))
                                open_stall = None
                        elif "skipped" not in detail:  # a fault that found no target
                            tl.server_faults.append((t, short_label(detail)))
                    continue
                max_client = max(max_client, c)
                # The lock: beliefs and waits.
                if ev in HOLD_ENDS or ev == "acquired":
                    if c in open_hold:
                        s, tok = open_hold.pop(c)
                        tl.rows(tl.holds, c).append((s, t, tok))
                    if ev == "acquired":
                        open_hold[c] = (t, rec.get("token"))
                if ev in WAIT_ENDS and c in open_wait:
                    tl.rows(tl.waits, c).append((open_wait.pop(c), t))
                if ev == "acquire_start":
                    open_wait.setdefault(c, t)
                # The session.
                if ev == "session":
                    if detail == "suspended":
                        open_suspend.setdefault(c, t)
                    elif c in open_suspend:
                        tl.rows(tl.suspends, c).append((open_suspend.pop(c), t))
                    if detail == "expired":
                        tl.expired_client.append((t, c))
                elif ev in SUSPEND_ENDS and c in open_suspend:
                    tl.rows(tl.suspends, c).append((open_suspend.pop(c), t))
                # The process.
                if ev == "client_crashed":
                    tl.crashes.append((t, c))
                    open_down.setdefault(c, t)
                    if c in open_partition:
                        tl.rows(tl.partitions, c).append((open_partition.pop(c), t))
                elif ev == "lost_observed":
                    tl.lost.append((t, c))
                elif ev == "fault":
                    if detail.startswith("pause for "):
                        open_pause.setdefault(c, t)
                        tl.faults.append((t, c, short_label(detail)))
                    elif detail == "resume":
                        if c in open_pause:
                            tl.rows(tl.pauses, c).append((open_pause.pop(c), t))
                    elif detail == "restart":
                        if c in open_down:
                            tl.rows(tl.downs, c).append((open_down.pop(c), t))
                    elif detail.startswith("crash"):
                        pass  # drawn from client_crashed
                    elif "skipped" in detail:
                        pass  # the fault found nothing to act on
                    elif detail == "partition healed":
                        if c in open_partition:
                            tl.rows(tl.partitions, c).append((open_partition.pop(c), t))
                    elif detail.startswith("partition "):
                        open_partition.setdefault(c, t)
                        tl.faults.append((t, c, short_label(detail)))
                    else:
                        length = fault_length_s(detail)
                        if length is not None:
                            tl.rows(tl.windows, c).append((t, t + length))
                        tl.faults.append((t, c, short_label(detail)))
    except UnicodeDecodeError:
        fail(f"{path}: not a text file (expected a lockstep JSON-lines trace)")
    if lines == 0:
        fail(f"{path}: empty (expected a lockstep JSON-lines trace)")
    # Whatever is still open ends with the run.
    end = tl.end
    for c, (s, tok) in open_hold.items():
        tl.rows(tl.holds, c).append((s, end, tok))
    for d, opened in ((tl.waits, open_wait), (tl.pauses, open_pause), (tl.downs, open_down),
                      (tl.suspends, open_suspend), (tl.partitions, open_partition)):
        for c, s in opened.items():
            tl.rows(d, c).append((s, end))
    if open_stall is not None:
        tl.stalls.append((open_stall, end))
    declared = tl.meta.get("clients")
    tl.clients = max(declared if isinstance(declared, int) else 0, max_client + 1, 1)
    return tl


def violations(holds):
    """Spans in which two or more clients believed they held the lock: [(start, end, holders)].

    Sharing a single instant is a hand-over, not an overlap: ends go before starts."""
    edges = []
    for c, spans in holds.items():
        for s, e, _ in spans:
            if e > s:
                edges.append((s, 1, c))
                edges.append((e, 0, c))
    edges.sort()
    active = {}
    out = []
    i = 0
    while i < len(edges):
        t = edges[i][0]
        while i < len(edges) and edges[i][0] == t:
            _, kind, c = edges[i]
            if kind == 1:
                active[c] = active.get(c, 0) + 1
            else:
                active[c] -= 1
                if active[c] == 0:
                    del active[c]
            i += 1
        nxt = edges[i][0] if i < len(edges) else None
        if nxt is not None and len(active) >= 2:
            holders = tuple(sorted(active))
            if out and out[-1][1] == t and out[-1][2] == holders:
                out[-1] = (out[-1][0], nxt, holders)
            else:
                out.append((t, nxt, holders))
    return out


def merge_spans(spans):
    merged = []
    for s, e, _ in spans:
        if merged and merged[-1][1] >= s:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


def draw(tl, output, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = tl.clients
    bad = violations(tl.holds)
    bands = merge_spans(bad)
    end = max(tl.end, 1e-9)

    fig_h = min(4.0 + 0.75 * n, 60.0)
    fig, ax = plt.subplots(figsize=(15, fig_h), dpi=110)
    ax.set_ylim(n - 0.5, -0.5)  # client 0 on top
    ax.set_xlim(-0.01 * end, end * 1.01)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"client {c}" for c in range(n)], fontsize=10)
    ax.set_xlabel("true time (s)", fontsize=11)
    for c in range(n + 1):
        ax.axhline(c - 0.5, color="#dddddd", linewidth=0.8, zorder=0)
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    ax.set_axisbelow(True)

    handles = []

    # Spans too short to see at this scale (a 20 ms suspension in a minute-long run) are
    # drawn at a minimum visible width.
    min_w = end * 0.002

    def rects(rows, **style):
        """Rectangles [(x0, x1, y0, y1)] as one collection: fast for many thousands."""
        verts = [((x0, y0), (x0, y1), (x1, y1), (x1, y0)) for x0, x1, y0, y1 in rows]
        if verts:
            ax.add_collection(PolyCollection(verts, **style), autolim=False)

    def bars(spans_by_client, y_off, height, legend, **style):
        rows = []
        for c, spans in spans_by_client.items():
            y0 = c + y_off
            rows.extend((s, s + max(e - s, min_w), y0, y0 + height) for s, e, *_ in spans)
        rects(rows, **style)
        if rows and legend:
            handles.append(Patch(label=legend, **{k: v for k, v in style.items()
                                                   if k in ("facecolor", "edgecolor", "hatch")}))

    # Behind everything: the violation bands across all rows, and server stalls.
    if tl.stalls:
        rects([(s, e, -0.5, n - 0.5) for s, e in tl.stalls], facecolor=COLORS["stall"],
              alpha=0.18, zorder=1)
        handles.append(Patch(facecolor=COLORS["stall"], alpha=0.35, label="server stall"))
    if bands:
        rects([(s, s + max(e - s, min_w), -0.5, n - 0.5) for s, e in bands],
              facecolor=COLORS["violation"], alpha=0.22, zorder=1)

    # Per row, from the back: waiting, holding, states, markers.
    bars(tl.waits, -0.03, 0.06, "waiting for the lock", facecolor=COLORS["wait"], zorder=2)
    bars(tl.holds, -0.28, 0.56, "believed it held the lock", facecolor=COLORS["hold"],
         edgecolor=COLORS["hold_edge"], linewidth=0.6, zorder=3)
    # The part of each belief that overlapped another: outlined red on the row itself.
    over = {}
    for s, e, holders in bad:
        for c in holders:
            over.setdefault(c, []).append((s, e))
    rects([(s, s + max(e - s, min_w), c - 0.28, c + 0.28) for c, spans in over.items()
           for s, e in spans], facecolor="none", edgecolor=COLORS["violation"], linewidth=2.2,
          zorder=4)
    bars(tl.pauses, -0.42, 0.84, "paused", facecolor="none", edgecolor=COLORS["pause"],
         hatch="///", linewidth=1.2, zorder=5)
    bars(tl.downs, -0.42, 0.84, "down (crashed)", facecolor="#00000018", edgecolor=COLORS["down"],
         hatch="xx", linewidth=0.8, zorder=5)
    bars(tl.suspends, 0.30, 0.10, "session suspended", facecolor=COLORS["suspend"], zorder=5)
    bars(tl.partitions, -0.42, 0.10, "partitioned", facecolor=COLORS["partition"], zorder=5)
    bars(tl.windows, -0.42, 0.10, "fault window (latency, loss, ...)",
         facecolor=COLORS["fault"], alpha=0.6, zorder=5)

    def markers(points, legend, y_off=0.0, **style):
        if not points:
            return
        xs = [t for t, c, *_ in points]
        ys = [c + y_off for t, c, *_ in points]
        ax.plot(xs, ys, linestyle="none", zorder=7, **style)
        handles.append(Line2D([], [], linestyle="none", label=legend, **style))

    markers(tl.crashes, "crash", marker="X", markersize=11, color="black")
    markers(tl.expired_server, "session expired (server)", y_off=0.35, marker="D",
            markersize=7, markerfacecolor="white", markeredgecolor=COLORS["suspend"],
            markeredgewidth=1.8)
    markers(tl.expired_client, "session expired (client learns)", y_off=0.35, marker="v",
            markersize=9, color=COLORS["suspend"])
    markers(tl.lost, "lock loss observed", marker="o", markersize=7, markerfacecolor="white",
            markeredgecolor=COLORS["lost"], markeredgewidth=1.8)
    markers(tl.faults, "fault", y_off=-0.36, marker="*", markersize=11, color=COLORS["fault"])

    # Labels: placed left to right on a few levels per row, and left out (the marker
    # stays) where they would run into each other.
    span = ax.get_xlim()[1] - ax.get_xlim()[0]
    axes_w_in = fig.get_figwidth() * 0.86

    def text_width(label, fontsize):
        return (len(label) * 0.55 * fontsize / 72 + 0.1) / axes_w_in * span

    def place_labels(items, levels, fontsize, color, where):
        free_from = {}  # (row, level) -> x where the space is free again
        for t, row, label in sorted(items, key=lambda i: (i[0], i[1])):
            for level in range(levels):
                if free_from.get((row, level), -float("inf")) <= t:
                    free_from[(row, level)] = t + text_width(label, fontsize)
                    xy, offset, va = where(t, row, level)
                    ax.annotate(label, xy, xytext=offset, textcoords="offset points",
                                fontsize=fontsize, color=color, va=va, zorder=8,
                                annotation_clip=False,
                                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none",
                                          alpha=0.8))
                    break

    place_labels(tl.faults, 2, 7.5, COLORS["fault"],
                 lambda t, c, level: ((t, c - 0.36), (5, 1 + 10 * level), "bottom"))
    place_labels([(t, c, "expired by server") for t, c in tl.expired_server], 1, 7.5,
                 COLORS["suspend"], lambda t, c, level: ((t, c + 0.35), (6, 0), "center"))
    # Server-side faults (clock changes, stalls): a dotted line across all rows.
    for t, label in tl.server_faults:
        ax.axvline(t, color=COLORS["fault"], linestyle=":", linewidth=1, zorder=2)
    place_labels([(t, -1, label) for t, label in tl.server_faults], 3, 7, COLORS["fault"],
                 lambda t, c, level: ((t, n - 0.5), (3, 3 + 10 * level), "bottom"))
    if tl.server_faults:
        handles.append(Line2D([], [], color=COLORS["fault"], linestyle=":",
                              label="fault on every client / the server"))

    # Each violation band gets a callout above the rows.
    if bands:
        handles.insert(0, Patch(facecolor=COLORS["violation"], alpha=0.35,
                                edgecolor=COLORS["violation"], label="mutual exclusion violated"))
        # Windows closer than the eye can separate share one callout.
        clusters = []
        for s, e in bands:
            if clusters and s - clusters[-1][1] <= end * 0.01:
                clusters[-1][1] = e
            else:
                clusters.append([s, e])
        for s, e in clusters[:20]:
            ax.annotate("✗ two holders at once", ((s + e) / 2, -0.5), xytext=(0, 4),
                        textcoords="offset points", ha="center", va="bottom", fontsize=9,
                        fontweight="bold", color=COLORS["violation"], annotation_clip=False)

    # Title: the run, and the verdict in words.
    algo = tl.meta.get("algorithm", "?")
    seed = tl.meta.get("seed", "?")
    main = title or f"lockstep run: {algo}, seed {seed}, {tl.clients} clients"
    if bad:
        total = sum(e - s for s, e in bands)
        pairs = sorted({p for _, _, h in bad for p in itertools.combinations(h, 2)})
        common = set(pairs[0]).intersection(*pairs)
        if len(pairs) > 1 and common:  # one client overlapped all the others
            c = min(common)
            others = sorted({x for p in pairs for x in p if x != c})
            plural = "s" if len(others) > 1 else ""
            who = f"client {c} with client{plural} " + ", ".join(str(x) for x in others[:8])
            if len(others) > 8:
                who += ", ..."
        else:
            who = "; ".join(f"client {a} & client {b}" for a, b in pairs[:3])
            if len(pairs) > 3:
                who += "; ..."
        verdict = (f"MUTUAL EXCLUSION VIOLATED: for {total:.3f} s two clients both believed "
                   f"they held the lock ({who})")
        color = COLORS["violation"]
    elif tl.holds:
        verdict = "mutual exclusion held: no two clients believed they held the lock at once"
        color = COLORS["hold_edge"]
    else:
        verdict = "no client acquired the lock"
        color = "#555555"
    fig.suptitle(main, fontsize=14, fontweight="bold", y=0.995)
    ax.set_title(verdict, fontsize=11, color=color, pad=22,
                 fontweight="bold" if bad else "normal")

    ncol = min(5, max(1, len(handles)))
    legend_rows = (len(handles) + ncol - 1) // ncol
    legend_h = (0.25 * legend_rows + 0.15) / fig_h  # of the figure's height
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=ncol,
               fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, legend_h, 1, 1))
    try:
        fig.savefig(output)
    except (OSError, ValueError) as e:
        fail(f"cannot write {output}: {e}")
    plt.close(fig)


def main(argv):
    args = parse_args(argv)
    tl = read_trace(args.trace)
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        fail(f"cannot write {args.output}: no directory {out_dir}")
    draw(tl, args.output, args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
