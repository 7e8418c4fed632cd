"""`tandem catch collision|spill`: breakpoints on the arena's report paths
that print the block map of the thread concerned when they are hit."""

import gdb

from . import args
from . import blockmap
from . import kernel as k

# Every detected collision, by the canary checks or by the hardware trap
# (the double-fault task), is reported through
#   collision_report(struct thread *t, uint32_t esp, uint32_t eip,
#                    const char *where, bool by_trap)
# a NOINLINE cdecl function: at its first instruction the arguments sit
# above the return address.  Kernels from before the trap had only
#   kfast_collision(struct thread *t, uint32_t esp, const char *where).
COLLISION_SITES = ("collision_report", "kfast_collision")
# kfast_spill (kernel/mm/kfast.c) is static and gcc inlines it into
# kfast_alloc_slow; GDB still places a breakpoint on the inlined body.
SPILL_SITE = "kfast_spill"
PAGE = 4096


def why_spill(t, n, esp):
    """The admission rule of kfast_alloc_slow, with this request's figures."""
    end = t.top + n
    sp = t.stack_to_arena(esp)
    if t.guard is None:
        # Kernels from before the claimed pages: the reserve below esp alone.
        return "arena top %08x + %d B + reserve %d = %08x > esp %08x" % (
            t.top, n, k.KFAST_RESERVE, end + k.KFAST_RESERVE, esp)
    if not t.guarded:
        return ("arena top %08x + %d B = %08x is past the claimed pages (%08x), and this block "
                "claims none (unguarded: a 4 KiB block or the boot thread's): it spills" % (
                    t.top, n, end, t.guard))
    want = k.align_up(end + 4, PAGE)
    return ("arena top %08x + %d B = %08x is past the claimed pages (guard %08x); claiming up to "
            "%08x would leave %d B below esp %08x (arena view %08x), less than the reserve %d" % (
                t.top, n, end, t.guard, want, sp - want, esp, sp, k.KFAST_RESERVE))


def say(text):
    gdb.write(text)
    gdb.flush()


class CatchBreakpoint(gdb.Breakpoint):
    kind = ""

    def __init__(self, spec, stop):
        super().__init__(spec, gdb.BP_BREAKPOINT, internal=False)
        self.stops = stop
        self.hits = 0

    def stop(self):
        self.hits += 1
        try:
            self.report()
        except (k.NotReady, k.Damaged) as e:
            say("tandem catch %s: %s\n" % (self.kind, e))
        except gdb.MemoryError as e:
            say("tandem catch %s: cannot read the thread: %s\n" % (self.kind, e))
        except gdb.error as e:
            say("tandem catch %s: %s\n" % (self.kind, e))
        except Exception as e:      # a bug in the helpers: one line, and still stop
            say("tandem catch %s: internal error: %s: %s\n" % (self.kind, type(e).__name__, e))
        return self.stops


class CollisionCatch(CatchBreakpoint):
    kind = "collision"

    def __init__(self, spec, stop, function):
        super().__init__(spec, stop)
        self.function = function

    def report(self):
        cpu = k.Cpu()
        t_addr = k.u32(cpu.esp + 4)
        esp = k.u32(cpu.esp + 8)
        eip = by_trap = None
        if self.function == "collision_report":
            eip = k.u32(cpu.esp + 12)
            where = k.cstring(k.u32(cpu.esp + 16)) or "?"
            by_trap = bool(k.u32(cpu.esp + 20) & 0xFF)
        else:
            where = k.cstring(k.u32(cpu.esp + 12)) or "?"
        view = k.View()
        t = next((x for x in view.threads if x.addr == t_addr), None) or k.Thread(t_addr)
        canary = t.canary()
        raw = (canary or 0).to_bytes(4, "little")
        say("\ntandem catch collision: thread %d (%s) %s, caught by \"%s\"\n" % (
            t.tid, t.name, "ran into its arena's claimed pages" if by_trap else "broke its canary", where))
        if eip is not None:
            # The guard's eip is the faulting instruction; a canary check's
            # is the return address of the call that reported it.
            say("  at eip %s%s\n" % (k.describe_pc(eip, exact=bool(by_trap)),
                                     "" if by_trap else ", after the call that reported it"))
        # The kernel takes its low-water figure inside collision_report, whose
        # own calls write deeper into the paint than this stop at its first
        # instruction: g_last_collision.low_water can only be lower.
        say("  canary at %08x reads %s (expected %08x); esp %08x; low-water %d B\n"
            "  (low-water as of this stop; the report takes it after its own calls have used "
            "more stack, so g_last_collision's figure may be lower)\n\n" % (
                t.top, " ".join("%02x" % b for b in raw), k.KFAST_CANARY, esp, t.low_water()))
        blockmap.draw(t, view, esp=esp, esp_how="as the detector saw it")


