#!/usr/bin/env python3
"""Tandem's benchmark driver: runs the host benchmarks, reports everything.

    run.py host   --bin-dir D --out-dir O --impls a,b,c [--passes N] [--reps N]
    run.py report --out-dir O
    run.py smoke  --bin-dir D --impls a,b,c

host    runs every implementation's binary (build/bench/bin/bench-NAME) in
        interleaved passes, pinned to one CPU with taskset, and writes
        O/parts/host.tsv (the medians with their spread), O/host-raw.tsv
        (every repetition) and O/machine.txt.
report  merges O/parts/*.tsv, whoever wrote them, into O/results.tsv, adds
        the goal rows, prints the table (also O/table.txt) and draws the
        chart O/results.png with gnuplot.  The table and the chart are made
        from results.tsv alone, so the three agree.
smoke   runs each binary with --smoke (correctness, no timing) and prints one
        TAP document; the implementations of ALL_IMPLS not in --impls (their
        headers are not installed) are reported as skipped.

A part is a tab-separated file with the columns
    benchmark  implementation  unit  value  [spread]
one row per figure (value: the median), optionally led by a header line
that starts with "benchmark".  The guest half writes O/parts/guest.tsv
before `report` runs (see mk/bench.mk, BENCH_PARTS).
"""

import argparse
import glob
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

# Every implementation, by binary name, and the name it reports under.
ALL_IMPLS = {
    "kfast-inline": "kfast (inline)",
    "kfast-call": "kfast (call)",
    "floor": "floor (ideal bump)",
    "tandem-heap": "Tandem heap",
    "glibc": "glibc malloc",
    "obstack": "obstack",
    "talloc": "talloc pool",
    "apr": "APR pool",
    "mimalloc": "mimalloc",
    "jemalloc": "jemalloc",
}
# Where the peers' headers come from, for the skip message.
PACKAGE_OF = {"talloc": "libtalloc-dev", "apr": "libapr1-dev",
              "mimalloc": "libmimalloc-dev", "jemalloc": "libjemalloc-dev"}

# The goals (reported, never asserted).
TRANSIENT_GOAL_BENCH = "transient mixed k"
TRANSIENT_GOAL_IMPL = "kfast (inline)"
TRANSIENT_PEERS = ["obstack", "talloc pool", "APR pool", "mimalloc", "jemalloc"]
TRANSIENT_GOAL = 2.5        # at least this many times faster than the fastest peer
# The floor (bench/impl/floor.h): the ideal inline bump with no checks, the
# limit no allocator passes; kfast (inline) within this factor of its time.
FLOOR_IMPL = "floor (ideal bump)"
FLOOR_GOAL = 1.5
PERSISTENT_GOAL = 1.5       # Tandem heap's time within this factor of glibc's
HEAP_BOUND = ("O(1) per operation, whatever the number of blocks: alloc = a cache "
              "pop, or two bitmap find-first-sets + one list head + one split (+ at "
              "most 2 grow calls); free = a cache push, or <= 16 region range checks "
              "+ <= 2 merges + one list insert; either may flush the cache first, "
              "at most its 32 blocks (kernel/mm/heap.c)")

HOST_KS = [1, 10, 100, 1000]
TRANSIENT_BENCHES = [f"transient k={k}" for k in HOST_KS] + [TRANSIENT_GOAL_BENCH]
HEADER = ["benchmark", "implementation", "unit", "value"]

# The guest's throughput rows (kernel/bench_scaling.c), one per CPU count
# beyond the first, a multiple of one CPU's.
SCALING_PREFIX = "throughput on "
SCALING_CPUS = [1, 2, 4]
SCALING_COLOURS = ["#d62728", "#8c564b", "#7f7f7f"]  # kfast, heap, ceiling


def scaling_bench(cpus):
    return f"{SCALING_PREFIX}{cpus} CPUs, multiple of 1 CPU's"


# ---------------------------------------------------------------------------
# host

