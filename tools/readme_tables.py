#!/usr/bin/env python3
"""README.md's two tables of measured figures, rendered from a results.tsv
(bench/run.py report writes one; docs/bench/results.tsv keeps the last).

    python3 tools/readme_tables.py [--readme README.md] [--results docs/bench/results.tsv] write
    python3 tools/readme_tables.py [...] check

README.md holds each table between two markers, and only the text between
them is ever replaced:

    <!-- bench:guest -->   instructions per operation in the guest
    <!-- bench:host -->    nanoseconds on the host
    <!-- bench:scaling --> the guest's throughput on 2 and 4 CPUs
    <!-- /bench -->       closes either

`write` replaces every table in place (`make bench` runs it); `check`
prints TAP, one result per table, and fails when README's table is not
what results.tsv gives (`make test` runs it).
"""

import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Guest rows: the label, then the (benchmark, implementation) figures it
# shows, separated by " / ".
GUEST_ROWS = [
    ("`kfastmalloc` 8 B / 64 B (fast path, page already claimed)",
     [("allocate 8 B", "kfastmalloc"), ("allocate 64 B", "kfastmalloc")]),
    ("`kfastmalloc` 512 B (16 in a row: claims two more pages)",
     [("allocate 512 B", "kfastmalloc")]),
    ("`kfastzalloc` 64 B", [("kfastzalloc 64", "kfast")]),
    ("`kfast_mark` + `kfast_release`", [("mark + release", "kfast")]),
    ("`kmalloc` + `kfree`, 8 B / 64 B / 512 B",
     [("allocate 8 B", "kmalloc + kfree"), ("allocate 64 B", "kmalloc + kfree"),
      ("allocate 512 B", "kmalloc + kfree")]),
    ("stack object (`alloca`)", [("allocate 8 B", "stack (alloca)")]),
    ("`kfastmalloc` that claims a page / release that gives one back",
     [("kfastmalloc claiming a page", "kfast"), ("release giving a page back", "kfast")]),
    ("reset with 1 / 100 / 10,000 live objects (1, 1, 20 pages claimed, all kept)",
     [("reset, 1 object", "kfast reset"), ("reset, 100 objects", "kfast reset"),
      ("reset, 10000 objects", "kfast reset")]),
    ("reset on the exit path when nothing was allocated",
     [("exit-path reset, nothing allocated", "kfast reset")]),
    ("random persistent `kmalloc`/`kfree` trace: mean / worst op",
     [("random trace, mean per op", "kmalloc"), ("random trace, worst op", "kmalloc")]),
    ("heap worst cases: a free flushing a cache class (8 blocks) / an allocation emptying "
     "the cache (32 blocks) / a free merging both neighbours",
     [("heap worst case: free flushing a class (8 blocks)", "kfree"),
      ("heap worst case: allocation emptying the cache (32 blocks)", "kmalloc"),
      ("heap worst case: free merging both neighbours", "kfree")]),
    ("context switch", [("context switch (yield pair / 2)", "sched")]),
    ("null system call round trip, `int 0x80` / `sysenter`",
     [("null syscall round trip", "int 0x80"), ("null syscall round trip", "sysenter")]),
    ("IPC call/reply round trip between two processes (the fast path)",
     [("IPC call/reply round trip (two processes)", "sysenter")]),
    ("IPC round trips the fast path leaves: an empty `struct ipc_buf` (general call, fast reply) / 64 B / 512 B payload",
     [("IPC round trip, empty struct ipc_buf (general call, fast reply)", "sysenter"),
      ("IPC round trip, 64 B payload (general path)", "sysenter"),
      ("IPC round trip, 512 B payload (general path)", "sysenter")]),
    ("IRQ 4 (COM1 loopback) to the driver thread blocked in its receive",
     [("IRQ to driver (notification received)", "irq4 (COM1 loopback)")]),
    ("a key's round trip: drv_uart -> console -> shell (raw read) -> console -> drv_uart, "
     "port to port (`keytime`)",
     [("key round trip (uart -> console -> shell -> uart)", "drv_uart + console + shell")]),
    ("cross-CPU call (`xcall`) to one idle CPU and back, both CPUs' instructions",
     [("cross-CPU call round trip (to one idle CPU)", "xcall")]),
]

# Host columns: (heading, benchmark); the best (lowest) of each is bold.
HOST_COLUMNS = [("k=1", "transient k=1"), ("k=10", "transient k=10"),
                ("k=100", "transient k=100"), ("k=1000", "transient k=1000"),
                ("mixed k", "transient mixed k"), ("persistent, ns/op", "persistent")]
# Host rows in this order; an implementation results.tsv lacks is left
# out, one it has and this list lacks comes last.  kfast (call) is the
# out-of-line variant, shown in build/bench/table.txt only.
HOST_ORDER = ["kfast (inline)", "obstack", "APR pool", "mimalloc", "jemalloc",
              "glibc malloc", "Tandem heap", "talloc pool", "floor (ideal bump)"]
HOST_HIDDEN = {"kfast (call)"}
HOST_UNITS = {"ns/entry", "ns/op"}
HOST_LABELS = {"Tandem heap": "Tandem heap (TLSF + cache)",
               "floor (ideal bump)": "floor: ideal bump, no checks (no allocator)"}
# Rows shown for reference, never the best of a column.
HOST_REFERENCE = {"floor (ideal bump)"}

