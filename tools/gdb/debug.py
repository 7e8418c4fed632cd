#!/usr/bin/env python3
"""`make debug` and `make debug-server`: Tandem in QEMU under GDB.

    python3 tools/gdb/debug.py [--server] [--iso ISO] [--elf ELF] [--qemu QEMU]
                               [--mem SIZE] [--gui]

Boots ISO in QEMU stopped at its first instruction (-S), with the GDB stub
on a free local port.  Without --server it then starts GDB attached, with
ELF loaded and the helpers sourced (tools/gdb/tandem.py); QEMU runs in a
session of its own, so Ctrl-C in GDB interrupts the kernel rather than
killing QEMU, and it is ended when GDB exits.  The serial console appears
on the terminal and in build/debug/serial.log.

With --server it prints the GDB command that attaches and runs QEMU in the
foreground with the serial console on the terminal (Ctrl-A X quits).

QEMU keeps the machine after a triple fault or a guest reset
(-no-shutdown -no-reboot), so a crash can still be inspected.
"""

import argparse
import os
import shlex
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def gdb_command(elf, port):
    return ["gdb", "-q", "-ex", "file %s" % elf, "-ex", "target remote 127.0.0.1:%d" % port,
            "-x", os.path.relpath(os.path.join(HERE, "tandem.py"))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", action="store_true", help="only QEMU; print the GDB command")
    ap.add_argument("--iso", default="build/tandem.iso")
    ap.add_argument("--elf", default="build/tandem.elf")
    ap.add_argument("--qemu", default="qemu-system-i386")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--gui", action="store_true", help="open QEMU's VGA window")
    ap.add_argument("--log-dir", default="build/debug")
    args = ap.parse_args()
    for path in (args.iso, args.elf):
        if not os.path.exists(path):
            sys.exit("debug: %s is missing: run `make iso`" % path)

    port = free_port()
    qemu = shlex.split(args.qemu) + [
        "-m", args.mem, "-no-reboot", "-no-shutdown",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-cdrom", args.iso, "-S", "-gdb", "tcp:127.0.0.1:%d" % port]
    if not args.gui:
        qemu += ["-display", "none"]
    attach = " ".join(shlex.quote(a) for a in gdb_command(args.elf, port))

    if args.server:
        qemu += ["-serial", "mon:stdio"]
        print("QEMU is stopped at the first instruction, GDB stub on 127.0.0.1:%d." % port)
        print("Attach from another terminal (in %s) with:\n\n    %s\n" % (os.getcwd(), attach))
        print("Then e.g. `break kmain`, `continue`, `tandem threads`.  Quit QEMU with Ctrl-A X.")
        sys.stdout.flush()
        os.execvp(qemu[0], qemu)

    os.makedirs(args.log_dir, exist_ok=True)
    serial_log = os.path.join(args.log_dir, "serial.log")
    qemu += ["-chardev", "stdio,id=console,signal=off,logfile=%s" % serial_log,
             "-serial", "chardev:console", "-monitor", "none"]
    # A session of its own: the terminal's Ctrl-C goes to GDB, not to QEMU.
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_for_port(port, proc):
            sys.exit("debug: QEMU did not open its GDB port (%s)" % " ".join(qemu))
        print("QEMU (pid %d) stopped at the first instruction, GDB stub on 127.0.0.1:%d; "
              "serial console here and in %s." % (proc.pid, port, serial_log))
        print("Try: break kmain, continue, tandem threads, tandem block, help tandem.")
        sys.stdout.flush()
        return subprocess.call(gdb_command(args.elf, port))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
