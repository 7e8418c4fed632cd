"""`tandem catch panic`: stop at a panic with its reason, before the kernel
prints anything.

Every panic goes through vpanic(fmt, ap) (kernel/panic.c: panic() calls it,
so do the trap layer's and the assertions'); at its first instruction the
format and the va_list are above the return address, and the message is
formatted here as the kernel will format it (tandem_gdb/kformat.py).  The
stop then names the thread and the code that panicked, and walks the
thread's stack down into the user program, as `tandem bt` does.
"""

import gdb

from . import catch
from . import kernel as k
from . import kformat

PANIC_SITE = "vpanic"


def message_at_entry():
    """(message, return address) at vpanic's first instruction."""
    esp = k.register("esp")
    ret, fmt_addr, ap = k.u32(esp), k.u32(esp + 4), k.u32(esp + 8)
    fmt = k.cstring(fmt_addr, 256) or ""
    args = kformat.Args(k.u32, lambda a: k.cstring(a, 256) or "", ap)
    try:
        return kformat.format_kernel(fmt, args), ret
    except gdb.MemoryError as e:
        return "%s (its arguments cannot be read: %s)" % (fmt, e), ret


def caller(ret):
    """The code that called panic(): past panic() itself when it was that."""
    if k.function_at(ret - 1) == "panic":      # panic() ends with the call: ask for ret - 1
        try:
            ebp = k.register("ebp")         # still panic()'s frame: vpanic has not made its own
            return k.u32(ebp + 4)
        except (gdb.error, gdb.MemoryError):
            return ret
    return ret


class PanicCatch(catch.CatchBreakpoint):
    kind = "panic"

    def report(self):
        text, ret = message_at_entry()
        from_pc = caller(ret)
        catch.say("\ntandem catch panic: PANIC: %s\n" % text)
        catch.say("  called from %s\n" % k.describe_pc(from_pc))
        try:
            view = k.View()
        except k.NotReady as e:
            catch.say("  (%s)\n" % e)
            return
        t = view.on_cpu or view.current
        if t is None:
            catch.say("  on a stack outside every block (esp %08x)\n" % view.cpu.esp)
            return
        catch.say("  in thread %d (%s), %s\n" % (
            t.tid, t.name, ("process " + t.process_text()) if t.user else "kernel thread"))
        from . import bt
        bt.show(view, t, write=catch.say, header=False)


def create(stop):
    if not catch.resolvable(PANIC_SITE):
        raise gdb.GdbError("tandem catch panic: no `%s` in the loaded kernel" % PANIC_SITE)
    return PanicCatch("*" + PANIC_SITE, stop)
