"""Tandem's GDB helpers: the `tandem` command and its subcommands, and the
convenience functions $tandem_thread(tid) and $tandem_current().

Loaded by tools/gdb/tandem.py; see tools/gdb/README.md."""

import gdb

from . import arena as arena_mod
from . import args
from . import blockmap
from . import bt as bt_mod
from . import caps as caps_mod
from . import catch
from . import check as check_mod
from . import cpus as cpus_mod
from . import history
from . import kernel as k
from . import log as log_mod
from . import sched as sched_mod
from . import usersyms
from . import uspace
from . import watch as watch_mod


def one_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def guarded(fn):
    """Runs a command body, reading the kernel through the boot CPU whichever
    vCPU is selected (tools/gdb/tandem_gdb/cpus.py), so that no Python
    exception reaches the user: a stop where the kernel cannot be read yet
    is said as such, anything else is one line - an error in the kernel's
    data, or in the helpers."""
    def invoke(self, arg, from_tty):
        name = self.name
        try:
            with cpus_mod.boot_cpu_view():
                fn(self, arg, from_tty)
        except gdb.GdbError:
            raise
        except k.NotReady as e:
            gdb.write("tandem: %s\n" % e)
        except k.Damaged as e:
            raise gdb.GdbError("%s: kernel data damaged: %s" % (name, one_line(e)))
        except gdb.MemoryError as e:
            raise gdb.GdbError("%s: cannot read kernel memory: %s" % (name, one_line(e)))
        except gdb.error as e:
            raise gdb.GdbError("%s: %s" % (name, one_line(e)))
        except KeyboardInterrupt:
            raise gdb.GdbError("%s: interrupted" % name)
        except Exception as e:
            raise gdb.GdbError("%s: internal error in the helpers (tools/gdb/tandem_gdb): %s: %s"
                               % (name, type(e).__name__, one_line(e)))
    invoke.__doc__ = fn.__doc__
    return invoke


class Named(gdb.Command):
    """A tandem command that knows its own name (for its errors)."""

    def __init__(self, name, category=gdb.COMMAND_DATA, prefix=False):
        super().__init__(name, category, prefix=prefix)
        self.name = name


class Tandem(Named):
    """Inspect Tandem's threads, kernel-stack blocks, scratch arenas and handle tables.

Usage: tandem               where the CPU is, in one line
       tandem threads       every thread: state, block, esp, arena, low-water, canary
       tandem block [TID]   the map of one block (default: the running thread's)
       tandem arena [TID]   arena figures and live allocations (debug builds)
       tandem bt [TID]      backtrace across the rings: kernel frames, the trap
                            frame, the user program's frames with its own symbols
       tandem check         canaries, block invariants, heap red zones; a verdict
       tandem sched         the run queue, sleepers, wait queues: walked and checked
       tandem caps [PID]    handle tables: every process's, or one process's
       tandem cpus          each CPU: APIC id, state, eip, thread, cross-CPU calls
       tandem log [LINES]   the kernel's log ring
       tandem catch collision|spill|panic [--continue]
                            break on a collision report, a spill or a panic
       tandem watch canary [TID]
                            a hardware watchpoint that stops at a stray write
                            over the arena's canary

TID is a thread id, a thread name or an expression (a tid, or a struct
thread pointer such as $tandem_current()); ids and names complete on Tab.
Functions: $tandem_thread(TID) and $tandem_current() return a struct thread *.
Settings: tandem-ascii, tandem-user-symbols, tandem-user-bin (`help set tandem-...`)."""

    def __init__(self):
        super().__init__("tandem", prefix=True)

    @guarded
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("tandem: unknown subcommand `%s` (try `help tandem`)" % arg.strip())
        view = k.View()
        gdb.write("Tandem: %d thread%s; %s\n" % (len(view.threads), "" if len(view.threads) == 1 else "s",
                                                view.where()))


class Threads(Named):
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
        super().__init__("tandem threads")

    @guarded
    def invoke(self, arg, from_tty):
        args.no_words(arg, self.name)
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


def thread_arg(view, arg, command, usage):
    """The thread named by arg, or the one on the CPU."""
    t = args.thread_spec(view, arg, command, usage)
    if t is not None:
        return t
    t = view.on_cpu or view.current
    if t is None:
        raise gdb.GdbError("%s: no thread is on the CPU (esp %08x is in no block); give a TID"
                           % (command, view.cpu.esp))
    return t


class ThreadCommand(Named):
    """A command whose argument is a thread: ids and names complete on Tab."""

    def complete(self, text, word):
        return args.complete_threads(text, word)