# Scaling: a row per kind of work, a column per CPU count (kernel/bench_scaling.c).
SCALING_ROWS = [("`kfastmalloc` (each thread's own arena, no lock)",
                 "kfastmalloc (per-thread arena, no lock)"),
                ("`kmalloc` + `kfree`, the big kernel lock taken for each call",
                 "kmalloc + kfree (big kernel lock per call)"),
                ("no allocation: a loop of arithmetic (how far the host's cores let anything scale)",
                 "no allocation (the host's ceiling)")]
SCALING_CPUS = [2, 4]

MARKER_RE = re.compile(r"(<!-- bench:(\w+) -->\n)(.*?)(<!-- /bench -->)", re.S)


def read_results(path):
    """{(benchmark, implementation): value}, and the implementations of
    host rows in file order."""
    figures, host_impls = {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("benchmark\t"):
                continue
            cols = line.split("\t")
            if len(cols) < 4:
                sys.exit(f"{path}:{n}: want 4 tab-separated columns")
            bench, impl, unit, value = cols[:4]
            figures[(bench, impl)] = float(value)
            if unit in HOST_UNITS and impl not in host_impls:
                host_impls.append(impl)
    return figures, host_impls


def guest_figure(x):
    """Instructions: whole numbers as they are, others to three digits."""
    if abs(x - round(x)) < 0.0005 or x >= 100:
        return f"{x:.0f}"
    return f"{x:.1f}"


def host_figure(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def guest_table(figures):
    lines = ["| Operation | Instructions |", "|---|---|"]
    for label, keys in GUEST_ROWS:
        vals = [figures.get(k) for k in keys]
        text = " / ".join("n/a" if v is None else guest_figure(v) for v in vals)
        lines.append(f"| {label} | {text} |")
    return "\n".join(lines) + "\n"


def host_table(figures, impls):
    shown = [i for i in HOST_ORDER if i in impls] + \
            [i for i in impls if i not in HOST_ORDER and i not in HOST_HIDDEN]
    lines = ["| | " + " | ".join(h for h, _ in HOST_COLUMNS) + " |",
             "|---" * (len(HOST_COLUMNS) + 1) + "|"]
    best = {}
    for _, bench in HOST_COLUMNS:
        vals = [figures[(bench, i)] for i in shown
                if (bench, i) in figures and i not in HOST_REFERENCE]
        best[bench] = min(vals) if vals else None
    for impl in shown:
        cells = []
        for _, bench in HOST_COLUMNS:
            v = figures.get((bench, impl))
            if v is None:
                cells.append("")
            elif v == best[bench] and impl not in HOST_REFERENCE:
                cells.append(f"**{host_figure(v)}**")
            else:
                cells.append(host_figure(v))
        row = "| " + " | ".join([HOST_LABELS.get(impl, impl)] + cells) + " |"
        lines.append(row.replace("|  |", "| |").replace("|  |", "| |"))
    return "\n".join(lines) + "\n"


def scaling_table(figures):
    lines = ["| Work, a thread on each CPU | " + " | ".join(f"{n} CPUs" for n in SCALING_CPUS) + " |",
             "|---" * (len(SCALING_CPUS) + 1) + "|"]
    for label, impl in SCALING_ROWS:
        vals = [figures.get((f"throughput on {n} CPUs, multiple of 1 CPU's", impl))
                for n in SCALING_CPUS]
        lines.append(f"| {label} | " + " | ".join("n/a" if v is None else f"{v:.2f}x"
                                                   for v in vals) + " |")
    return "\n".join(lines) + "\n"


def render(results):
    figures, impls = read_results(results)
    return {"guest": guest_table(figures), "host": host_table(figures, impls),
            "scaling": scaling_table(figures)}


def tables_in(text):
    """{name: (start, end) of the text between its markers}."""
    return {m.group(2): (m.start(3), m.end(3)) for m in MARKER_RE.finditer(text)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    ap.add_argument("--results", default=os.path.join(ROOT, "docs", "bench", "results.tsv"))
    ap.add_argument("action", choices=["write", "check"])
    args = ap.parse_args(argv)
    want = render(args.results)
    with open(args.readme) as f:
        text = f.read()
    where = tables_in(text)
    readme = os.path.relpath(args.readme)
    results = os.path.relpath(args.results)

    if args.action == "write":
        missing = [n for n in want if n not in where]
        if missing:
            sys.exit(f"{readme}: no <!-- bench:{missing[0]} --> ... <!-- /bench --> markers")
        for name in sorted(want, key=lambda n: where[n][0], reverse=True):
            start, end = where[name]
            text = text[:start] + want[name] + text[end:]
        with open(args.readme, "w") as f:
            f.write(text)
        print(f"{readme}: {', '.join(want)} tables rendered from {results}")
        return 0

    print("TAP version 13")
    print(f"1..{len(want)}")
    failed = 0
    for n, name in enumerate(want, 1):
        if name not in where:
            print(f"# {readme} has no <!-- bench:{name} --> ... <!-- /bench --> markers")
            print(f"not ok {n} - {name} table")
            failed += 1
            continue
        start, end = where[name]
        have = text[start:end]
        if have == want[name]:
            print(f"ok {n} - {name} table is {results}'s")
            continue
        failed += 1
        line0 = text.count("\n", 0, start) + 1
        diff = difflib.unified_diff(have.splitlines(), want[name].splitlines(), lineterm="", n=0)
        for d in list(diff)[2:]:
            m = re.match(r"@@ -(\d+)", d)
            if m:
                d = f"{readme}:{line0 + int(m.group(1)) - 1} ({'-' + readme} +{results})"
            print(f"# {d}")
        print(f"not ok {n} - {name} table differs from {results}: "
              f"make bench, or python3 tools/readme_tables.py write")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
