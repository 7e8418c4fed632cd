"""Tandem's GDB helpers: the `tandem` command and its subcommands, and the
convenience functions $tandem_thread(tid) and $tandem_current().

Loaded by tools/gdb/tandem.py; see tools/gdb/README.md."""

import gdb

from . import arena as arena_mod
from . import blockmap
from . import caps as caps_mod
from . import catch
from . import check as check_mod
from . import kernel as k


def guarded(fn):
    """Runs a command body; a stop where the kernel cannot be read yet is
    reported as such, not as an error."""
    def invoke(self, arg, from_tty):
        try:
            fn(self, arg, from_tty)
        except k.NotReady as e:
            gdb.write("tandem: %s\n" % e)
        except k.Damaged as e:
            raise gdb.GdbError("tandem: kernel data damaged: %s" % e)
        except gdb.MemoryError as e:
            raise gdb.GdbError("tandem: cannot read kernel memory: %s" % e)
    invoke.__doc__ = fn.__doc__
    return invoke


class Tandem(gdb.Command):
    """Inspect Tandem's threads, kernel-stack blocks, scratch arenas and handle tables.

Usage: tandem               where the CPU is, in one line
       tandem threads       every thread: state, block, esp, arena, low-water, canary
       tandem block [TID]   the map of one block (default: the running thread's)
       tandem arena [TID]   arena figures and live allocations (debug builds)
       tandem check         canaries, block invariants, heap red zones; a verdict
       tandem caps [PID]    handle tables: every process's, or one process's
       tandem catch collision|spill [--continue]
                            break on a collision report or a spill, drawing the block

TID is a thread id, a thread name or an expression (a tid, or a struct
thread pointer such as $tandem_current()).  Functions: $tandem_thread(TID)
and $tandem_current() return a struct thread *."""

    def __init__(self):
        super().__init__("tandem", gdb.COMMAND_DATA, prefix=True)

    @guarded
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("tandem: unknown subcommand `%s` (try `help tandem`)" % arg.strip())
        view = k.View()
        gdb.write("Tandem: %d thread%s; %s\n" % (len(view.threads), "" if len(view.threads) == 1 else "s",
                                                view.where()))


class Threads(gdb.Command):
    """List every thread with its block and arena figures.

Usage: tandem threads

Columns: TID, NAME, STATE (running, runnable, blocked, dead; `*` marks the
thread on the CPU), PROCESS (pid and name; `kernel` for kernel threads),
BLOCK (its KSTACK_SIZE block, stack view), ESP (live for the thread on the CPU, `user`
when it is in ring 3 with an empty kernel stack, else saved_esp), ARENA-TOP,
GAP (bytes between the canary's end and esp; negative: collision), PEAK (most arena bytes in the
block at once), LOW-WATER (stack bytes never touched, as kfast_low_water
counts them), SPILL (spill chunks and bytes) and CANARY (ok, or BROKEN with
the word found).  Blocked threads' wait reasons follow the table."""

    def __init__(self):
        super().__init__("tandem threads", gdb.COMMAND_DATA)

    @guarded
    def invoke(self, arg, from_tty):
        view = k.View()
        header = ("  %4s %-15s %-9s %-14s %-17s %-14s %-8s %6s %6s %9s %-9s %s\n" % (
            "TID", "NAME", "STATE", "PROCESS", "BLOCK", "ESP", "ARENA-TOP", "GAP", "PEAK",
            "LOW-WATER", "SPILL", "CANARY"))
        gdb.write(header)
        reasons = []
        for t in view.threads:
            esp, how = view.esp_of(t)
            if esp is None:
                esp_text = how
                gap_text = "-"
            else:
                esp_text = "%08x %s" % (esp, how)
                gap_text = "%d" % (t.stack_to_arena(esp) - (t.top + 4))
            chunks = t.chunks()
            spill = "%d/%dB" % (len(chunks), t.spill_bytes) if chunks else "0"
            canary = t.canary()
            canary_text = "ok" if canary == k.KFAST_CANARY else "BROKEN:%s" % (
                "%08x" % canary if canary is not None else "unreadable")
            state = "running" if view.running(t) else t.state
            gdb.write("%s %4d %-15s %-9s %-14s %08x-%08x %-14s %08x %6s %6d %9d %-9s %s\n" % (
                "*" if view.running(t) else " ", t.tid, t.name[:15], state,
                t.process_text()[:14], t.block, t.top_of_block, esp_text, t.top, gap_text,
                t.peak, t.low_water(), spill, canary_text))
            if t.state == "blocked" and t.wait_reason:
                reasons.append("  %d %s: %s" % (t.tid, t.name, t.wait_reason))
        if reasons:
            gdb.write("Blocked:\n%s\n" % "\n".join(reasons))
        gdb.write("%d thread%s; KSTACK_SIZE %d, reserve %d; %s\n" % (
            len(view.threads), "" if len(view.threads) == 1 else "s", k.kstack_size(),
            k.KFAST_RESERVE, view.where()))