class Block(ThreadCommand):
    """Draw the map of one thread's kernel-stack block with live values.

Usage: tandem block [TID]

Without TID, the thread on the CPU.  From the top of the block down: the
trap frame of the last entry from ring 3 (user threads), the kernel stack
down to esp, the reserve below esp that kfastmalloc never hands out, the
free bytes (split where the deepest stack write so far and the arena's peak
lie), the canary and the arena.  Each piece has its addresses, its size in
bytes and its share of the block; the lines below give the low-water mark,
the free gap, spill chunks and the trap frames on the stack.  The running
thread's map uses the live esp (none in user mode: its kernel stack is
empty), the thread the double-fault task interrupted the esp in the TSS,
any other thread its saved esp."""

    def __init__(self):
        super().__init__("tandem block")

    @guarded
    def invoke(self, arg, from_tty):
        view = k.View()
        blockmap.draw(thread_arg(view, arg, self.name, "tandem block [TID]"), view)


class Arena(ThreadCommand):
    """Show one thread's scratch-arena figures and its live allocations.

Usage: tandem arena [TID]

Without TID, the thread on the CPU.  The figures are those of
kfast_stats (top, bytes in the block and in spill chunks, peak,
allocations made, spills, refusals, resets, collisions, low-water).  Debug
builds also list every live allocation, oldest first - in the block, then
in each spill chunk - with its address, size, slot and the code address the
kernel recorded for it, as a symbol and source line."""

    def __init__(self):
        super().__init__("tandem arena")

    @guarded
    def invoke(self, arg, from_tty):
        view = k.View()
        arena_mod.show(thread_arg(view, arg, self.name, "tandem arena [TID]"), view)


class Bt(ThreadCommand):
    """Backtrace of a thread across the rings: kernel, trap frame, user program.

Usage: tandem bt [TID]

Kernel frames first, from where the thread is: the CPU's registers when it
runs, its switch_context frame when it is switched out, the TSS when the
double-fault task interrupted it.  At each entry into the kernel the trap
frame is named - a system call with its number and handler (and whether it
came by int 0x80 or sysenter), an IRQ, an exception with its error code -
and the walk goes on into the code it interrupted: more kernel frames, or
the user program's, named with that program's own symbols (read from its
file in `tandem-user-bin`, with source lines when its symbols are the ones
loaded) whichever process is on the CPU.

Without TID, the thread on the CPU; in the double-fault task, the task's
own frames and then those of the thread it interrupted.  Frames are found
by their frame pointers; where the CPU stopped before a function set up
its frame (its first instruction, an assembly stub) the return address is
found from the instruction bytes or by scanning the stack."""

    def __init__(self):
        super().__init__("tandem bt")

    @guarded
    def invoke(self, arg, from_tty):
        bt_mod.run(arg)


class Check(Named):
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
        super().__init__("tandem check")

    @guarded
    def invoke(self, arg, from_tty):
        args.no_words(arg, self.name)
        check_mod.run()


class Sched(Named):
    """Walk and check the scheduler's lists; account for every thread.

Usage: tandem sched

Prints the running and idle threads, the run queue (s_runq), the sleepers
(s_sleepers) with the tick each wakes at, the timed waits (s_timed), every
wait queue a blocked thread is on (named by its variable or its object: a
process's exit_wait, a thread record's wait), the threads queued on
endpoints and the zombies (s_zombies).  Every list is checked as it is
walked: both links of every node (node->next->prev == node), that it comes
back to its head, that each thread on it is in the state the list means.
Then every thread must be where its state says: a runnable thread running,
queued or the idle thread (else a wake-up was lost), a dead one a zombie.
Violations are printed, then one line: `tandem sched: OK...` or
`tandem sched: N VIOLATIONS...`."""

    def __init__(self):
        super().__init__("tandem sched")

    @guarded
    def invoke(self, arg, from_tty):
        sched_mod.run(arg)


class Log(Named):
    """Print the kernel's log ring buffer.

Usage: tandem log [LINES]

Everything the kernel's console prints also goes to the log ring (kernel/
log.c, LOG_RING_SIZE bytes): this prints what it holds, oldest first, or
its last LINES lines.  The first line says how many bytes were logged since
boot and how many the ring has overwritten.  It works from the moment
paging is on, whether or not a serial console is attached, and after user
space has taken the devices."""

    def __init__(self):
        super().__init__("tandem log")

    @guarded
    def invoke(self, arg, from_tty):
        log_mod.run(arg)


class Caps(Named):
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
        super().__init__("tandem caps")

    def complete(self, text, word):
        return args.complete_processes(text, word)

    @guarded
    def invoke(self, arg, from_tty):
        caps_mod.run(arg)