def machine_lines(cpu):
    """What ran the benchmark, as 'key: value' lines."""
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    cc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    versions = []
    for pkg in ["libc6", "libtalloc2", "libapr1", "libmimalloc2.0", "libjemalloc2"]:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout:
            versions.append(f"{pkg} {r.stdout}")
    return [
        f"cpu: {model}",
        f"cpus: {os.cpu_count()}",
        f"pinned: {'CPU ' + str(cpu) if cpu is not None else 'no (taskset missing)'}",
        f"kernel: {platform.system()} {platform.release()}",
        f"compiler: gcc {cc} -O2 (Tandem sources: -DHOST_TEST -DTANDEM_DEBUG=0)",
        f"libraries: {', '.join(versions)}",
    ]


def quantiles(values):
    """min, first quartile, median, third quartile, max."""
    v = sorted(values)
    if len(v) == 1:
        return v[0], v[0], v[0], v[0], v[0]
    q1, q2, q3 = statistics.quantiles(v, n=4, method="inclusive")
    return v[0], q1, q2, q3, v[-1]


def spread_text(values):
    """The spread of repetitions: half the interquartile range relative to
    the median, then the whole range."""
    lo, q1, med, q3, hi = quantiles(values)
    rel = 100.0 * (q3 - q1) / 2 / med if med else 0.0
    return f"±{rel:.1f}% IQR, range {fmt(lo)}-{fmt(hi)}, n={len(values)}"


def cmd_host(args):
    impls = [i for i in args.impls.split(",") if i]
    out = args.out_dir
    os.makedirs(os.path.join(out, "parts"), exist_ok=True)
    cpu = None
    if shutil.which("taskset"):
        allowed = sorted(os.sched_getaffinity(0))
        cpu = allowed[-1]               # the last CPU: the first takes most of the rest
    info = machine_lines(cpu)
    with open(os.path.join(out, "machine.txt"), "w") as f:
        f.write("\n".join(info) + "\n")
    print("host benchmarks: " + "; ".join(info[:3]), flush=True)

    raw = {}                            # (benchmark, implementation, unit) -> [values]
    order = list(impls)
    started = time.monotonic()
    for p in range(args.passes):
        for name in order:
            binary = os.path.join(args.bin_dir, f"bench-{name}")
            cmd = [binary, "--reps", str(args.reps), "--objects", str(args.objects),
                   "--ops", str(args.ops), "--seed", str(args.seed)]
            if cpu is not None:
                cmd = ["taskset", "-c", str(cpu)] + cmd
            t0 = time.monotonic()
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"bench: {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
            for line in r.stdout.splitlines():
                rep, bench, impl, unit, value = line.split("\t")
                raw.setdefault((bench, impl, unit), []).append(float(value))
            print(f"  pass {p + 1}/{args.passes}  {name:<13} {time.monotonic() - t0:5.1f} s", flush=True)
        order = order[1:] + order[:1]   # a different implementation goes first each pass
    print(f"host benchmarks took {time.monotonic() - started:.0f} s", flush=True)

    with open(os.path.join(out, "host-raw.tsv"), "w") as f:
        f.write("benchmark\timplementation\tunit\tmin\tq1\tmedian\tq3\tmax\tvalues\n")
        for (bench, impl, unit), vals in raw.items():
            q = quantiles(vals)
            f.write("\t".join([bench, impl, unit] + [f"{x:.3f}" for x in q]
                              + [",".join(f"{x:.3f}" for x in vals)]) + "\n")
    with open(os.path.join(out, "parts", "host.tsv"), "w") as f:
        f.write("\t".join(HEADER + ["spread"]) + "\n")
        for (bench, impl, unit), vals in raw.items():
            f.write(f"{bench}\t{impl}\t{unit}\t{statistics.median(vals):.3f}\t{spread_text(vals)}\n")


# ---------------------------------------------------------------------------
# report

def fmt(x):
    """A figure with three significant digits, or more for large ones."""
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def read_parts(out):
    """Every row of out/parts/*.tsv: (benchmark, implementation, unit, value, spread)."""
    rows = []
    paths = sorted(glob.glob(os.path.join(out, "parts", "*.tsv")),
                   key=lambda p: (os.path.basename(p) != "host.tsv", p))    # host first
    for path in paths:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("benchmark\t") or line.startswith("#"):
                    continue
                cols = line.split("\t")
                if len(cols) < 4:
                    sys.exit(f"bench: {path}:{n}: want 4 tab-separated columns, got {len(cols)}")
                try:
                    value = float(cols[3])
                except ValueError:
                    sys.exit(f"bench: {path}:{n}: value '{cols[3]}' is not a number")
                rows.append((cols[0], cols[1], cols[2], value, cols[4] if len(cols) > 4 else ""))
    return rows


