#!/usr/bin/env python3
"""Prints the kernel's link graph and checks it against the layer map.

    python3 tools/linkgraph.py [--root DIR] [--files] [--tap] OBJECT... | @LIST
    make linkgraph          (the objects of the last build, listed in build/kernel.objs)

An edge A -> B means object A uses a symbol that object B defines (nm: A
has it undefined, B defines it globally).  Files are named by their source
path without the extension (kernel/mm/kfast.c is the node "kfast" under
kernel/mm/), so OBJECT must lie under --root (build/kernel).

The layers, lowest first.  A file may use symbols of its own layer and of
the layers below it, never of one above:

  lib      lib/: the freestanding C library (format, string, setjmp), shared
           with the user programs and the host tests.
  core     the machine and the kernel's plumbing, none of which allocates:
           console, the log ring, serial, VGA, kprintf, panic, symbols, the CPU feature
           table and the entry stack (TSS.esp0, IA32_SYSENTER_ESP), GDT/TSS,
           IDT, PIC, the IRQ lines over either controller, PIT, the extable,
           the Multiboot reader, QEMU exit, the stack-protector and UBSan runtimes; boot/cpu.asm and
           boot/cpu_check.c (descriptor loads, the first CPU check).
  mm       kernel/mm/: frames, paging, the heap and kmalloc, blocks, the
           kfast arena; and kernel/ostream.c, the console's output streams,
           whose factories make them in the arena (so they sit on mm, not
           beside the console in core).
  smp      kernel/smp/: bring-up - the firmware's tables of CPUs (ACPI's
           MADT, the MP tables), the local APIC, the application
           processors' trampoline and start; it maps tables and stacks, so
           it sits on mm.
  thread   kernel/thread/: threads, the scheduler, the context switch,
           processes, ELF loading, collision reports, the double-fault task.
  cap      kernel/cap/: handle tables, kernel objects' lifetime, endpoints,
           the boot objects (modules, devices) the first process holds.
  syscall  kernel/syscall/: the system-call table and its handlers, IPC,
           user-memory copies.
  entry    kernel/entry/: the whole way in and out of the kernel - the trap
           stubs, the sysenter entry, trap and system-call dispatch, the exit
           path, a new user thread's first entry.  It sits above the
           handlers it dispatches to.
  tests    tests/kernel/ (the in-kernel suites and their runner) and
           kernel/bench.c and kernel/bench_scaling.c, linked into
           build/tandem-test.elf only, and
           kernel/no_tests.c, their stand-in in build/tandem.elf: they may
           call anything below.
  main     kernel/main.c and boot/multiboot.asm: the image's entry point and
           the init order, the one place that calls every layer, the test
           runner included.

The compiler's runtime is not an edge: gcc calls __stack_chk_fail and
the __ubsan_handle_* functions from every file it instruments, lib/
included, so kernel/stack_protector.c and kernel/ubsan.c sit in core and
what calls them into being is the compiler, not the code.

Each layer here is one subsystem.  A lower layer that must tell a higher
one something takes a hook (a function pointer the higher layer installs
at its init): the timer's tick hooks, the thread-exit hooks, the arena's
canary hook, the thread layer's user-start hook, the process-end hook, the
endpoints' notify hook.

The tool prints the layers and the layer-to-layer graph (--files: every
file-to-file edge with the symbols behind it), then every edge that goes
upward and every cycle (strongly connected component) that spans more than
one subsystem, and exits 1 if there is any, or if a file is in no layer.
Cycles inside one subsystem (threads and the scheduler call each other) are
listed, and allowed.  --tap prints the same as TAP, for tests/runner.py.
"""

import argparse
import collections
import fnmatch
import os
import subprocess
import sys

# (layer, [patterns over the source path without its extension]), lowest
# first.  The first pattern that matches decides.
LAYERS = [
    ("lib", ["lib/*"]),
    ("core", ["boot/cpu", "boot/cpu_check",
              "kernel/console", "kernel/log", "kernel/serial", "kernel/vga", "kernel/kprintf",
              "kernel/panic", "kernel/ksyms", "kernel/cpu",
              "kernel/gdt", "kernel/percpu", "kernel/spinlock", "kernel/idt", "kernel/pic", "kernel/irq", "kernel/timer",
              "kernel/extable", "kernel/multiboot", "kernel/qemu",
              "kernel/stack_protector", "kernel/ubsan"]),
    ("mm", ["kernel/mm/*", "kernel/ostream"]),
    ("smp", ["kernel/smp/*"]),
    ("thread", ["kernel/thread/*"]),
    ("cap", ["kernel/cap/*"]),
    ("syscall", ["kernel/syscall/*"]),
    ("entry", ["kernel/entry/*"]),
    ("tests", ["tests/kernel/*", "kernel/bench", "kernel/bench_scaling", "kernel/no_tests"]),
    ("main", ["kernel/main", "boot/multiboot"]),
]
LAYER_RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
LAYER_RANK["?"] = -1            # in no layer: reported, and no edge of it counts as upward


