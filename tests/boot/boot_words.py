#!/usr/bin/env python3
"""Boots the kernel with `-kernel` and the boot words of README that the
other jobs of `make test` do not use, and checks what each must do.
Prints TAP for tests/runner.py.

    python3 tests/boot/boot_words.py BUILD K4096_BUILD [QEMU]

BUILD is the default build's directory (BUILD/tandem-test.elf, BUILD/user/bin), K4096_BUILD
that of the 4096-byte-block build.  The checks:

  long      a 300-byte command line ending in `test`, no modules: the word
            past the cut still runs the tests, the boot summary says the
            line was cut, and the user tests are reported skipped (the
            SKIP line is repeated here, so the runner counts and shows it)
  unknown   `test=nosuch`: the suites are listed, the run fails
  strict4k  `kfast=strict` on 4 KiB blocks: refused with its reason, and the
            kernel runs as usual
  bench     `bench` with the bench module: the results parse, BENCH-END
  fuzz      `test fuzz_seed=... fuzz_calls=...` (what `make fuzz SEED=...
            CALLS=... FUZZ_BOOT=...` passes): the syscall fuzzer uses them
  noioapic  `test noioapic` on two CPUs, every user program as a module: the
            boot summary says the 8259 delivers and the PIT ticks, and every
            test passes so (the drivers' interrupts included)

The other words have jobs of their own: `test` (every kernel job),
`test=SUITE` (cpu-models), `kfast=strict` (kernel-kfast-strict).
"""

import os
import re
import subprocess
import sys

PASS, FAIL = 33, 35     # include/qemu.h: (0x10 << 1) | 1 and (0x11 << 1) | 1
SKIP_REASON = "no boot modules: boot the ISO, or pass the user programs with -initrd"


def boot(qemu, elf, append, modules=(), timeout=60, extra=()):
    """(QEMU's status or None if it hung, the serial lines, the command);
    extra: more QEMU options (tests/boot/smp_halt.py's CPUs)."""
    cmd = [qemu, "-m", "128M", "-no-reboot", "-display", "none", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf,
           "-append", append] + list(extra)
    if modules:
        cmd += ["-initrd", ",".join(modules)]
    shown = " ".join(f"'{c}'" if " " in c else c for c in cmd)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
        return p.returncode, p.stdout.splitlines(), shown
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out.splitlines(), shown


def padded(tail, length):
    """A command line of exactly `length` bytes (QEMU puts the kernel's path
    and a space before it) that ends in tail."""
    pad = length - len(tail)
    words = ("pad%04d" % i for i in range(1000))
    s = ""
    while len(s) < pad:
        s += next(words) + " "
    return (s[:pad - 1] + " " if pad > 0 else "") + tail


def check_long(qemu, build):
    elf = os.path.join(build, "tandem-test.elf")
    # QEMU gives the kernel "ELF-PATH APPEND": 300 bytes in all.
    append = padded("test", 300 - len(elf) - 1)
    status, lines, cmd = boot(qemu, elf, append)
    out = []
    out.append((status == PASS, f"300-byte command line ending in `test`: the tests ran and "
                f"passed (status {status}, expected {PASS})", [f"$ {cmd}"]))
    cut = [l.strip() for l in lines if l.strip().startswith("command line cut:")]
    out.append((bool(cut) and "300 bytes long" in cut[0] and "first 255" in cut[0],
                "the boot summary says the command line was cut: "
                + (cut[0] if cut else "no 'command line cut:' line"), []))
    plan = next((int(m.group(1)) for l in lines if (m := re.fullmatch(r"1\.\.(\d+)", l))), None)
    skip_re = re.compile(r"ok (\d+) user_tests # SKIP (.*)$")
    skip = next((m for l in lines if (m := skip_re.fullmatch(l))), None)
    ok = skip is not None and plan == int(skip.group(1)) and skip.group(2) == SKIP_REASON
    out.append((ok, f"no modules: the plan (1..{plan}) ends with the skipped user tests"
                + (f" (ok {skip.group(1)})" if skip else ": no 'ok N user_tests # SKIP' line"), []))
    # Repeated as a SKIP result of this document, so that the runner counts
    # it and `make test` shows the reason.
    out.append(("skip", "user_tests", [skip.group(2) if skip else "(missing)"]))
    return out


