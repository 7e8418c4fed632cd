#!/usr/bin/env python3
"""Boots the kernel on CPU models old and new and checks each either runs or
says what it lacks (boot/cpu_check.c), and on machines with several CPUs or
without a local APIC, whose boot summary must say how many CPUs came online
(kernel/smp/smp.c) and which controller delivers the device interrupts
(kernel/smp/irq_routing.c).  Prints TAP for tests/runner.py.

    python3 tests/boot/cpu_models.py KERNEL_ELF [QEMU]

A CPU Tandem can run on boots with `test=boot` (one short kernel suite) and
must leave QEMU with the pass status; one it cannot must print the refusal
line naming exactly the features it lacks and leave with the fail status,
never reset or hang.  Without SEP the kernel must say it uses int 0x80 only.
"""

import subprocess
import sys

PASS, FAIL = 33, 35     # include/qemu.h: (0x10 << 1) | 1 and (0x11 << 1) | 1
REFUSAL = "Tandem cannot run on this CPU; it lacks:"

# QEMU's PC: 24 inputs, and the tick on the boot CPU's local APIC timer.
IOAPIC = "irqs: ioapic (24 inputs), timer: lapic"

# (QEMU machine arguments, the features named as missing, or None: it runs;
#  a text the boot summary must contain, or a list of them)
MODELS = [
    (["-M", "isapc"], ["CMOV", "TSC"], None),
    (["-cpu", "486"], ["CMOV", "TSC"], None),
    (["-cpu", "pentium"], ["CMOV"], None),
    (["-cpu", "pentium2"], None, ["int 0x80 and sysenter", IOAPIC]),
    (["-cpu", "pentium3,-sep"], None, "int 0x80 only (no sysenter)"),
    (["-cpu", "qemu32"], None, ["int 0x80 and sysenter", "umip off; smep off"]),
    # UMIP and SMEP on, and the boot suite's SMEP probe faults.
    (["-cpu", "max"], None, ["int 0x80 and sysenter", "umip on; smep on"]),
    # No local APIC: the PIC serves one CPU, as before bring-up existed.
    (["-cpu", "pentium3,-apic"], None,
     ["cpus: 1 online (no local APIC", "irqs: 8259 (no local APIC in use), timer: pit"]),
    # An APIC but no I/O APIC and no ACPI: the MP tables give the one CPU.
    (["-M", "isapc", "-cpu", "pentium3"], None,
     ["cpus: 1 online", "from the MP configuration table", "irqs: 8259 (no I/O APIC of the 1",
      "timer: pit"]),
    # Several CPUs, each on its own host thread: all of them started.
    (["-smp", "2", "-accel", "tcg,thread=multi"], None, ["cpus: 2 online", IOAPIC]),
    (["-smp", "4", "-accel", "tcg,thread=multi"], None, ["cpus: 4 online", IOAPIC]),
]
FEATURES = ["CPUID", "CMOV", "PSE", "TSC"]


def boot(qemu, kernel, machine):
    cmd = [qemu, *machine, "-m", "32M", "-no-reboot", "-display", "none", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", kernel, "-append", "test=boot"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60)
        return p.returncode, p.stdout, " ".join(cmd)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, " ".join(cmd)


def check(qemu, kernel, machine, missing, summary):
    status, out, cmd = boot(qemu, kernel, machine)
    lines = [l.strip() for l in out.splitlines()]
    refusal = next((l for l in lines if l.startswith(REFUSAL)), None)
    if missing is None:
        if status != PASS:
            return False, f"status {status}, expected {PASS} (pass); $ {cmd}"
        if refusal:
            return False, f"refused a CPU it can run on: {refusal}"
        for text in [summary] if isinstance(summary, str) else summary or []:
            if not any(text in l for l in lines):
                return False, f"boot summary lacks {text!r}"
        return True, "runs"
    if status != FAIL:
        return False, f"status {status}, expected {FAIL} (refused); $ {cmd}"
    if not refusal:
        return False, "no refusal line on the serial port"
    named = [f for f in FEATURES if f in refusal[len(REFUSAL):]]
    if named != missing:
        return False, f"named {named}, expected {missing}: {refusal}"
    return True, "refused: lacks " + " ".join(missing)


def main():
    kernel = sys.argv[1]
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-i386"
    print("TAP version 13")
    print(f"1..{len(MODELS)}")
    failed = 0
    for i, (machine, missing, summary) in enumerate(MODELS, 1):
        ok, why = check(qemu, kernel, machine, missing, summary)
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} {' '.join(machine)} # {why}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