class SpillCatch(CatchBreakpoint):
    kind = "spill"

    def request(self):
        """Bytes the spill takes (n, record included), from the frame if it can."""
        try:
            frame = gdb.selected_frame()
        except gdb.error:
            return None
        for _ in range(3):
            if frame is None:
                break
            for name, convert in (("n", lambda v: v),
                                  ("size", lambda v: k.align_up(v + k.record_size(), k.KFAST_ALIGN))):
                try:
                    v = frame.read_var(name)
                    if not v.is_optimized_out:
                        return convert(int(v))
                except (ValueError, gdb.error):
                    pass
            frame = frame.older()
        return None

    def report(self):
        view = k.View()
        t = view.current
        n = self.request()
        esp = view.cpu.esp
        say("\ntandem catch spill: thread %d (%s) spills%s to a heap chunk\n" % (
            t.tid, t.name, " %d B" % n if n is not None else ""))
        if n is not None:
            say("  %s\n" % why_spill(t, n, esp))
        chunks = t.chunks()
        if chunks:
            c = chunks[0]
            say("  newest chunk %08x has %d of %d B free%s\n" % (
                c.addr, c.size - c.used, c.size,
                "" if n is None else (": it fits" if c.size - c.used >= n else ": a new chunk follows")))
        say("\n")
        blockmap.draw(t, view)




def resolvable(spec):
    try:
        _, locations = gdb.decode_line(spec)
        return bool(locations)
    except gdb.error:
        return False


def create(kind, stop=True):
    if kind == "panic":
        from . import panic
        return panic.create(stop)
    if kind == "collision":
        for function in COLLISION_SITES:
            if gdb.lookup_global_symbol(function) is not None and resolvable(function):
                return CollisionCatch("*" + function, stop, function)
        raise gdb.GdbError("tandem catch collision: the loaded kernel has none of %s" %
                           ", ".join(COLLISION_SITES))
    if not resolvable(SPILL_SITE):
        raise gdb.GdbError("tandem catch spill: no `%s` in the loaded kernel" % SPILL_SITE)
    return SpillCatch(SPILL_SITE, stop)


class CatchPrefix(gdb.Command):
    """Breakpoints on the arena's report paths that draw the block map when hit.

Usage: tandem catch collision [--continue]
       tandem catch spill [--continue]
       tandem catch panic [--continue]
       tandem catch            (lists them)

`collision` breaks at collision_report, where every detected collision is
reported;
`spill` at kfast_spill, where an allocation that does not fit goes to the
heap; `panic` at vpanic, through which every panic goes.  The first two
print the thread's block map as it was when hit, `panic` the message and
the thread's backtrace; then they stop, or with --continue print and let
the kernel run on.  Remove one with `delete N` like any breakpoint."""

    def __init__(self):
        super().__init__("tandem catch", gdb.COMMAND_BREAKPOINTS, prefix=True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("tandem catch: unknown event `%s` (collision, spill or panic)" % arg.strip())
        found = [b for b in gdb.breakpoints() if isinstance(b, CatchBreakpoint)]
        if not found:
            gdb.write("No tandem catchpoints.  tandem catch collision | spill | panic [--continue]\n")
        for b in found:
            gdb.write("%d  tandem catch %s%s at %s, hit %d time%s%s\n" % (
                b.number, b.kind, "" if b.stops else " --continue", b.location, b.hits,
                "" if b.hits == 1 else "s", "" if b.enabled else " (disabled)"))


def make_subcommand(kind, doc):
    class Catch(gdb.Command):
        __doc__ = doc

        def __init__(self):
            super().__init__("tandem catch " + kind, gdb.COMMAND_BREAKPOINTS)

        def invoke(self, arg, from_tty):
            words = args.flags(arg, "tandem catch " + kind, ("--continue", "-c"),
                               "tandem catch %s [--continue]" % kind)
            if len(words) > 1:
                raise gdb.GdbError("tandem catch %s: --continue once is enough" % kind)
            stop = not words
            bp = create(kind, stop)
            gdb.write("Catchpoint %d: tandem catch %s at %s%s\n" % (
                bp.number, kind, bp.location, "" if stop else " (prints and continues)"))
    return Catch


CatchCollision = make_subcommand("collision", """Break when a stack/arena collision is reported.

Usage: tandem catch collision [--continue]

A breakpoint on collision_report, through which every detector reports:
the canary checks (context switch, exit to user mode, nested kernel entry)
and the hardware trap (the stack faulting on the arena's claimed pages,
reported from the double-fault task).  When hit it prints the colliding
thread, which detector caught it and where, the bytes found where the
canary should be and the block map with esp as the detector saw it.
--continue prints without stopping.""")

CatchSpill = make_subcommand("spill", """Break when a kfastmalloc spills to the heap.

Usage: tandem catch spill [--continue]

A breakpoint on kfast_spill (inlined into kfast_alloc_slow), reached when an
allocation does not fit below esp - reserve and the arena is not strict.
When hit it prints the request, why it did not fit and the block map of the
running thread.  --continue prints without stopping.""")

CatchPanic = make_subcommand("panic", """Break when the kernel panics, with the reason.

Usage: tandem catch panic [--continue]

A breakpoint on vpanic, through which every panic goes (panic(), failed
assertions, traps the kernel cannot handle).  When hit it prints the
message as the kernel is about to print it, the code that called panic,
the thread and its backtrace across the rings (as `tandem bt`), before the
kernel prints anything or stops.  --continue prints without stopping.""")