def goal_rows(rows):
    """The goals, as rows of results.tsv, and one line of text for each."""
    by = {(b, i): v for b, i, u, v, s in rows}
    spread = {(b, i): s for b, i, u, v, s in rows}
    goals, lines = [], []

    kf = by.get((TRANSIENT_GOAL_BENCH, TRANSIENT_GOAL_IMPL))
    peers = [(by[(TRANSIENT_GOAL_BENCH, p)], p) for p in TRANSIENT_PEERS
             if (TRANSIENT_GOAL_BENCH, p) in by]
    if kf and peers:
        best, best_name = min(peers)
        missing = [p for p in TRANSIENT_PEERS if (TRANSIENT_GOAL_BENCH, p) not in by]
        ratio = best / kf
        goals.append(("goal: host transient", TRANSIENT_GOAL_IMPL,
                      f"x faster than fastest peer (goal >= {TRANSIENT_GOAL:g})", ratio))
        verdict = (f"MET by {100 * (ratio / TRANSIENT_GOAL - 1):.0f}%" if ratio >= TRANSIENT_GOAL
                   else f"MISSED: needs {TRANSIENT_GOAL / ratio:.1f}x more speed")
        lines.append(f"Host transient ({TRANSIENT_GOAL_BENCH}): {TRANSIENT_GOAL_IMPL} {fmt(kf)} ns/entry, "
                     f"fastest peer {best_name} {fmt(best)} ns/entry -> {ratio_text(ratio)}; "
                     f"goal >= {TRANSIENT_GOAL:g}x: {verdict}"
                     + (f" (peers missing: {', '.join(missing)})" if missing else ""))
        floor = by.get((TRANSIENT_GOAL_BENCH, FLOOR_IMPL))
        if floor:
            to_floor = kf / floor
            goals.append(("goal: host transient floor", TRANSIENT_GOAL_IMPL,
                          f"x the floor's time (goal <= {FLOOR_GOAL:g})", to_floor))
            verdict = (f"MET with {100 * (1 - to_floor / FLOOR_GOAL):.0f}% to spare"
                       if to_floor <= FLOOR_GOAL else
                       f"MISSED by {100 * (to_floor / FLOOR_GOAL - 1):.0f}%")
            lines.append(f"    the floor (an ideal inline bump, no checks) {fmt(floor)} ns/entry: "
                         f"{TRANSIENT_GOAL_IMPL} takes {to_floor:.2f}x its time; "
                         f"goal <= {FLOOR_GOAL:g}x: {verdict}")
        # On a busy machine the medians carry other processes' time; each
        # one's fastest repetition carries the least of it.
        fastest = {i: low_of(spread.get((TRANSIENT_GOAL_BENCH, i), ""))
                   for i in (TRANSIENT_GOAL_IMPL, FLOOR_IMPL, best_name)}
        if all(fastest.values()):
            k, f, p = fastest[TRANSIENT_GOAL_IMPL], fastest[FLOOR_IMPL], fastest[best_name]
            lines.append(f"    fastest repetitions: {TRANSIENT_GOAL_IMPL} {fmt(k)}, floor {fmt(f)}, "
                         f"{best_name} {fmt(p)} ns/entry -> {ratio_text(p / k)} than {best_name}, "
                         f"{k / f:.2f}x the floor's time")
        for b in TRANSIENT_BENCHES[:-1]:
            if (b, TRANSIENT_GOAL_IMPL) in by:
                ps = [(by[(b, p)], p) for p in TRANSIENT_PEERS if (b, p) in by]
                if ps:
                    v, p = min(ps)
                    lines.append(f"    {b}: {ratio_text(v / by[(b, TRANSIENT_GOAL_IMPL)])} "
                                 f"than {p}, the fastest peer there")
    heap, glibc = by.get(("persistent", "Tandem heap")), by.get(("persistent", "glibc malloc"))
    if heap and glibc:
        ratio = heap / glibc
        goals.append(("goal: host persistent", "Tandem heap",
                      f"x glibc malloc's time (goal <= {PERSISTENT_GOAL:g})", ratio))
        verdict = (f"MET with {100 * (1 - ratio / PERSISTENT_GOAL):.0f}% to spare" if ratio <= PERSISTENT_GOAL
                   else f"MISSED by {100 * (ratio / PERSISTENT_GOAL - 1):.0f}%")
        lines.append(f"Host persistent: Tandem heap {fmt(heap)} ns/op vs glibc malloc {fmt(glibc)} ns/op "
                     f"-> {ratio:.2f}x glibc's time; goal <= {PERSISTENT_GOAL:g}x: {verdict}")
        lines.append(f"    Tandem heap's worst-case bound: {HEAP_BOUND}.")
        lines.append("    glibc malloc states none (consolidation, trimming and sbrk/mmap can "
                     "touch every free chunk).")
    goals_guest(by, goals, lines)
    return goals, lines


