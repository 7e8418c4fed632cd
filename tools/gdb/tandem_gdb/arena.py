"""`tandem arena`: one thread's scratch-arena figures and live allocations.

Debug builds put a struct kfast_record {size, caller} before every
allocation, in the block (from base up to the top) and in each spill chunk
(from data[] up to used), so the live objects can be walked in order.
"""

import gdb

from . import kernel as k


class Record:
    def __init__(self, addr, size, caller, slot, where):
        self.addr = addr            # the record; the object is right after it
        self.size = size
        self.caller = caller
        self.slot = slot            # bytes it takes, record and alignment included
        self.where = where          # "block" or the chunk's address

    @property
    def object(self):
        return self.addr + k.record_size()


def walk(start, limit, where, read_bytes):
    """Records in [start, limit); returns (records, problem or None)."""
    rec = k.record_size()
    data = read_bytes(start, limit - start) if limit > start else b""
    out, off = [], 0
    while start + off < limit:
        if off + rec > len(data):
            return out, "a record at %08x runs past the end (%08x)" % (start + off, limit)
        size = int.from_bytes(data[off:off + 4], "little")
        caller = int.from_bytes(data[off + 4:off + 8], "little")
        slot = k.align_up(size + rec, k.KFAST_ALIGN)
        if size > k.KFAST_MAX_ALLOC or start + off + slot > limit:
            return out, ("the record at %08x says %d bytes, which does not fit below %08x "
                         "(the arena's bytes were overwritten)" % (start + off, size, limit))
        out.append(Record(start + off, size, caller, slot, where))
        off += slot
    return out, None


def block_records(t):
    """The in-block records of t, oldest first, and a problem or None."""
    if not k.debug_build():
        return [], None
    if not (t.base <= t.top <= t.base + t.size):
        raise k.Damaged("arena top %08x is outside the block" % t.top)

    def from_block(addr, n):
        off = addr - t.base
        return t.bytes()[off:off + n]
    return walk(t.base, t.top, "block", from_block)


def chunk_records(c):
    if not k.debug_build():
        return [], None
    if c.used > c.size:
        return [], "chunk %08x says %d of %d bytes used" % (c.addr, c.used, c.size)
    return walk(c.data, c.data + c.used, c.addr, k.read)


def trap_record_note(t, records):
    """kernel/entry/trap.c puts a struct trap_record first in the arena of a thread
    serving an interrupt or exception from ring 3 (debug builds)."""
    if not records or not t.user:
        return None
    try:
        rtype = k.lookup_type("struct trap_record")
    except k.NotReady:
        return None
    first = records[0]
    if first.size != rtype.sizeof or first.where != "block":
        return None
    v = gdb.Value(first.object).cast(rtype.pointer()).dereference()
    vector = int(v["vector"])
    try:
        frame = k.TrapFrame(t.user_frame_addr(), t)
    except (gdb.error, gdb.MemoryError):
        return None
    if frame.vector != vector or vector == 0x80:
        return None
    return "trap record: vector %d, error %#x, user eip %08x" % (vector, int(v["error"]), int(v["eip"]))


def show(t, view, write=gdb.write):
    size = t.size
    esp, how = view.esp_of(t)
    write("Arena of thread %d (%s), %s: arena %08x-%08x (block %08x), %s\n" % (
        t.tid, t.name, ("process " + t.process_text()) if t.user else "kernel thread",
        t.base, t.base + size, t.block, "strict (refuses instead of spilling)" if t.strict else
        "spills to the heap when full"))
    write("  top        %08x (%s)\n" % (t.top, "live, in g_kfast" if t.arena_live else "saved"))
    write("  in block   %d B (%.1f%% of %d)\n" % (t.in_block, 100.0 * t.in_block / size, size))
    chunks = t.chunks()
    write("  in spill   %d B in %d chunk%s\n" % (t.spill_bytes, len(chunks), "" if len(chunks) == 1 else "s"))
    write("  in use     %d B\n" % (t.in_block + t.spill_bytes))
    write("  peak       %d B, of which %d B in the block (%.1f%%)\n" % (
        t.peak, t.peak_in_block, 100.0 * t.peak_in_block / size))
    if t.guard is not None:
        kept = ""
        if t.guarded and t.keep is not None:
            kept = "; a reset keeps them up to %08x" % t.keep
        write("  claimed    %d B (guard %08x)%s\n" % (t.claimed, t.guard, kept if t.guarded else
                                                    "; this block claims no pages: it spills"))
    if esp is not None and t.contains(esp):
        if t.crossed(view.stack_reach(t, esp)):
            write("  room       none: esp %08x (%s) is past the guard or over the canary\n" % (esp, how))
        else:
            write("  room       %d B more in the block with esp %08x (%s)\n" % (t.room(esp), esp, how))
    write("  allocations %d made; spills %d; refusals %d; resets %d; collisions %d\n" % (
        t.allocations, t.spills, t.refusals, t.resets(), t.collisions))
    write("  stack low-water %d B; canary %s\n" % (
        t.low_water(), "intact" if t.canary_ok() else "BROKEN (%08x)" % (t.canary() or 0)))

    if not k.debug_build():
        write("Live allocations are recorded only in debug builds (this kernel has RELEASE=1).\n")
        return
    records, problem = block_records(t)
    groups = [("in the block, oldest first", records, problem)]
    for c in reversed(chunks):
        recs, prob = chunk_records(c)
        groups.append(("in spill chunk %08x (%d of %d B used), oldest first" % (
            c.addr, c.used, c.size), recs, prob))
    total = sum(len(g[1]) for g in groups)
    write("Live allocations: %d\n" % total)
    note = trap_record_note(t, records)
    n = 0
    for title, recs, prob in groups:
        if not recs and not prob and title.startswith("in the block") and len(groups) > 1:
            continue
        write("  %s:\n" % title)
        if recs:
            write("    %3s  %-8s  %6s  %6s  %s\n" % ("#", "object", "size", "slot", "caller (return address recorded)"))
        for r in recs:
            n += 1
            write("    %3d  %08x  %6d  %6d  %s\n" % (n, r.object, r.size, r.slot,
                                                    k.describe_pc(r.caller)))
            if n == 1 and note:
                write("         %s\n" % note)
        if not recs and not prob:
            write("    (none)\n")
        if prob:
            write("    stopped: %s\n" % prob)
