#!/usr/bin/env python3
"""The kernel without tests (build/tandem.elf) has none, and says so.

    python3 tests/checks/no_tests.py BUILD_DIR [QEMU]

Prints TAP for tests/runner.py.  The suites (tests/kernel/) and the
benchmarks (kernel/bench.c) are linked into build/tandem-test.elf only (the
Makefile's KERNEL_TEST_C); build/tandem.elf links kernel/no_tests.c in their
place.  Checked: the symbols of each kernel, and that build/tandem.elf booted
with `test`, `test=SUITE` or `bench` leaves QEMU with the fail status and one
line saying why - never a pass.
"""

import subprocess
import sys

FAIL = 35               # include/qemu.h: (0x11 << 1) | 1
# Symbols only the suites and the benchmarks define.
TEST_SYMBOLS = ("ktest_check_int", "ktest_check_mem", "bench_kfast", "bench_arena_thread")


def symbols(elf):
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    return {l.split()[-1]: l.split()[0] for l in out.splitlines() if len(l.split()) >= 2}


def boot(qemu, elf, words):
    cmd = [qemu, "-m", "32M", "-no-reboot", "-display", "none", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf, "-append", words]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60)
        return p.returncode, p.stdout, " ".join(cmd)
    except subprocess.TimeoutExpired:
        return None, "", " ".join(cmd)


def main():
    build = sys.argv[1]
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-i386"
    plain, test = f"{build}/tandem.elf", f"{build}/tandem-test.elf"
    results = []

    s_plain, s_test = symbols(plain), symbols(test)
    present = [s for s in TEST_SYMBOLS if s in s_plain]
    empty = s_plain.get("__ktests_start") == s_plain.get("__ktests_end")
    results.append((not present and empty, f"{plain} has no tests or benchmarks",
                    f"it has {', '.join(present) or 'a non-empty .ktests'}"))
    missing = [s for s in TEST_SYMBOLS if s not in s_test]
    results.append((not missing and s_test.get("__ktests_start") != s_test.get("__ktests_end"),
                    f"{test} has the tests and the benchmarks", f"it lacks {', '.join(missing)}"))

    for words, says in (("test", "built without tests"), ("test=boot", "built without tests"),
                        ("bench", "built without benchmarks")):
        status, out, cmd = boot(qemu, plain, words)
        said = [l.strip() for l in out.splitlines() if says in l]
        ok = status == FAIL and len(said) == 1
        results.append((ok, f"{plain} booted with '{words}' fails and says it was {says}",
                        f"QEMU status {status} (want {FAIL}), {len(said)} lines say so; $ {cmd}"))

    print("TAP version 13")
    print(f"1..{len(results)}")
    for n, (ok, name, why) in enumerate(results, 1):
        if not ok:
            print(f"# {why}")
        print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
