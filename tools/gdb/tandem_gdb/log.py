"""`tandem log [LINES]`: the kernel's log ring (kernel/log.c).

Everything the console prints also goes to a ring of LOG_RING_SIZE bytes,
s_ring, with s_head counting every byte ever written: the ring holds the
last min(s_head, size) bytes, the oldest at s_head % size once it has
wrapped.  So the log can be read from GDB even when the serial console is
not connected, or after user space has taken the devices.
"""

import gdb

from . import args
from . import kernel as k


def ring():
    """(text bytes the ring holds, oldest first; bytes logged since boot;
    the ring's size)."""
    v = k.symbol_value("s_ring")
    size = v.type.sizeof
    start = int(v.address)
    head = int(k.symbol_value("s_head")) & 0xFFFFFFFF
    data = k.read(start, size)
    if head <= size:
        return data[:head], head, size
    cut = head % size
    return data[cut:] + data[:cut], head, size


def printable(raw):
    """The text as the console shows it: \\r dropped, other control bytes escaped."""
    out = []
    for b in raw:
        if b == 0x0D:
            continue
        if b in (0x0A, 0x09) or 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def run(arg, write=gdb.write):
    words = args.split(arg, "tandem log")
    if len(words) > 1:
        raise gdb.GdbError("tandem log: unexpected `%s` (usage: tandem log [LINES])" %
                           " ".join(words[1:]))
    lines = None
    if words:
        try:
            lines = int(words[0], 0)
        except ValueError:
            lines = -1
        if lines <= 0:
            raise gdb.GdbError("tandem log: LINES is a positive number, not `%s`" % words[0])
    k.stage_memory()
    raw, head, size = ring()
    lost = head - len(raw)
    text = printable(raw)
    if lost:
        # The oldest line is cut where the ring wrapped: start at a whole one.
        nl = text.find("\n")
        if nl >= 0:
            text = text[nl + 1:]
    shown = text.splitlines(True)
    if lines is not None:
        shown = shown[-lines:]
    write("tandem log: %d bytes logged since boot; the ring (%d B) holds the last %d%s\n" % (
        head, size, len(raw), ", the first %d were overwritten" % lost if lost else ""))
    body = "".join(shown)
    write(body)
    if body and not body.endswith("\n"):
        write("\n(the last line is still being written)\n")
