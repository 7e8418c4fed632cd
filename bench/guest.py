#!/usr/bin/env python3
"""The guest half of `make bench`: instruction counts inside Tandem.

Boots a release test kernel (tandem-test.elf: only it has the benchmarks)
built for benchmarking with the boot word `bench`
under `qemu-system-i386 -icount shift=0,align=off`, where rdtsc advances
by one per guest instruction, so the figures are deterministic.  It boots
three times:  every figure comes from a one-CPU boot but the cross-CPU call's,
which comes from a two-CPU boot.  Under -icount QEMU runs the vCPUs in
turn on one host thread, each until its time slice ends, so a CPU that
waits for another (a spin on the big kernel lock) holds the machine for
the rest of its slice: figures that cross CPUs any other way would
measure QEMU's slices, not Tandem.  A third boot, with the word
`bench=cpus`, on four CPUs under multi-threaded TCG (each vCPU a host
thread) and without -icount, gives
the throughput figures (kernel/bench_scaling.c): wall clock, in TSC ticks
that follow the host's clock, as a multiple of one CPU's in the same boot;
how far they can go is bounded by the host's cores.  The kernel
(kernel/bench.c) and the user program `bench` (user/bench.c) print lines

    BENCH <tab> benchmark <tab> implementation <tab> unit <tab> value

which become rows of build/bench/guest.tsv (benchmark, implementation,
unit, value).  Each value is already the best of several runs; one boot
gives the same numbers every time.

A second boot, of the system itself (tandem.elf with init, the drivers,
the console and the shell; without GRUB, whose menu crawls under
-icount), times a key's round
trip through the drivers, the console and the shell: the shell's
`keytime` command, with keys typed on the serial line.  Its figure is the
best of several keys, each stamped by the drivers as it arrives and as its
echo leaves (user/shell/keytime.c), so the host's timing does not enter it.

usage: bench/guest.py BUILD_DIR OUT.tsv
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "checks"))
from shell_session import PROMPT, Session  # noqa: E402  (typing on the serial line)

KEYS = 7
SYSTEM = ("init", "drv_uart", "drv_kbd", "drv_vga", "console", "shell")
ICOUNT = ["-icount", "shift=0,align=off"]


def key_round_trip(build):
    """The keytime row: (benchmark, implementation, unit, value), or exits."""
    modules = ",".join(f"{build}/user/bin/{m} {m}" for m in SYSTEM)
    cmd = ["qemu-system-i386", "-m", "128M", *ICOUNT, "-no-reboot", "-display", "none",
           "-serial", "stdio", "-kernel", f"{build}/tandem.elf", "-initrd", modules]
    print("key round trip:", " ".join(cmd))
    s = Session(cmd)
    try:
        best = None
        if s.expect(re.escape(PROMPT)):
            s.send(b"keytime %d\r" % KEYS)
            for i in range(KEYS):
                if not s.expect(rb"key> "):
                    break
                s.send(b"abcdefghij"[i:i + 1])
            best = s.expect(rb"keytime: best (\d+) TSC ticks of %d timed" % KEYS)
    finally:
        s.close()
    if not best:
        sys.stderr.write(s.out[-3000:].decode(errors="replace"))
        sys.exit("key round trip: keytime did not answer")
    return ("key round trip (uart -> console -> shell -> uart)", "drv_uart + console + shell",
            "instructions", best.group(1).decode())


CROSS_CPU = "xcall"      # the implementation column of the rows the two-CPU boot gives
SCALING = "throughput on "  # how the rows of the multi-threaded boot begin
SCALING_CPUS = 4
MULTI_THREADED = ["-accel", "tcg,thread=multi"]


def is_scaling(row):
    return row[0].startswith(SCALING)


def bench_boot(build, cpus, clock=ICOUNT, word="bench"):
    """The BENCH rows of one boot of the benchmark kernel on cpus CPUs."""
    modules = ",".join(f"{build}/user/bin/{m} {m}" for m in ("bench", "ipc_echo"))
    cmd = ["qemu-system-i386", "-m", "256M", "-smp", str(cpus), *clock,
           "-kernel", f"{build}/tandem-test.elf", "-append", word, "-initrd", modules,
           "-serial", "stdio", "-display", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    print("guest benchmarks:", " ".join(f"'{c}'" if " " in c else c for c in cmd))
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace", timeout=300)
    rows = []
    for line in run.stdout.splitlines():
        line = line.rstrip("\r")
        if line.startswith("BENCH\t"):
            _, bench, impl, unit, value = line.split("\t")
            rows.append((bench, impl, unit, value))
        elif line.startswith("BENCH-"):
            print("  " + line.replace("\t", " "))
    if run.returncode != 33 or not rows:
        sys.stderr.write(run.stdout[-3000:])
        sys.exit(f"guest benchmarks failed (QEMU status {run.returncode})")
    return rows


def main():
    build, out = sys.argv[1], sys.argv[2]
    rows = [r for r in bench_boot(build, 1) if r[1] != CROSS_CPU]
    cross = [r for r in bench_boot(build, 2) if r[1] == CROSS_CPU]
    if not cross:
        sys.exit("guest benchmarks: the two-CPU boot gave no cross-CPU call figure")
    scaling = [r for r in bench_boot(build, SCALING_CPUS, MULTI_THREADED, "bench=cpus")
               if is_scaling(r)]
    if not scaling:
        sys.exit("guest benchmarks: the multi-threaded boot gave no scaling figures")
    print(f"  scaling measured with {SCALING_CPUS} vCPUs on {os.cpu_count()} host CPUs")
    rows += cross + scaling
    rows.append(key_round_trip(build))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write("benchmark\timplementation\tunit\tvalue\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"  {len(rows)} guest figures -> {out}")


if __name__ == "__main__":
    main()
