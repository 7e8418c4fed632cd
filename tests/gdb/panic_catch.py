"""`tandem catch panic` against what the kernel then prints: the message
on the serial port, and the caller of panic() from the stack."""

import re

from gdbtest import Fail, SERIAL, expect, expect_eq, go, nm_symbol, reg, run, test, u32


@test
def catch_panic_stops_with_the_reason():
    # After the collision made from GDB, the kernel panics (no recovery
    # point outside the suites).
    out = run("tandem catch panic")
    expect("Catchpoint" in out and "vpanic" in out, "no catchpoint:\n" + out)
    out = go()
    expect(nm_symbol(reg("eip")) == "vpanic", "not stopped in vpanic")
    m = re.search(r"^tandem catch panic: PANIC: (.*)$", out, re.M)
    expect(m, "no reason in:\n" + out)
    reason = m.group(1)
    # At vpanic's first instruction ebp is still panic()'s frame.
    panic_ret = u32(reg("esp"))
    expect_eq(nm_symbol(panic_ret - 1), "panic", "vpanic's caller")
    caller = nm_symbol(u32(reg("ebp") + 4) - 1)
    m = re.search(r"^  called from (\S+?)(?:\+0x[0-9a-f]+)? ", out, re.M)
    expect(m and m.group(1) == caller, "called from %r, the stack says %s" % (
        m.group(1) if m else None, caller))
    expect(re.search(r"^#0\s+[0-9a-f]{8} vpanic", out, re.M) and
           re.search(r"^#\d+\s+[0-9a-f]{8} %s" % caller, out, re.M),
           "no backtrace through vpanic and %s:\n%s" % (caller, out))
    # panic() ends with its call to vpanic: the return address lies past
    # its end, and is named by the call (pc - 1), as panic's.
    m = re.search(r"^#1\s+([0-9a-f]{8}) (\S+)", out, re.M)
    expect(m and int(m.group(1), 16) == panic_ret and m.group(2).startswith("panic+"),
           "vpanic's caller in the backtrace: %r (return address %08x)" % (
               m.group(0) if m else None, panic_ret))
    # The kernel prints the message, then a backtrace naming its frames.
    run("tbreak ksym_lookup")
    go()
    if not SERIAL:
        raise Fail("the driver gave no serial log path")
    printed = open(SERIAL, "rb").read().replace(b"\r", b"").decode("latin-1")
    m = re.search(r"^PANIC: (.*)$", printed, re.M)
    expect(m, "the kernel printed no PANIC line")
    expect_eq(reason, m.group(1), "the reason (against the kernel's own PANIC line)")