def goals_guest(by, goals, lines):
    """The guest goals (instructions, from bench/guest.py's rows)."""
    def goal(name, impl, unit, value, met, text):
        goals.append((f"goal: {name}", impl, unit, value))
        lines.append(f"{text}: {'MET' if met else 'MISSED'}")

    fast = [by.get((f"allocate {n} B", "kfastmalloc")) for n in (8, 64)]
    if all(fast):
        worst = max(fast)
        goal("kfastmalloc fast path", "kfastmalloc", "instructions (goal <= 8)", worst, worst <= 8,
             f"Guest kfastmalloc fast path: {fmt(worst)} instructions (8 and 64 B); goal <= 8")
    ratios = []
    for n in (8, 64, 512):
        kf, km = by.get((f"allocate {n} B", "kfastmalloc")), by.get((f"allocate {n} B", "kmalloc + kfree"))
        if kf and km:
            ratios.append(km / kf)
    if ratios:
        r = min(ratios)
        goal("kfastmalloc vs kmalloc+kfree", "kfastmalloc", "x fewer instructions (goal >= 10)", r, r >= 10,
             f"Guest kfastmalloc vs kmalloc+kfree of the same size: at least {r:.1f}x fewer instructions; goal >= 10x")
    km = by.get(("allocate 8 B", "kmalloc + kfree"))
    if km:
        goal("kmalloc + kfree 8 B", "kmalloc + kfree", "instructions (goal <= 60)", km, km <= 60,
             f"Guest kmalloc + kfree of 8 B (the heap's cache): {fmt(km)} instructions; goal <= 60")
    one, many = by.get(("reset, 1 object", "kfast reset")), by.get(("reset, 10000 objects", "kfast reset"))
    if one and many:
        goal("reset flat", "kfast reset", "instructions at 10000 / at 1 (goal <= 1.5)", many / one,
             many <= 1.5 * one,
             f"Guest reset with 1 and 10,000 live objects: {fmt(one)} and {fmt(many)} instructions "
             f"(no work per object; the pages claimed stay claimed up to KFAST_KEEP_DEPTH below "
             f"the block's top); goal <= 1.5x")
        goal("reset", "kfast reset", "instructions, 1 object (goal <= 20)", one, one <= 20,
             f"Guest reset with 1 live object: {fmt(one)} instructions; goal <= 20")
    sysenter = by.get(("null syscall round trip", "sysenter"))
    if sysenter:
        goal("null sysenter round trip", "sysenter", "instructions (goal <= 70)", sysenter, sysenter <= 70,
             f"Guest null sysenter round trip: {fmt(sysenter)} instructions; goal <= 70")
    switch = by.get(("context switch (yield pair / 2)", "sched"))
    if switch:
        goal("context switch", "sched", "instructions (goal <= 80)", switch, switch <= 80,
             f"Guest context switch: {fmt(switch)} instructions; goal <= 80")
    ipc = by.get(("IPC call/reply round trip (two processes)", "sysenter"))
    if ipc:
        goal("IPC round trip", "sysenter", "instructions (goal <= 450)", ipc, ipc <= 450,
             f"Guest IPC call/reply round trip (the fast path): {fmt(ipc)} instructions; goal <= 450")
    reset = by.get(("exit-path reset, nothing allocated", "kfast reset"))
    if reset:
        goal("exit-path reset", "kfast reset", "instructions (goal <= 3)", reset, reset <= 3,
             f"Guest arena reset on the exit path (nothing allocated): {fmt(reset)} instructions; goal <= 3")


