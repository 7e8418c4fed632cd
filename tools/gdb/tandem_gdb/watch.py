"""`tandem watch canary [TID]`: a hardware watchpoint on a thread's arena
canary, so that the stray write itself stops the machine - not the check
that finds the damage later (a context switch, the exit path, a release).

The canary is the word at the arena top, and the top moves with every
allocation and reset.  The watched expression is the top (in g_kfast while
the thread runs, in its struct kfast_arena otherwise) together with the
word it points to:

    ((unsigned long long)TOP << 32) | *(unsigned *)TOP

GDB watches every location the expression reads, moves the watch on the
word when the top moves, and calls stop() whenever the value changes.  The
kernel writes the word at the top only to put a canary there (the fast
path moves the top first, then stores the canary: two changes, both legal),
so a change of the word while the top stays where it was, to anything but
KFAST_CANARY, is a stray write: that one stops, and is told with the
instruction that wrote it.
"""

import gdb

from . import args
from . import kernel as k


def top_expression(t):
    arena = "((struct kfast_arena *)%#x)" % t.arena_addr
    return "(g_kfast.arena == %s ? g_kfast.top : %s->top)" % (arena, arena)


def writer(pc):
    """The instruction that ended just before pc (the one that wrote, for a
    watchpoint: x86 reports it after the write), as (address, text), or None."""
    try:
        arch = gdb.selected_frame().architecture()
        start = None
        block = gdb.block_for_pc(pc - 1)
        while block is not None and block.function is None:
            block = block.superblock
        while block is not None and block.superblock is not None and \
                block.superblock.function is not None:
            block = block.superblock
        start = block.start if block is not None else max(pc - 64, 0)
        for insn in arch.disassemble(start, pc):
            if insn["addr"] + insn["length"] == pc:
                return insn["addr"], insn["asm"]
    except (gdb.error, RuntimeError, gdb.MemoryError):
        pass
    return None


class CanaryWatch(gdb.Breakpoint):
    def __init__(self, t, top):
        expr = top_expression(t)
        super().__init__("((unsigned long long)%s << 32) | *(unsigned *)%s" % (expr, expr),
                         gdb.BP_WATCHPOINT, gdb.WP_WRITE)
        # GDB's own report would print the whole expression and two 64-bit
        # values: the stop below says what happened instead.
        self.silent = True
        self.tid, self.name, self.thread_addr = t.tid, t.name, t.addr
        self.top = top
        self.word = k.u32(top)
        self.strays = 0

    def _thread_alive(self):
        try:
            return any(t.addr == self.thread_addr and t.tid == self.tid and t.state != "dead"
                       for t in k.all_threads())
        except (k.NotReady, k.Damaged, gdb.error):
            return False

    def stop(self):
        try:
            return self._stop()
        except Exception as e:      # never a Python error in the middle of a run: say it, stop
            gdb.write("tandem watch canary: internal error: %s: %s\n" % (type(e).__name__, e))
            return True

    def _stop(self):
        if not self._thread_alive():
            gdb.write("tandem watch canary: thread %d (%s) has ended: watchpoint %d deleted\n" % (
                self.tid, self.name, self.number))
            number = self.number
            gdb.post_event(lambda: _delete(number))
            return False
        t = k.Thread(self.thread_addr)
        top, word = t.top, k.u32(t.top)
        old_word = self.word
        moved = top != self.top
        self.top, self.word = top, word
        if moved or word == k.KFAST_CANARY:
            return False        # the top moved (an allocation, a reset), or a canary was put back
        self.strays += 1
        pc = k.register("eip")
        gdb.write("\ntandem watch canary: the canary of thread %d (%s) at %08x was overwritten: "
                  "%08x -> %08x\n" % (self.tid, self.name, top, old_word, word))
        w = writer(pc)
        if w is not None:
            gdb.write("  written by %08x %s: %s\n" % (w[0], k.describe_pc(w[0], exact=True), w[1]))
        else:
            gdb.write("  written by the instruction before %08x\n" % pc)
        try:
            view = k.View()
            on = view.on_cpu or view.current
            who = ("thread %d (%s)" % (on.tid, on.name)) if on is not None else "no thread"
        except (k.NotReady, k.Damaged):
            who = "a stop where threads cannot be read"
        gdb.write("  the CPU is at %08x %s, in %s\n" % (pc, k.describe_pc(pc, exact=True), who))
        return True


def _delete(number):
    for b in gdb.breakpoints():
        if b.number == number and b.is_valid():
            b.delete()


def run(arg):
    view = k.View()
    t = args.thread_spec(view, arg, "tandem watch canary", "tandem watch canary [TID]")
    if t is None:
        t = view.on_cpu or view.current
        if t is None:
            raise gdb.GdbError("tandem watch canary: no thread is on the CPU; give a TID")
    if t.state == "dead":
        raise gdb.GdbError("tandem watch canary: thread %d (%s) is dead" % (t.tid, t.name))
    try:
        b = CanaryWatch(t, t.top)
    except gdb.error as e:
        raise gdb.GdbError("tandem watch canary: GDB cannot watch it: %s" % e)
    if b.type != gdb.BP_HARDWARE_WATCHPOINT:
        # A software watchpoint single-steps the whole machine: useless here.
        b.delete()
        raise gdb.GdbError("tandem watch canary: no hardware watchpoint available "
                           "(set can-use-hw-watchpoints 1)")
    gdb.write("Watchpoint %d: tandem watch canary of thread %d (%s), now at %08x; it stops only "
              "on a write that is not the kernel's own canary\n" % (b.number, t.tid, t.name, t.top))
