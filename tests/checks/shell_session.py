#!/usr/bin/env python3
"""A session with the system, typed on the serial line as a person would.

    python3 tests/checks/shell_session.py BUILD_DIR [QEMU]

Boots build/tandem.iso (the system: drivers, console, shell) with COM1 on
a pipe and checks, one TAP result each, that the shell's prompt comes up,
that commands run and answer, that line editing, history and Ctrl-C work,
that a line longer than the console's buffer, control characters and
binary garbage each get one error and leave the shell working (a 10 KiB
line among them), that keys pressed on the PS/2 keyboard (QEMU's monitor
`sendkey`) reach the shell through drv_kbd, that keytime echoes keys raw
and times them, that a killed driver and a
killed console are started again by init with the shell still there, that
top ends at a key, and that halt leaves the system idle.  Prints the exact QEMU command; the whole serial output is kept in
BUILD_DIR/test/shell-session.log.
"""

import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

WAIT = 30           # seconds for any one answer
PROMPT = b"tandem> "


def echoed(text):
    """What `echo TEXT` answers, not the echo of the line typed."""
    return rb"(?<!echo )" + re.escape(text) + rb"\r?\n"


class Session:
    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = b""
        self.pos = 0            # what expect has consumed

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.05)
            if ready:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    return
                self.out += data

    def expect(self, pattern):
        """Waits for a regular expression after what was consumed; returns the match."""
        end = time.time() + WAIT
        while True:
            m = re.compile(pattern).search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.time() > end or self.proc.poll() is not None:
                return None
            self.pump(0.1)

    def send(self, data, piece=8):
        # In small pieces, as typing does: the UART's FIFO holds 16 bytes
        # (QEMU holds the rest back while the FIFO is full, so a longer
        # piece loses nothing, it only comes faster than a typist).
        for i in range(0, len(data), piece):
            self.proc.stdin.write(data[i:i + piece])
            self.proc.stdin.flush()
            time.sleep(0.01)

    def command(self, line, answer):
        """Types a line and waits for the answer (a pattern); returns the match."""
        self.send(line + b"\r")
        return self.expect(answer)

    def sendkeys(self, monitor, keys):
        """Presses keys (QEMU key names) on the PS/2 keyboard, through the monitor."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as m:
            m.connect(monitor)
            for key in keys:
                m.sendall(b"sendkey " + key.encode() + b"\n")
                time.sleep(0.05)
            time.sleep(0.2)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    qemu = sys.argv[2] if len(sys.argv) > 2 else "qemu-system-i386"
    monitor = os.path.join(tempfile.mkdtemp(prefix="tandem-session-"), "monitor")
    cmd = [qemu, "-m", "128M", "-no-reboot", "-display", "none", "-serial", "stdio",
           "-monitor", "unix:%s,server,nowait" % monitor,
           "-cdrom", os.path.join(build, "tandem.iso")]
    print("TAP version 13")
    print("# $ " + " ".join(cmd))
    s = Session(cmd)
    results = []

    def check(name, ok, why=""):
        results.append((bool(ok), name, why))

    try:
        check("the shell's prompt comes up", s.expect(re.escape(PROMPT)), "no prompt")
        check("echo answers", s.command(b"echo hello there", echoed(b"hello there")))
        m = s.command(b"help", rb"halt +end the system")
        check("help lists the commands", m)
        check("run demo_ping runs the demo in the foreground",
              s.command(b"run demo_ping", rb"300 of 300 round trips correct"))
        check("backspace and Ctrl-U edit the line",
              s.command(b"ech\x7fho gone\x15echo ab\x08c", echoed(b"ac")))
        s.command(b"echo recalled", echoed(b"recalled"))
        check("Up recalls the last line", s.command(b"\x1b[A", echoed(b"recalled")))

        s.command(b"run demo_count 0", rb"count: 2")
        s.send(b"\x03")
        check("Ctrl-C kills the program run in the foreground",
              s.expect(rb"demo_count: killed"))
        s.expect(re.escape(PROMPT))

        check("a line past the console's buffer gets one error",
              s.command(b"x" * 300, rb"line too long") and
              s.command(b"echo after the long line", echoed(b"after the long line")))
        s.send(b"y" * 10240 + b"\r", piece=64)
        check("a 10 KiB line gets one error and the shell goes on",
              s.expect(rb"line too long") and
              s.command(b"echo after 10 KiB", echoed(b"after 10 KiB")))
        s.sendkeys(monitor, list("echo") + ["spc"] + list("kbd") + ["ret"])
        check("keys pressed on the PS/2 keyboard reach the shell", s.expect(echoed(b"kbd")))
        garbage = bytes(random.Random(14).randrange(256) for _ in range(3000))
        s.send(garbage)
        check("binary garbage leaves the shell working",
              s.command(b"\x03echo still here", echoed(b"still here")))
        s.send(b"keytime 2\r")
        typed = s.expect(rb"key> ")
        s.send(b"k")
        serial = typed and s.expect(rb"k (\d+)\r?\n")
        s.expect(rb"key> ")
        s.sendkeys(monitor, ["x"])
        ps2 = s.expect(rb"x (\d+)\r?\n")
        best = s.expect(rb"keytime: best (\d+) TSC ticks of 2 timed")
        check("keytime echoes a serial and a PS/2 key raw, each with its round trip",
              serial and ps2 and best and int(serial.group(1)) > 0 and int(ps2.group(1)) > 0 and
              int(best.group(1)) == min(int(serial.group(1)), int(ps2.group(1))))
        check("an unknown command gets one error",
              s.command(b"frobnicate", rb"unknown command 'frobnicate'"))

        m = s.command(b"kill", rb"(\d+) \(drv_uart\).*?(\d+) \(console\)")
        check("kill lists the system programs it may kill", m)
        if m:
            check("a killed drv_uart is started again and the shell answers",
                  s.command(b"kill " + m.group(1), rb"init supervises") and
                  s.command(b"echo uart is back", echoed(b"uart is back")))
            s.expect(re.escape(PROMPT))
            killed = s.command(b"kill " + m.group(2), rb"init supervises")
            s.pump(1)
            check("a killed console is started again and the shell answers",
                  killed and s.command(b"echo console is back", echoed(b"console is back")))
        check("ps lists every thread with its process",
              s.command(b"ps", rb"drv_vga +block +\d+ drv_vga"))
        s.expect(re.escape(PROMPT))
        s.send(b"top\r")
        started = s.expect(rb"KERNEL-STACK BLOCK")
        time.sleep(1.5)
        s.send(b"q")
        check("top shows the threads and ends at a key",
              started and s.command(b"echo top ended", echoed(b"top ended")))
        check("halt leaves the system idle",
              s.command(b"halt", rb"init exited with code 0; the system is idle"))
    finally:
        s.pump(0.5)
        s.close()
        shutil.rmtree(os.path.dirname(monitor), ignore_errors=True)
        os.makedirs(os.path.join(build, "test"), exist_ok=True)
        with open(os.path.join(build, "test", "shell-session.log"), "wb") as f:
            f.write(s.out)

    print("1..%d" % len(results))
    for n, (ok, name, why) in enumerate(results, 1):
        if not ok:
            print("# " + (why or "no answer; see the serial log"))
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