def thread_arg(view, arg):
    """The thread named by arg, or the one on the CPU."""
    if arg.strip():
        return k.find_thread(arg)
    t = view.on_cpu or view.current
    if t is None:
        raise gdb.GdbError("tandem: no thread is on the CPU (esp %08x is in no block); give a TID"
                           % view.cpu.esp)
    return t


class Block(gdb.Command):
    """Draw the map of one thread's kernel-stack block with live values.

Usage: tandem block [TID]

Without TID, the thread on the CPU.  From the top of the block down: the
trap frame of the last entry from ring 3 (user threads), the kernel stack
down to esp, the reserve below esp that kfastmalloc never hands out, the
free bytes (split where the deepest stack write so far and the arena's peak
lie), the canary and the arena.  Each piece has its addresses, its size in
bytes and its share of the block; the lines below give the low-water mark,
the free gap, spill chunks and the trap frames on the stack."""

    def __init__(self):
        super().__init__("tandem block", gdb.COMMAND_DATA)

    @guarded
    def invoke(self, arg, from_tty):
        view = k.View()
        t = thread_arg(view, arg)
        blockmap.draw(t, view)


class Arena(gdb.Command):
    """Show one thread's scratch-arena figures and its live allocations.

Usage: tandem arena [TID]

Without TID, the thread on the CPU.  The figures are those of
kfast_stats (top, bytes in the block and in spill chunks, peak,
allocations made, spills, refusals, resets, collisions, low-water).  Debug
builds also list every live allocation, oldest first - in the block, then
in each spill chunk - with its address, size, slot and the code address the
kernel recorded for it, as a symbol and source line."""

    def __init__(self):
        super().__init__("tandem arena", gdb.COMMAND_DATA)

    @guarded
    def invoke(self, arg, from_tty):
        view = k.View()
        t = thread_arg(view, arg)
        arena_mod.show(t, view)


class Check(gdb.Command):
    """Verify canaries, block invariants and the heap; print a verdict.

Usage: tandem check

For every thread: its block is KSTACK_SIZE-aligned and is its arena, the
arena top is inside it and aligned, the canary at the top is intact, esp
(live or saved) is inside the block above the canary, the spill chain adds
up, and (debug builds) the allocation records tile the arena exactly.  For
the heap: every block of every region chains to its neighbours, carries
the right magic, keeps its red zones (0xFD) untouched, the counters agree
with the walk, and the free-list bitmaps agree with the lists.  Each
violation is printed, then one line: `tandem check: OK...` or
`tandem check: N VIOLATIONS...`."""

    def __init__(self):
        super().__init__("tandem check", gdb.COMMAND_DATA)

    @guarded
    def invoke(self, arg, from_tty):
        check_mod.run()