def low_of(spread):
    """The fastest repetition, from a spread text ("... range LO-HI, n=N")."""
    m = re.search(r"range ([0-9.]+)-", spread)
    return float(m.group(1)) if m else None


def ratio_text(r):
    return f"{r:.2f}x faster" if r >= 1 else f"{1 / r:.2f}x slower"


def table_lines(rows, machine):
    """The table: one block per benchmark, fastest first."""
    lines = ["Tandem benchmarks (medians; lower is better)"]
    lines += [f"  host {m}" for m in machine]
    benches = []
    for b, *_ in rows:
        if b not in benches:
            benches.append(b)
    for b in benches:
        group = sorted([r for r in rows if r[0] == b], key=lambda r: r[3])
        best = group[0][3]
        lines.append("")
        lines.append(f"{b}")
        for _, impl, unit, value, spread in group:
            rel = f"{value / best:6.2f}x" if best > 0 else "      "
            lines.append(f"  {impl:<16} {fmt(value):>9} {unit:<9} {rel}   {spread}")
    return lines


def write_results(out, rows, goals):
    with open(os.path.join(out, "results.tsv"), "w") as f:
        f.write("\t".join(HEADER) + "\n")
        for b, i, u, v, _ in rows:
            f.write(f"{b}\t{i}\t{u}\t{v:.3f}\n")
        for b, i, u, v in goals:
            f.write(f"{b}\t{i}\t{u}\t{v:.3f}\n")


def read_results(out):
    rows = []
    with open(os.path.join(out, "results.tsv")) as f:
        next(f)
        for line in f:
            b, i, u, v = line.rstrip("\n").split("\t")
            rows.append((b, i, u, float(v)))
    return rows


def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# One colour per implementation in every panel; Tandem's are the warm ones.
COLOURS = {
    "kfast (inline)": "#d62728", "kfast (call)": "#ff7f0e", "Tandem heap": "#8c564b",
    "floor (ideal bump)": "#000000",
    "glibc malloc": "#1f77b4", "obstack": "#17becf", "talloc pool": "#9467bd",
    "APR pool": "#2ca02c", "mimalloc": "#7f7f7f", "jemalloc": "#bcbd22",
}
OTHER_COLOUR = "#4878a8"
TANDEM = ("kfast (inline)", "kfast (call)", "Tandem heap")


def speedups(figs, impl):
    """(k, fastest peer's time / impl's time) for each host transient k."""
    by = {(b, i): v for b, i, u, v in figs}
    pts = []
    for k in HOST_KS:
        b = f"transient k={k}"
        peers = [by[(b, p)] for p in TRANSIENT_PEERS if (b, p) in by]
        if (b, impl) in by and peers:
            pts.append((k, min(peers) / by[(b, impl)]))
    return pts


