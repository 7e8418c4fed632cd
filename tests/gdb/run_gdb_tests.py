#!/usr/bin/env python3
"""Runs the GDB helper tests and prints TAP.

    python3 tests/gdb/run_gdb_tests.py [--build DIR] [--timeout SECONDS] [SCENARIO...]

For each scenario of tests/gdb/plan.py: boots the kernel in QEMU stopped at
its first instruction (-S) with the GDB stub on a free local port - with
every user program as a module, init first, or the scenario's own programs
(plan.MODULES) - and runs
    gdb -batch -nx -x tools/gdb/tandem.py -x tests/gdb/scenarios.py
against it - the helpers loaded through their one loader file, as a user
loads them.  The kernel and the user programs are copied first, so a
rebuild meanwhile cannot give GDB and QEMU different images.  The plan is
printed before anything runs: a scenario that hangs or dies reports each
of its missing tests as failed.  Logs (GDB's output, the serial console)
are kept in BUILD/test/gdb/.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "gdb"))
from plan import MODULES, QEMU_ARGS, SCENARIOS  # noqa: E402
from debug import free_port, wait_for_port  # noqa: E402  (the launcher's own helpers)

QEMU = os.environ.get("QEMU", "qemu-system-i386")
GDB = os.environ.get("GDB", "gdb")


def snapshot(build, into):
    """Copies the kernel and the user programs; returns (elf, user bin dir,
    the programs in module order)."""
    # The test kernel: the kfast scenario boots its suites (test=kfast).
    elf = os.path.join(into, "tandem-test.elf")
    shutil.copy2(os.path.join(build, "tandem-test.elf"), elf)
    # The programs in a user bin directory beside the kernel, as in the build: the helpers find the
    # programs there without being told (set tandem-user-bin).
    src = os.path.join(build, "user", "bin")
    dst = os.path.join(into, "user", "bin")
    shutil.copytree(src, dst)
    names = sorted(os.listdir(dst))
    # init is module 0 (the Makefile's order for the ISO).
    order = [n for n in names if n == "init"] + [n for n in names if n != "init"]
    return elf, dst, order


def module_list(scenario, user_bin, programs):
    """QEMU's -initrd for a scenario: its own programs (plan.MODULES), or
    every program with init first."""
    names = MODULES.get(scenario, programs)
    for n in names:
        if not os.path.exists(os.path.join(user_bin, n)):
            raise OSError("no program %s in %s" % (n, user_bin))
    return ",".join("%s %s" % (os.path.join(user_bin, n), n) for n in names)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_scenario(name, elf, user_bin, modules, log_dir, timeout):
    """Returns {test: (ok, text)} for the tests that reported, and a reason
    for the others."""
    cmdline, tests = SCENARIOS[name]
    port = free_port()
    serial = os.path.join(log_dir, "%s.serial.log" % name)
    qemu_cmd = [QEMU, "-m", os.environ.get("QEMU_MEM", "128M"), "-no-reboot", "-display", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-serial", "file:%s" % serial, "-monitor", "none",
                "-kernel", elf, "-append", cmdline, "-initrd", modules,
                "-S", "-gdb", "tcp:127.0.0.1:%d" % port] + QEMU_ARGS.get(name, [])
    gdb_cmd = [GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off",
               "-ex", "file %s" % elf, "-ex", "target remote 127.0.0.1:%d" % port,
               "-x", os.path.join(ROOT, "tools", "gdb", "tandem.py"),
               "-x", os.path.join(HERE, "scenarios.py")]
    env = dict(os.environ, TANDEM_GDB_SCENARIO=name, TANDEM_GDB_ELF=elf,
               TANDEM_GDB_USER_BIN=user_bin, TANDEM_GDB_SERIAL=serial,
               LC_ALL="C.UTF-8", LANG="C.UTF-8")
    with open(os.path.join(log_dir, "%s.commands" % name), "w") as f:
        f.write(" ".join("'%s'" % a if " " in a else a for a in qemu_cmd) + "\n")
        f.write(" ".join("'%s'" % a if " " in a else a for a in gdb_cmd) + "\n")
    qemu = subprocess.Popen(qemu_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(log_dir, "%s.qemu.log" % name), "w"),
                            start_new_session=True)
    results = {}
    why = "gdb printed no result"
    try:
        if not wait_for_port(port, qemu):
            return results, "QEMU did not open its GDB port %d (see %s.qemu.log)" % (port, name)
        gdb_log = os.path.join(log_dir, "%s.gdb.log" % name)
        with open(gdb_log, "w") as log:
            gdbp = subprocess.Popen(gdb_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
                                    start_new_session=True)
            try:
                out, _ = gdbp.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop(gdbp)
                out, _ = gdbp.communicate()
                why = "timed out after %d s" % timeout
            log.write(out or "")
        for line in (out or "").splitlines():
            if line.startswith("@@TAP "):
                body = line[len("@@TAP "):]
                ok = body.startswith("ok ")
                rest = body[3:] if ok else body[len("not ok "):]
                test, _, comment = rest.partition(" # ")
                results[test.strip()] = (ok, comment)
        if not results and gdbp.returncode not in (0, None):
            why = "gdb exited with status %s (see %s)" % (gdbp.returncode, gdb_log)
        return results, why
    finally:
        stop(qemu)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--timeout", type=int, default=150, help="seconds per scenario")
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = ap.parse_args()
    for s in args.scenarios:
        if s not in SCENARIOS:
            ap.error("unknown scenario %s (have: %s)" % (s, ", ".join(SCENARIOS)))

    total = sum(len(SCENARIOS[s][1]) for s in args.scenarios)
    print("TAP version 13")
    print("1..%d" % total)
    sys.stdout.flush()
    log_dir = os.path.join(args.build, "test", "gdb")
    os.makedirs(log_dir, exist_ok=True)
    n = failed = 0
    with tempfile.TemporaryDirectory(prefix="tandem-gdb-") as tmp:
        try:
            elf, user_bin, programs = snapshot(args.build, tmp)
        except OSError as e:
            elf = None
            missing = "build output missing (%s): run make all" % e
        for s in args.scenarios:
            results, why = {}, None if elf else missing
            if elf:
                try:
                    modules = module_list(s, user_bin, programs)
                except OSError as e:
                    why = "build output missing (%s): run make all" % e
            if why is None:
                print("# scenario %s: kernel command line %r" % (s, SCENARIOS[s][0]))
                sys.stdout.flush()
                results, why = run_scenario(s, elf, user_bin, modules, log_dir, args.timeout)
            for test in SCENARIOS[s][1]:
                n += 1
                if test in results:
                    ok, comment = results[test]
                    print("%s %d %s%s" % ("ok" if ok else "not ok", n, test,
                                          " # " + comment if comment else ""))
                    failed += not ok
                else:
                    print("not ok %d %s # no result: %s" % (n, test, why))
                    failed += 1
                sys.stdout.flush()
            if any(not r[0] for r in results.values()) or len(results) < len(SCENARIOS[s][1]):
                print("# logs: %s/%s.gdb.log, %s.serial.log" % (log_dir, s, s))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