class Cpus(Named):
    """List the CPUs: APIC id, state, where each is, its thread and its cross-CPU calls.

Usage: tandem cpus

Columns: CPU (index in g_smp.cpus; 0 is the boot CPU), APIC (its local APIC
id), VCPU (QEMU's GDB thread for it: `thread N` selects it; `*` marks the
selected one), STATE (found, starting, online, failed), EIP (the vCPU's,
with its symbol), THREAD (the thread it runs: its per-CPU area's current,
the idle thread when it has nothing), ARENA (its running arena's registers,
its g_kfast: top and guard), MADE and SERVED
(cross-CPU calls it made, and ran for others) and CALLS: a request in its
mailbox not yet taken (the caller, the function, the CPUs that have not
answered), and the call it waits on.  Before smp_init only the boot CPU is
listed."""

    def __init__(self):
        super().__init__("tandem cpus")

    @guarded
    def invoke(self, arg, from_tty):
        args.no_words(arg, self.name)
        cpus_mod.show()


class WatchPrefix(Named):
    """Watchpoints on the arena's guard rails.

Usage: tandem watch canary [TID]"""

    def __init__(self):
        super().__init__("tandem watch", gdb.COMMAND_BREAKPOINTS, prefix=True)

    @guarded
    def invoke(self, arg, from_tty):
        raise gdb.GdbError("tandem watch: %s (usage: tandem watch canary [TID])" % (
            "unknown watch `%s`" % arg.strip() if arg.strip() else "watch what?"))


class WatchCanary(ThreadCommand):
    """Stop the machine at the write that breaks a thread's arena canary.

Usage: tandem watch canary [TID]

A hardware watchpoint on the canary word at the arena top of TID (without
it, the thread on the CPU), which follows the top as the arena grows and
shrinks.  The kernel's own canary stores are let through; any other write
to the word stops at once - the stray write itself, not the check that
would notice the damage later (a context switch, the exit path, a release)
- and prints the old and new word and the instruction that wrote it.  It
deletes itself when the thread ends; `delete N` removes it too."""

    def __init__(self):
        super().__init__("tandem watch canary", gdb.COMMAND_BREAKPOINTS)

    @guarded
    def invoke(self, arg, from_tty):
        watch_mod.run(arg)


class ThreadFunction(gdb.Function):
    """$tandem_thread(TID): the struct thread * of thread TID.

Example: p $tandem_thread(3)->name, p *$tandem_thread(1)."""

    def __init__(self):
        super().__init__("tandem_thread")

    def invoke(self, tid):
        try:
            with cpus_mod.boot_cpu_view():
                k.stage()
                want = int(tid)
                for t in k.all_threads():
                    if t.tid == want:
                        return gdb.Value(t.addr).cast(k.thread_type().pointer())
                gone = history.gone(want)
        except gdb.GdbError:
            raise
        except k.NotReady as e:
            raise gdb.GdbError("$tandem_thread: %s" % e)
        except Exception as e:
            raise gdb.GdbError("$tandem_thread: %s" % one_line(e))
        if gone:
            raise gdb.GdbError("$tandem_thread: no thread with tid %d now: %s" % (want, gone))
        raise gdb.GdbError("$tandem_thread: no thread with tid %d" % want)


class CurrentFunction(gdb.Function):
    """$tandem_current(): the struct thread * of the running thread (g_current).

It is (struct thread *) 0 before thread_init_boot, and while the kernel has
not started (paging off)."""

    def __init__(self):
        super().__init__("tandem_current")

    def invoke(self):
        try:
            ptr = k.thread_type().pointer()
        except k.NotReady as e:
            raise gdb.GdbError("$tandem_current: %s" % e)
        with cpus_mod.boot_cpu_view():
            try:
                k.stage()
            except k.NotReady:
                return gdb.Value(0).cast(ptr)
            except Exception as e:
                raise gdb.GdbError("$tandem_current: %s" % one_line(e))
            return gdb.Value(k.current_address()).cast(ptr)


class CpuFunction(gdb.Function):
    """$tandem_cpu(): the index (in g_percpu) of the CPU GDB has selected.

QEMU's GDB stub shows each vCPU as a thread, in the order the firmware's
tables list the CPUs, which is the kernel's order too: thread N is CPU N-1.
The kernel reaches its per-CPU state through %fs (include/percpu.h), which
GDB cannot follow, so the helpers define the kernel's per-CPU names as
macros over it: g_current, g_kfast, g_need_resched, g_tss_io and g_tss mean
the selected CPU's, in any expression.  The `tandem` commands read the
kernel through the boot CPU (tools/gdb/tandem_gdb/cpus.py): inside them it
is 0."""

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
    uspace.UserBinParameter()
    Tandem()
    Threads()
    Block()
    Arena()
    Bt()
    Check()
    Sched()
    Log()
    Caps()
    Cpus()
    catch.CatchPrefix()
    catch.CatchCollision()
    catch.CatchSpill()
    catch.CatchPanic()
    WatchPrefix()
    WatchCanary()
    ThreadFunction()
    CurrentFunction()
    history.register()
    usersyms.register()


def unregister():
    """What a reload must undo first: breakpoints and event handlers the
    helpers keep to themselves."""
    history.unregister()
    usersyms.unregister()
