#!/usr/bin/env python3
"""Boots the test kernel with a suite that panics on purpose, on several
CPUs under multi-threaded TCG, and checks the panic path stops every CPU
and reports once (kernel/smp/halt.c, kernel/panic.c).  Prints TAP for
tests/runner.py.

    python3 tests/boot/smp_halt.py KERNEL_ELF [QEMU]

The suites (tests/kernel/halt_test.c), each on 2 and 4 CPUs:

  halt_ap   an AP panics inside a cross-CPU call while the boot CPU waits
            on it with interrupts off (only an NMI stops it): the report is
            from cpu 1
  halt_all  every CPU panics at the same moment: one reports, the others
            halt without a word (run three times: the race goes either way)

Each boot must end with the failure status (the test kernel exits QEMU
after a panic), print exactly one `PANIC:` line and no nested one, and say
that every other CPU stopped.  A boot that hangs fails.
"""

import re
import sys

from boot_words import boot

FAIL = 35       # include/qemu.h: (0x11 << 1) | 1
STOPPED = re.compile(r"  on cpu (\d+); (\d+) of the (\d+) other CPUs stopped$")


def check(qemu, elf, suite, cpus, run):
    status, lines, cmd = boot(qemu, elf, f"test={suite}",
                              extra=["-smp", str(cpus), "-accel", "tcg,thread=multi"])
    panics = [l for l in lines if l.startswith("PANIC")]
    stopped = [m for l in lines if (m := STOPPED.match(l))]
    problems = []
    if status != FAIL:
        problems.append(f"QEMU status {status}, expected {FAIL}"
                        + (" (it hung)" if status is None else ""))
    if len(panics) != 1 or not panics[0].startswith("PANIC: "):
        problems.append(f"{len(panics)} PANIC lines, expected one: {panics}")
    if len(stopped) != 1:
        problems.append("no 'on cpu N; K of the K other CPUs stopped' line")
    else:
        cpu, halted, asked = (int(g) for g in stopped[0].groups())
        if asked != cpus - 1 or halted != asked:
            problems.append(f"cpu {cpu} stopped {halted} of {asked} others, expected "
                            f"{cpus - 1} of {cpus - 1}")
        if suite == "halt_ap" and cpu != 1:
            problems.append(f"the report is from cpu {cpu}, expected cpu 1")
    who = f" (cpu {stopped[0].group(1)} reported)" if stopped else ""
    desc = f"{suite} on {cpus} CPUs{f', run {run}' if run else ''}: one report{who}, " \
           f"every other CPU stopped, QEMU exited"
    return (not problems, desc, problems + [f"$ {cmd}"] + panics + [s.group(0) for s in stopped])


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    elf = sys.argv[1]
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-i386"
    results = []
    for cpus in (2, 4):
        results.append(check(qemu, elf, "halt_ap", cpus, 0))
        for run in (1, 2, 3):
            results.append(check(qemu, elf, "halt_all", cpus, run))
    print("TAP version 13")
    print(f"1..{len(results)}")
    failed = 0
    for n, (ok, desc, diag) in enumerate(results, 1):
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {n} {desc}")
        for d in diag:
            if not ok:
                print(f"# {d}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