def layer_of(name):
    for layer, patterns in LAYERS:
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return layer
    return "?"


# Each layer is one subsystem; a finer split would go here.
def subsystem_of(name):
    return layer_of(name)


# Symbols the compiler's instrumentation calls (see above): not edges.
RUNTIME = ["__stack_chk_fail", "__stack_chk_guard", "__ubsan_handle_*"]


def read_symbols(objects, root):
    """(defs, uses): symbol -> defining file, file -> set of symbols used."""
    defs, uses = {}, collections.defaultdict(set)
    out = subprocess.run(["nm", "-A"] + objects, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        path, _, rest = line.rpartition(":")
        parts = rest.split()
        name = os.path.relpath(path, root)[:-2]
        if len(parts) == 2 and parts[0] == "U":
            if not any(fnmatch.fnmatchcase(parts[1], p) for p in RUNTIME):
                uses[name].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCWV":
            defs.setdefault(parts[2], name)
    return defs, uses


def sccs(nodes, graph):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], fromfile_prefix_chars="@")
    ap.add_argument("--root", default="build/kernel", help="the directory the objects are under")
    ap.add_argument("--files", action="store_true", help="print every file-to-file edge")
    ap.add_argument("--tap", action="store_true", help="print TAP for tests/runner.py")
    ap.add_argument("objects", nargs="+", help="object files, or @FILE naming them one a line")
    args = ap.parse_args()

    objects = args.objects
    nodes = sorted(os.path.relpath(o, args.root)[:-2] for o in objects)
    defs, uses = read_symbols(objects, args.root)
    edges = collections.defaultdict(lambda: collections.defaultdict(set))   # a -> b -> symbols
    for a, syms in uses.items():
        for s in syms:
            b = defs.get(s)
            if b is not None and b != a:
                edges[a][b].add(s)
    graph = {n: set(edges[n]) for n in nodes}

    unmapped = [n for n in nodes if layer_of(n) == "?"]
    upward = [(a, b) for a in nodes for b in sorted(graph[a])
              if "?" not in (layer_of(a), layer_of(b))
              and LAYER_RANK[layer_of(b)] > LAYER_RANK[layer_of(a)]]
    comps = [c for c in sccs(nodes, graph) if len(c) > 1]
    crossing = [c for c in comps if len({subsystem_of(n) for n in c}) > 1]
    inside = [c for c in comps if c not in crossing]

    lines = []
    say = lines.append
    say("Layers, lowest first (a file may use its own layer and those below):")
    for layer, _ in LAYERS:
        files = [n for n in nodes if layer_of(n) == layer]
        say(f"  {layer:8} {' '.join(files)}")
    say("Layer graph (A -> B: a file of A uses a symbol of B):")
    lgraph = collections.defaultdict(set)
    for a in nodes:
        for b in graph[a]:
            if layer_of(a) != layer_of(b):
                lgraph[layer_of(a)].add(layer_of(b))
    for layer, _ in LAYERS:
        below = sorted(lgraph[layer], key=lambda l: LAYER_RANK[l])
        if below:
            say(f"  {layer:8} -> {', '.join(below)}")
    if args.files:
        say("Files (A -> B: symbols):")
        for a in nodes:
            for b in sorted(graph[a]):
                say(f"  {a} -> {b}: {' '.join(sorted(edges[a][b]))}")
    if inside:
        say("Cycles inside one subsystem (allowed):")
        for c in inside:
            say(f"  {subsystem_of(c[0])}: {' '.join(c)}")

    problems = []
    for n in unmapped:
        problems.append(f"{n} is in no layer: add it to LAYERS in tools/linkgraph.py")
    for a, b in upward:
        problems.append(f"upward edge {a} ({layer_of(a)}) -> {b} ({layer_of(b)}): "
                        f"{' '.join(sorted(edges[a][b]))}")
    for c in crossing:
        problems.append("cycle across subsystems: " +
                        " ".join(f"{n} ({subsystem_of(n)})" for n in c))

    if args.tap:
        print("TAP version 13")
        checks = [
            ("every kernel file is in a layer", [p for p in problems if "in no layer" in p]),
            ("no edge goes up a layer", [p for p in problems if p.startswith("upward")]),
            ("no cycle crosses a subsystem boundary", [p for p in problems if p.startswith("cycle")]),
        ]
        print(f"1..{len(checks)}")
        for line in lines:
            print("# " + line)
        for i, (what, bad) in enumerate(checks, 1):
            print(f"{'not ok' if bad else 'ok'} {i} - {what}")
            for p in bad:
                print("  # " + p)
    else:
        print("\n".join(lines))
        print(f"Upward edges: {len(upward)}; cycles across subsystems: {len(crossing)}"
              + (f"; files in no layer: {len(unmapped)}" if unmapped else ""))
        for p in problems:
            print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