class Caps(gdb.Command):
    """Show processes' handle tables: each open handle and what it names.

Usage: tandem caps [PID]

PID is a process id, a process name or an expression (a pid, or a struct
process pointer); without it, every process on s_processes, then the
handles open in all of them (and the kernel's own count if it differs).
Each process has a summary line (handles open, slots free, retired slots)
and a row per open slot:
  HANDLE  the number user space holds: (generation << CAP_INDEX_BITS) | (slot + 1)
  SLOT    its index in the table
  TYPE    endpoint, process, thread, module, irq, ioport, memory or reply
  RIGHTS  one letter per right, `-` where missing: S send, R receive, G grant,
          W wait, K kill, P spawn, U use
  BADGE   `-` for none
  FROM    the handle it was derived from (dup, spawn, message): HANDLE in
          the same process, PID:HANDLE in another; `-` for a root
  OBJECT  the kernel object's address (handles to one object share it)
  WHAT    the object: an endpoint's serial (SYS_CAP_INFO's base), its receive
          holders and the tids queued as senders and receivers; a process's pid, name and state; a thread's
          tid, name and state; a module's index and name; a device's line,
          ports or memory and name; a reply handle's caller, or `caller gone`
A process that has ended (its table freed) is listed with its exit code."""

    def __init__(self):
        super().__init__("tandem caps", gdb.COMMAND_DATA)

    @guarded
    def invoke(self, arg, from_tty):
        caps_mod.run(arg)


class ThreadFunction(gdb.Function):
    """$tandem_thread(TID): the struct thread * of thread TID.

Example: p $tandem_thread(3)->name, p *$tandem_thread(1)."""

    def __init__(self):
        super().__init__("tandem_thread")

    def invoke(self, tid):
        try:
            k.stage()
            want = int(tid)
            for t in k.all_threads():
                if t.tid == want:
                    return gdb.Value(t.addr).cast(k.thread_type().pointer())
        except k.NotReady as e:
            raise gdb.GdbError("$tandem_thread: %s" % e)
        raise gdb.GdbError("$tandem_thread: no thread with tid %d" % want)


class CurrentFunction(gdb.Function):
    """$tandem_current(): the struct thread * of the running thread (g_current).

It is (struct thread *) 0 before thread_init_boot, and while the kernel has
not started (paging off)."""

    def __init__(self):
        super().__init__("tandem_current")

    def invoke(self):
        ptr = k.thread_type().pointer()
        try:
            k.stage()
        except k.NotReady:
            return gdb.Value(0).cast(ptr)
        return gdb.Value(k.current_address()).cast(ptr)


class CpuFunction(gdb.Function):
    """$tandem_cpu(): the index (in g_percpu) of the CPU GDB has selected.

QEMU's GDB stub shows each vCPU as a thread, in the order the firmware's
tables list the CPUs, which is the kernel's order too: thread N is CPU N-1.
The kernel reaches its per-CPU state through %fs (include/percpu.h), which
GDB cannot follow, so the helpers define the kernel's per-CPU names as
macros over it: g_current, g_kfast, g_need_resched, g_tss_io and g_tss mean
the selected CPU's, in any expression."""

    def __init__(self):
        super().__init__("tandem_cpu")

    def invoke(self):
        t = gdb.selected_thread()
        return gdb.Value(max(0, t.num - 1) if t is not None else 0)


PER_CPU_NAMES = {
    "g_current": "current",
    "g_kfast": "kfast",
    "g_need_resched": "need_resched",
    "g_tss_io": "tss_io",
    "g_tss": "tss_io.tss",
}


def register():
    CpuFunction()
    for name, field in PER_CPU_NAMES.items():
        gdb.execute("macro define %s (g_percpu[$tandem_cpu()].%s)" % (name, field), to_string=True)
    blockmap.AsciiParameter()
    Tandem()
    Threads()
    Block()
    Arena()
    Check()
    Caps()
    catch.CatchPrefix()
    catch.CatchCollision()
    catch.CatchSpill()
    ThreadFunction()
    CurrentFunction()