def chart(out, results, machine):
    """Draws out/results.png from results.tsv's rows: transient time against k
    (one line per implementation), kfast's speedup over the fastest peer
    against k, then one bar panel per other benchmark, with the goal drawn
    where there is one."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("bench: gnuplot is not installed (make bench-deps): no chart")
        return None
    figs = [r for r in results if not r[0].startswith("goal:")]
    by = {(b, i): v for b, i, u, v in figs}
    data_dir = os.path.join(out, "chart")
    os.makedirs(data_dir, exist_ok=True)
    panels = []                         # gnuplot commands for each panel

    def points_file(stem, pts):
        """A gnuplot data file of (x, y) points; its path."""
        path = os.path.join(data_dir, f"{stem}.dat")
        with open(path, "w") as f:
            f.writelines(f"{x} {y}\n" for x, y in pts)
        return path

    def lines_panel(series, settings):
        plots = ", ".join(
            f"{gp_quote(p)} using 1:2 with linespoints lw {3 if i in TANDEM else 1.5} pt 7 ps 0.6 "
            f"lc rgb {gp_quote(COLOURS.get(i, OTHER_COLOUR))} title {gp_quote(i)}"
            for p, i in series)
        panels.append("\n".join(settings + [
            "set logscale x", "set xrange [0.8:1250]", "set xtics (1, 10, 100, 1000)",
            'set xlabel "k (objects per entry)"', "set grid", f"plot {plots}",
            "unset logscale", "unset xlabel", "unset grid", "set xtics autofreq",
            "unset xrange", "unset yrange", "unset arrow", "unset label"]))

    # ns per entry against k, for each implementation.
    series = []
    for impl in dict.fromkeys(i for b, i, u, v in figs if b in TRANSIENT_BENCHES[:-1]):
        pts = [(k, by[(f"transient k={k}", impl)]) for k in HOST_KS
               if (f"transient k={k}", impl) in by]
        series.append((points_file(f"k-{len(series)}", pts), impl))
    if series:
        lines_panel(series, ['set title "Host transient: k objects per kernel entry, then drop all"',
                             "set logscale y", 'set ylabel "ns per entry (log)"',
                             "set key top left font ',8'"])

    # kfast's speedup over the fastest peer against k, with the goal.
    series, top = [], TRANSIENT_GOAL * 1.2
    for impl in ("kfast (inline)", "kfast (call)"):
        pts = speedups(figs, impl)
        if pts:
            series.append((points_file(f"speedup-{len(series)}", pts), impl))
            top = max([top] + [v * 1.2 for _, v in pts])
    if series:
        lines_panel(series, [
            'set title "Host transient: kfast\'s speedup over the fastest of obstack, talloc, APR, mimalloc, jemalloc" font ",9"',
            'set ylabel "x faster (1 = parity)"', f"set yrange [0:{top:.2f}]",
            "set key top right font ',8'",
            f"set arrow from 0.8,{TRANSIENT_GOAL} to 1250,{TRANSIENT_GOAL} nohead dt 2 lw 2 lc rgb '#d62728'",
            f"set label 'goal {TRANSIENT_GOAL:g}x' at 1.1,{TRANSIENT_GOAL * 1.05} font ',8' tc rgb '#d62728'",
            "set arrow from 0.8,1 to 1250,1 nohead lc rgb '#555555'"])

    # Throughput on several CPUs as a multiple of one CPU's, against the
    # CPUs, with the ideal (linear) line.
    series, top = [], SCALING_CPUS[-1]
    for impl in dict.fromkeys(i for b, i, u, v in figs if b.startswith(SCALING_PREFIX)):
        pts = [(1, 1.0)] + [(n, by[(scaling_bench(n), impl)]) for n in SCALING_CPUS[1:]
                            if (scaling_bench(n), impl) in by]
        series.append((points_file(f"scaling-{len(series)}", pts), impl))
        top = max([top] + [v * 1.15 for _, v in pts])
    if series:
        plots = ", ".join(
            f"{gp_quote(p)} using 1:2 with linespoints lw 2 pt 7 ps 0.8 "
            f"lc rgb {gp_quote(SCALING_COLOURS[n % len(SCALING_COLOURS)])} title {gp_quote(i)}"
            for n, (p, i) in enumerate(series))
        panels.append("\n".join([
            'set title "Guest throughput on several CPUs (multi-threaded TCG, wall clock)"',
            'set ylabel "x one CPU"', 'set xlabel "CPUs"', f"set yrange [0:{top:.2f}]",
            "set xrange [0.8:4.2]", "set xtics (1, 2, 4)", "set grid", "set key top left font ',8'",
            f"plot x with lines dt 2 lc rgb '#555555' title 'linear', {plots}",
            "unset xlabel", "unset grid", "set xtics autofreq", "unset xrange", "unset yrange"]))

    # One bar panel per remaining benchmark (the guest half's rows land here too).
    # A benchmark with one implementation is a figure, not a comparison: table only.
    others = [b for b in dict.fromkeys(b for b, i, u, v in figs)
              if b not in TRANSIENT_BENCHES[:-1] and not b.startswith(SCALING_PREFIX)
              and sum(r[0] == b for r in figs) > 1]
    for n, bench in enumerate(others):
        group = sorted([(v, i, u) for b, i, u, v in figs if b == bench])
        path = os.path.join(data_dir, f"bar-{n}.dat")
        with open(path, "w") as f:
            for x, (v, i, u) in enumerate(group):
                colour = int(COLOURS.get(i, OTHER_COLOUR)[1:], 16)
                f.write(f"{x} {v} {gp_quote(i)} {gp_quote(fmt(v))} {colour}\n")
        goal = []
        if bench == TRANSIENT_GOAL_BENCH:
            peers = [by[(bench, p)] for p in TRANSIENT_PEERS if (bench, p) in by]
            if peers:
                goal = [min(peers) / TRANSIENT_GOAL, f"goal: fastest peer / {TRANSIENT_GOAL:g}"]
        elif bench == "persistent" and (bench, "glibc malloc") in by:
            goal = [by[(bench, "glibc malloc")] * PERSISTENT_GOAL,
                    f"goal for Tandem heap: {PERSISTENT_GOAL:g}x glibc"]
        top = max([v for v, _, _ in group] + goal[:1]) * 1.18
        settings = [f"set title {gp_quote(bench)}", f"set ylabel {gp_quote(group[0][2])}",
                    "set style fill solid 0.7 border -1", "set boxwidth 0.7", "unset key",
                    f"set yrange [0:{top}]", "set xtics rotate by -35 left font ',8'",
                    f"set xrange [-0.6:{len(group) - 0.4}]"]
        if goal:
            settings += [f"set arrow from -0.6,{goal[0]} to {len(group) - 0.4},{goal[0]} "
                         "nohead dt 2 lw 2 lc rgb '#d62728'",
                         f"set label {gp_quote('- - ' + goal[1] + ' = ' + fmt(goal[0]))} "
                         "at graph 0.02, graph 0.94 font ',8' tc rgb '#d62728'"]
        panels.append("\n".join(settings + [
            f"plot {gp_quote(path)} using 1:2:5:xtic(3) with boxes lc rgb variable, "
            f"'' using 1:2:4 with labels offset 0,0.7 font ',8'",
            "unset yrange", "unset xrange", "unset arrow", "unset label",
            "set xtics norotate autofreq font ',10'"]))
    if not panels:
        return None
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    png = os.path.join(out, "results.png")
    title = "Tandem benchmarks (medians) - host " + ", ".join(machine[:3]) if machine else \
        "Tandem benchmarks (medians)"
    script = "\n".join([
        f"set terminal pngcairo size {720 * cols},{500 * rows} font ',10'",
        f"set output {gp_quote(png)}",
        f"set multiplot layout {rows},{cols} title {gp_quote(title)}",
        "set bmargin 6",
        *panels,
        "unset multiplot"]) + "\n"
    gp = os.path.join(out, "chart.gp")
    with open(gp, "w") as f:
        f.write(script)
    r = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: gnuplot failed on {gp}:\n{r.stderr}")
    return png


def cmd_report(args):
    out = args.out_dir
    rows = read_parts(out)
    if not rows:
        sys.exit(f"bench: no rows in {out}/parts/*.tsv: run `make bench`")
    goals, goal_text = goal_rows(rows)
    write_results(out, rows, goals)
    # The table and the chart are drawn from results.tsv as written.
    results = read_results(out)
    spread = {(b, i, u): s for b, i, u, v, s in rows}
    machine = []
    if os.path.exists(os.path.join(out, "machine.txt")):
        with open(os.path.join(out, "machine.txt")) as f:
            machine = [l.rstrip("\n") for l in f if l.strip()]
    figs = [(b, i, u, v, spread.get((b, i, u), "")) for b, i, u, v in results
            if not b.startswith("goal:")]
    lines = table_lines(figs, machine)
    lines += ["", "Goals (reported by the benchmark, never asserted in a test):"]
    lines += [f"  {l}" for l in goal_text] or ["  (no figures for the goals)"]
    lines += ["", "Notes:",
              "  kfast (inline) is the kernel's release kfastmalloc from include/kfast.h, inlined as kernel",
              "  code gets it; kfast (call) is HOST_TEST's kfastmalloc, which calls kfast_alloc_slow every",
              "  time.  kfast's block is the kernel's (KSTACK_SIZE bytes, 1 KiB of it stack, KFAST_RESERVE",
              "  kept free below the stack; the page claimed stays claimed across resets); what",
              "  does not fit spills to the spill area (KFAST_SPILL_AREA, lent until the reset),",
              "  then to 4 KiB chunks from the Tandem heap.  floor (ideal bump) is no allocator: a",
              "  bump with no checks over a buffer larger than any entry, the limit for this",
              "  workload.",
              "  obstack and talloc start with the same 8 KiB; APR uses its default 8 KiB blocks.  glibc,",
              "  mimalloc, jemalloc and the Tandem heap free each object at the end of an entry.",
              "  Spread: half the interquartile range over all repetitions, and their whole range."]
    png = chart(out, results, machine)
    if png:
        lines += ["", f"Wrote {os.path.join(out, 'results.tsv')}, {os.path.join(out, 'table.txt')}, {png}"]
    started = os.path.join(out, "started")
    if os.path.exists(started):
        with open(started) as f:
            lines.append(f"make bench took {time.time() - float(f.read().strip() or 0):.0f} s in all")
        os.remove(started)              # a later `run.py report` alone has no start to count from
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


# ---------------------------------------------------------------------------
# smoke

def cmd_smoke(args):
    """One TAP document: each implementation's checks, numbered in one plan."""
    built = [i for i in args.impls.split(",") if i]
    results = []                        # (ok, description, [diag lines])
    for name in ALL_IMPLS:
        label = ALL_IMPLS[name]
        if name not in built:
            pkg = PACKAGE_OF.get(name, "?")
            results.append(("skip", f"{label}", [f"{pkg} is not installed (make bench-deps)"]))
            continue
        binary = os.path.join(args.bin_dir, f"bench-{name}")
        try:
            r = subprocess.run([binary, "--smoke"], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            results.append((False, f"{label}: runs", [str(e)]))
            continue
        count, plan, last = 0, None, None
        for line in r.stdout.splitlines():
            if line.startswith("ok ") or line.startswith("not ok "):
                ok = line.startswith("ok ")
                desc = line.split(" - ", 1)[1] if " - " in line else line
                last = [ok, f"{label}: {desc}", []]
                results.append(last)
                count += 1
            elif line.startswith("1.."):
                plan = int(line[3:])
            elif line.startswith("# ") and last is not None:
                last[2].append(line[2:])
        if r.returncode != 0 or plan != count:
            tail = (r.stderr.strip().splitlines() or [""])[-5:]
            results.append((False, f"{label}: exits cleanly after its plan "
                            f"(status {r.returncode}, {count} of {plan} results)", tail))
    print("TAP version 13")
    print(f"1..{len(results)}")
    for n, (ok, desc, diag) in enumerate(results, 1):
        if ok == "skip":
            print(f"ok {n} - {desc} # SKIP {diag[0]}")
            continue
        print(f"{'ok' if ok else 'not ok'} {n} - {desc}")
        for d in diag:
            print(f"# {d}")
    return 0 if all(ok for ok, _, _ in results) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("host")
    h.add_argument("--bin-dir", required=True)
    h.add_argument("--out-dir", required=True)
    h.add_argument("--impls", required=True, help="comma-separated binary names")
    h.add_argument("--passes", type=int, default=15, help="rounds over all implementations (each a new process)")
    h.add_argument("--reps", type=int, default=3, help="timed repetitions per round")
    h.add_argument("--objects", type=int, default=1000000, help="transient objects per repetition")
    h.add_argument("--ops", type=int, default=1000000, help="persistent operations per repetition")
    h.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("report")
    r.add_argument("--out-dir", required=True)
    s = sub.add_parser("smoke")
    s.add_argument("--bin-dir", required=True)
    s.add_argument("--impls", required=True)
    args = ap.parse_args()
    if args.cmd == "host":
        cmd_host(args)
    elif args.cmd == "report":
        cmd_report(args)
    else:
        sys.exit(cmd_smoke(args))


if __name__ == "__main__":
    main()