def check_unknown(qemu, build):
    status, lines, cmd = boot(qemu, os.path.join(build, "tandem-test.elf"), "test=nosuch")
    listing = next((l for l in lines if l.startswith("# unknown suite 'nosuch'; the suites are:")), "")
    ok = status == FAIL and " kfast" in listing and " boot" in listing
    return [(ok, f"test=nosuch: the suites are listed and the run fails (status {status}, "
             f"expected {FAIL})", [listing or "no listing", f"$ {cmd}"])]


def check_strict4k(qemu, build4k):
    status, lines, cmd = boot(qemu, os.path.join(build4k, "tandem-test.elf"), "test=boot kfast=strict")
    refused = next((l.strip() for l in lines if "kfast=strict refused:" in l), "")
    banner = next((l for l in lines if l.startswith("Tandem: a 32-bit")), "")
    ok = (status == PASS and "4096-byte block has no page" in refused
          and "spilling to the heap" in banner)
    return [(ok, f"kfast=strict on 4096-byte blocks: refused with its reason, the kernel runs "
             f"(status {status})", [refused or "no refusal line", banner, f"$ {cmd}"])]


def check_bench(qemu, build):
    elf = os.path.join(build, "tandem-test.elf")
    status, lines, cmd = boot(qemu, elf, "bench", [os.path.join(build, "user", "bin", "bench")])
    rows = [l.split("\t") for l in lines if l.startswith("BENCH\t")]
    bad = [r for r in rows if len(r) != 5 or not re.fullmatch(r"[0-9.]+", r[4])]
    begins = [l for l in lines if l.startswith("BENCH-BEGIN")]
    ok = status == PASS and len(rows) >= 10 and not bad and len(begins) == 2 and "BENCH-END" in lines
    return [(ok, f"bench: {len(rows)} results from the kernel and the bench module, BENCH-END "
             f"(status {status})", [f"malformed: {bad[0]}" if bad else "", f"$ {cmd}"])]


def check_fuzz(qemu, build):
    bindir = os.path.join(build, "user", "bin")
    mods = [os.path.join(bindir, m) for m in ("init", "exc_child", "fault_child", "fuzz_peer", "test_fuzz")]
    status, lines, cmd = boot(qemu, os.path.join(build, "tandem-test.elf"),
                              "test fuzz_seed=0x5EED fuzz_calls=300", mods)
    used = next((l.strip() for l in lines if "fuzz_seed=0x5eed fuzz_calls=300 " in l), "")
    ok = status == PASS and bool(used)
    return [(ok, f"fuzz_seed= and fuzz_calls= reach the syscall fuzzer (status {status})",
             [used or "no line naming fuzz_seed=0x5eed fuzz_calls=300", f"$ {cmd}"])]


def check_noioapic(qemu, build):
    bindir = os.path.join(build, "user", "bin")
    names = sorted(os.listdir(bindir))
    mods = [os.path.join(bindir, m) for m in ["init"] + [n for n in names if n != "init"]]
    status, lines, cmd = boot(qemu, os.path.join(build, "tandem-test.elf"), "test noioapic", mods,
                              timeout=400, extra=["-smp", "2", "-accel", "tcg,thread=multi"])
    irqs = next((l.strip() for l in lines if l.strip().startswith("irqs:")), "")
    failed = [l for l in lines if l.startswith("not ok")]
    ok = status == PASS and irqs == "irqs: 8259 (noioapic on the command line), timer: pit"
    return [(ok, f"noioapic: the 8259 delivers, the PIT ticks, every test passes (status {status})",
             [irqs or "no 'irqs:' line"] + failed + [f"$ {cmd}"])]


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    build, build4k = sys.argv[1], sys.argv[2]
    qemu = sys.argv[3] if len(sys.argv) > 3 else "qemu-system-i386"
    results = []
    for check in (lambda: check_long(qemu, build), lambda: check_unknown(qemu, build),
                  lambda: check_strict4k(qemu, build4k), lambda: check_bench(qemu, build),
                  lambda: check_fuzz(qemu, build), lambda: check_noioapic(qemu, build)):
        results += check()
    print("TAP version 13")
    print(f"1..{len(results)}")
    failed = 0
    for n, (ok, desc, diag) in enumerate(results, 1):
        if ok == "skip":
            print(f"ok {n} {desc} # SKIP {diag[0]}")
            continue
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {n} {desc}")
        for d in diag:
            if d and not ok:
                print(f"# {d}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
