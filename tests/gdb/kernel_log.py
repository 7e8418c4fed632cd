"""`tandem log` against what the kernel printed on its serial port (the
file QEMU wrote) and against the ring's raw bytes, also with the ring
made to look wrapped."""

import re

import gdb

from gdbtest import Fail, SERIAL, expect, expect_eq, run, test, val


def body(out):
    """The log text `tandem log` printed (after its first line)."""
    first, _, rest = out.partition("\n")
    expect(first.startswith("tandem log: "), "no header line:\n" + out)
    return first, rest


def serial_text():
    if not SERIAL:
        raise Fail("the driver gave no serial log path")
    with open(SERIAL, "rb") as f:
        return f.read().replace(b"\r", b"").decode("latin-1")


def ring_bytes():
    size = val("sizeof(s_ring)")
    raw = bytes(gdb.selected_inferior().read_memory(val("(unsigned)&s_ring"), size))
    return raw, size


@test
def log_readable_before_threads():
    # At kmain, before thread_init_boot: the other commands wait for the
    # threads, the log is there from the first byte (nothing yet, here).
    first, text = body(run("tandem log"))
    expect_eq(first, "tandem log: %d bytes logged since boot; the ring (%d B) holds the last %d"
              % (val("s_head"), val("sizeof(s_ring)"), val("s_head")), "header")
    expect(serial_text().startswith(text), "the log is not what the serial port printed so "
           "far:\n%s" % text[-400:])


@test
def log_matches_serial():
    head = val("s_head")
    first, text = body(run("tandem log"))
    expect_eq(first, "tandem log: %d bytes logged since boot; the ring (%d B) holds the last %d"
              % (head, val("sizeof(s_ring)"), head), "header")
    serial = serial_text()
    expect_eq(len(text), head, "bytes shown (s_head)")
    expect_eq(text, serial[:len(text)], "the log against the serial port's text")
    lines = run("tandem log 3").split("\n", 1)[1]
    expect_eq(lines, "".join(text.splitlines(True)[-3:]), "`tandem log 3`")


@test
def log_ring_wrap():
    # s_head moved on by more than the ring holds: the helpers must show the
    # ring from s_head % size, dropping the cut first line.
    head = val("s_head")
    raw, size = ring_bytes()
    fake = head + 2 * size + 123
    gdb.execute("set var s_head = %d" % fake, to_string=True)
    try:
        first, text = body(run("tandem log"))
        last2 = run("tandem log 2").split("\n", 1)[1]
    finally:
        gdb.execute("set var s_head = %d" % head, to_string=True)
    expect_eq(val("s_head"), head, "s_head put back")
    cut = fake % size
    ring = (raw[cut:] + raw[:cut]).replace(b"\r", b"")
    want = ring[ring.index(b"\n") + 1:].decode("latin-1")
    want = "".join(c if c in "\n\t" or " " <= c < "\x7f" else "\\x%02x" % ord(c) for c in want)
    expect_eq(first, "tandem log: %d bytes logged since boot; the ring (%d B) holds the last %d, "
              "the first %d were overwritten" % (fake, size, size, fake - size), "header")
    expect_eq(text.rstrip("\n").split("\n(the last line")[0], want.rstrip("\n"), "wrapped text")
    expect_eq(last2.split("\n(the last line")[0].splitlines()[-1], want.rstrip("\n").splitlines()[-1],
              "`tandem log 2`'s last line")
