"""What the helpers saw of threads that have ended.

The reaper frees a dead thread's control block, so the kernel keeps nothing
that says when a thread ended; a tid that is gone would only be "no thread
with tid 6".  A breakpoint GDB keeps to itself (internal: not listed, not
deleted by `delete`) on thread_exit notes each thread as it ends - tid,
name, process, exit code and the timer tick - and lets the kernel run on.
A thread that ended before the helpers were loaded is still known to have
existed (tids are handed out in order) and, if it was the first thread of
a process, by its process's record.
"""

import gdb

from . import kernel as k

EXIT_SITE = "thread_exit"
TICK_HZ = 100           # include/uapi/syscall.h (tests/gdb checks it)

# tid -> Ended, for the kernel that is loaded now.
_ended = {}


class Ended:
    def __init__(self, tid, name, process, code, tick):
        self.tid, self.name, self.process, self.code, self.tick = tid, name, process, code, tick

    def text(self, now):
        when = "at tick %d" % self.tick if self.tick is not None else "at an unknown tick"
        if self.tick is not None and now is not None:
            when += " (%.2f s after boot, %.2f s ago)" % (self.tick / TICK_HZ,
                                                         (now - self.tick) / TICK_HZ)
        return "thread %d (%s%s) exited %s with code %d" % (
            self.tid, self.name, ", process %s" % self.process if self.process else "", when,
            self.code)


def ticks():
    """The timer's tick count (kernel/timer.c), or None."""
    try:
        return int(k.symbol_value("s_ticks")) & 0xFFFFFFFF
    except (k.NotReady, gdb.error):
        return None


class ExitWatch(gdb.Breakpoint):
    """Notes every thread_exit; never stops."""

    def __init__(self):
        super().__init__(EXIT_SITE, gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self):
        try:
            t = k.Thread(k.current_address())
            code = k.u32(k.register("esp") + 4)
            code = code - (1 << 32) if code & 0x80000000 else code
            p = t.process()
            _ended[t.tid] = Ended(t.tid, t.name, "%d %s" % p if p else None, code, ticks())
        except (k.NotReady, gdb.error, gdb.MemoryError):
            pass            # a thread the helpers cannot read: nothing to note
        return False


_watch = None


def _arm(event=None):
    """(Re)places the breakpoint once a kernel with thread_exit is loaded;
    a new kernel starts a new history (a user program's symbols, loaded
    beside the kernel at every stop, do not)."""
    global _watch
    if event is not None:
        prog = gdb.current_progspace().filename if gdb.current_progspace() else None
        if getattr(event.new_objfile, "filename", None) != prog:
            return
    _ended.clear()
    if _watch is not None and _watch.is_valid():
        return
    try:
        if gdb.lookup_global_symbol(EXIT_SITE) is None:
            return
        _watch = ExitWatch()
    except (gdb.error, RuntimeError):
        _watch = None


def register():
    _arm()
    gdb.events.new_objfile.connect(_arm)


def unregister():
    """For a reload of the helpers: the old breakpoint goes with them."""
    global _watch
    try:
        gdb.events.new_objfile.disconnect(_arm)
    except (ValueError, RuntimeError):
        pass
    if _watch is not None and _watch.is_valid():
        _watch.delete()
    _watch = None


def next_tid():
    try:
        return int(k.symbol_value("s_next_tid"))
    except (k.NotReady, gdb.error):
        return None


def gone(tid):
    """One line on a thread that is no longer on g_all_threads, or None if
    there never was a thread tid."""
    seen = _ended.get(tid)
    if seen is not None:
        return seen.text(ticks()) + "; the reaper has freed it"
    limit = next_tid()
    if limit is not None and not (0 < tid < limit):
        return None
    text = "thread %d has ended and been reaped (the helpers did not see it end)" % tid
    try:
        from . import caps
        p = next((p for p in caps.all_processes() if p.pid == tid), None)
        if p is not None:
            text += "; it was the first thread of process %s, %s" % (p.text(), p.state())
    except (k.NotReady, k.Damaged, gdb.error):
        pass
    return text


def gone_named(name):
    """Lines on the ended threads called name that the helpers saw."""
    return [e.text(ticks()) for e in _ended.values() if e.name == name]
