"""`tandem check`: every thread's canary and block invariants, and the heap's
headers and red zones, verified from outside the kernel."""

import gdb

from . import arena as arena_mod
from . import kernel as k

# The heap is read whole; past this many bytes per region only headers are read.
HEAP_READ_MAX = 64 << 20


class Findings:
    def __init__(self):
        self.violations = []
        self.warnings = []
        self.notes = []

    def bad(self, text):
        self.violations.append(text)

    def warn(self, text):
        self.warnings.append(text)


def check_thread(t, view, f):
    who = "thread %d (%s)" % (t.tid, t.name)
    size = t.size
    if t.block % size:
        f.bad("%s: block %08x is not aligned to KSTACK_SIZE (%d)" % (who, t.block, size))
    # One view (base == block) or two: the arena view a gap of one block
    # size above the stack view, with nothing mapped on either side of
    # either view (include/mm/block.h).
    if t.view_off not in (0, 2 * size) or t.end != t.base + size:
        f.bad("%s: arena [%08x, %08x) is neither its block %08x nor the view after the gap" % (
            who, t.base, t.end, t.block))
    elif t.view_off:
        for edge in (t.block - 1, t.block + size, t.base - 1, t.base + size):
            if k.readable(edge, 1):
                f.bad("%s: %08x, beside a view of block %08x, is mapped" % (who, edge, t.block))
    if not (t.base <= t.top and t.top + 4 <= t.end):
        f.bad("%s: arena top %08x is outside its arena %08x-%08x" % (who, t.top, t.base, t.end))
        return
    if t.top % k.KFAST_ALIGN:
        f.bad("%s: arena top %08x is not %d-byte aligned" % (who, t.top, k.KFAST_ALIGN))
    canary = t.canary()
    if canary != k.KFAST_CANARY:
        f.bad("%s: canary at %08x is %s, expected %08x (stack/arena collision)" % (
            who, t.top, "%08x" % canary if canary is not None else "unreadable", k.KFAST_CANARY))
    if t.peak_block > size:
        f.bad("%s: arena peak in the block %d exceeds the block (%d)" % (who, t.peak_block, size))
    if t.guarded and t.guard is not None:
        if t.guard % 4096 or not (t.base <= t.guard <= t.end):
            f.bad("%s: guard %08x is not a page boundary inside the arena %08x-%08x" % (
                who, t.guard, t.base, t.end))
        else:
            for page in range(t.base, t.guard, 4096):
                if k.readable(t.arena_to_stack(page), 1):
                    f.bad("%s: claimed page %08x is still mapped in the stack view at %08x" % (
                        who, page, t.arena_to_stack(page)))
    esp, how = view.esp_of(t)
    if esp is not None and t.state != "dead":
        sp = t.stack_to_arena(esp)
        if not t.contains(esp) and esp != t.top_of_block:
            f.bad("%s: %s esp %08x is outside its block %08x-%08x" % (
                who, how, esp, t.block, t.top_of_block))
        elif sp < t.top + 4:
            f.bad("%s: %s esp %08x is below the arena top + 4 (%08x): the stack ran into the arena" % (
                who, how, esp, t.arena_to_stack(t.top + 4)))
        elif t.claimed and sp < t.guard:
            f.bad("%s: %s esp %08x is inside the arena's claimed pages (up to %08x)" % (
                who, how, esp, t.arena_to_stack(t.guard)))
        elif sp - k.KFAST_RESERVE < t.top:
            f.warn("%s: only %d B between the arena top and esp (reserve %d)" % (
                who, sp - t.top - 4, k.KFAST_RESERVE))
    # Spill chain: each chunk's fill within its size, and the sum in spill_bytes.
    try:
        chunks = t.chunks()
    except (k.Damaged, gdb.MemoryError) as e:
        f.bad("%s: %s" % (who, e))
        chunks = []
    used = 0
    for c in chunks:
        if not 0 <= c.used <= c.size:
            f.bad("%s: spill chunk %08x uses %d of %d bytes" % (who, c.addr, c.used, c.size))
        used += c.used
    if chunks and used != t.spill_bytes:
        f.bad("%s: spill chunks hold %d B but spill_bytes says %d" % (who, used, t.spill_bytes))
    if not chunks and t.spill_bytes:
        f.bad("%s: spill_bytes is %d with no spill chunk" % (who, t.spill_bytes))
    if t.chunk_top is not None and chunks:
        # The inline bump's end is the newest chunk's.
        chunk_end = int(t.value["arena"]["chunk_end"])
        if chunk_end != chunks[0].data + chunks[0].size:
            f.bad("%s: chunk_end %08x is not the end %08x of the newest spill chunk %08x" % (
                who, chunk_end, chunks[0].data + chunks[0].size, chunks[0].addr))
    # Debug builds: the records tile [base, top) exactly.
    if k.debug_build():
        records, problem = arena_mod.block_records(t)
        if problem:
            f.bad("%s: arena records: %s" % (who, problem))
        for c in chunks:
            _, problem = arena_mod.chunk_records(c)
            if problem:
                f.bad("%s: spill chunk %08x: %s" % (who, c.addr, problem))


def check_threads(view, f):
    for t in view.threads:
        try:
            check_thread(t, view, f)
        except gdb.MemoryError as e:
            f.bad("thread %d (%s): block unreadable: %s" % (t.tid, t.name, e))
    kfast = k.symbol_value("g_kfast")
    cur = view.current
    if cur is not None and int(kfast["arena"]) != cur.arena_addr and not view.mid_switch:
        f.bad("g_kfast.arena (%08x) is not the running thread's arena (%08x, thread %d)" % (
            int(kfast["arena"]), cur.arena_addr, cur.tid))


# ---------------------------------------------------------------------------
# The heap

class HeapLayout:
    def __init__(self):
        self.btype = k.lookup_type("struct heap_block")
        self.debug = k.has_field(self.btype, "magic")
        self.hsize = self.btype.sizeof
        self.hdr = k.align_up(self.hsize + (k.HEAP_RZ_MIN if self.debug else 0), k.HEAP_GRAIN)
        self.off = {f.name: f.bitpos // 8 for f in self.btype.fields()}


def heap_busy():
    """The heap function the CPU is stopped in, if any (its state may be mid-update)."""
    try:
        frame = gdb.newest_frame()
        for _ in range(32):
            if frame is None:
                break
            name = frame.name() or ""
            if name.startswith("heap_") or name in ("kmalloc", "kfree", "kzalloc", "krealloc",
                                                     "kmalloc_slow", "kfree_slow"):
                return name
            frame = frame.older()
    except gdb.error:
        pass
    return None


def inline_heap_possible(lay):
    """Release builds take blocks from the heap's cache and give them back inline,
    anywhere kmalloc or kfree is called, with interrupts off: stopped with them
    off, the CPU may be half way through one (the cache's lists and counts, not
    the heap's other counters)."""
    if lay.debug:
        return False
    try:
        return not int(gdb.parse_and_eval("$eflags")) & (1 << 9)
    except gdb.error:
        return True


def check_cache(f, heap, lay, regions, cached_seen, mid_update):
    """Every class list against the blocks: each entry a cached block of its
    class's size, each class's count within its bound and as its room says."""
    say = f.notes.append if mid_update else f.bad
    cache = heap["cache"]
    slots = cache.type.range()[1] + 1
    low = (lay.hdr + k.align_up(max(8, k.HEAP_RZ_MIN if lay.debug else 0), k.HEAP_GRAIN)) // k.HEAP_GRAIN
    top = (512 + (k.HEAP_RZ_MIN if lay.debug else 0) + k.HEAP_GRAIN - 1) // k.HEAP_GRAIN + lay.hdr // k.HEAP_GRAIN

    def depth(j):
        if j < low or j > top:
            return 0
        return max(1, min(k.HEAP_CACHE_DEPTH, k.HEAP_CACHE_CLASS_BYTES // (j * k.HEAP_GRAIN)))

    def in_region(p):
        return any(int(regions[i]["start"]) + lay.hdr <= p < int(regions[i]["end"]) - lay.hdr
                   for i in range(int(heap["nregions"])))

    listed = set()
    for j in range(slots):
        room = int(cache[j]["room"])
        head = int(cache[j]["head"])
        n, p = 0, head
        while p:
            if n >= depth(j) or not in_region(p) or p % k.HEAP_GRAIN:
                say("heap cache class %d (%d B blocks): entry %08x is not one of its blocks" % (
                    j, j * k.HEAP_GRAIN, p))
                break
            size = k.u32(p - lay.hdr + lay.off["size"])
            if not size & k.HEAP_BLOCK_CACHED or size & ~(k.HEAP_GRAIN - 1) != j * k.HEAP_GRAIN:
                say("heap cache class %d: block %08x is listed but its header says size %#x" % (
                    j, p - lay.hdr, size))
            listed.add(p - lay.hdr)
            n += 1
            p = k.u32(p)
        if room < 0 or n != depth(j) - room:
            say("heap cache class %d: %d blocks listed, but room %d of %d" % (j, n, room, depth(j)))
    if len(listed) != k.HEAP_CACHE_BLOCKS - int(heap["cache_room"]):
        say("heap cache: %d blocks listed, but cache_room says %d" % (
            len(listed), k.HEAP_CACHE_BLOCKS - int(heap["cache_room"])))
    for addr in sorted(cached_seen - listed):
        say("heap block %08x is marked cached but no class lists it" % addr)


def check_heap(f):
    """Walks every region of g_kheap; returns the blocks, live and cached blocks and red zones checked."""
    heap = k.symbol_value("g_kheap")
    lay = HeapLayout()
    nregions = int(heap["nregions"])
    regions = heap["regions"]
    if nregions > regions.type.range()[1] + 1:
        f.bad("heap: nregions is %d, more than the %d slots" % (nregions, regions.type.range()[1] + 1))
        return 0, 0, 0, 0
    blocks = live = live_bytes = cached = cached_bytes = 0
    redzones = 0
    cached_seen = set()
    top_run = []                # the last region's blocks from its last one in use: (address, kind)
    busy = heap_busy()
    mid_update = bool(busy) or inline_heap_possible(lay)

    def field(data, off, name):
        o = off + lay.off[name]
        return int.from_bytes(data[o:o + 4], "little")

    for i in range(nregions):
        start = int(regions[i]["start"])
        end = int(regions[i]["end"])
        if end <= start or end - start > HEAP_READ_MAX:
            f.bad("heap region %d: [%08x, %08x) is not a sane range" % (i, start, end))
            continue
        try:
            data = k.read(start, end - start)
        except gdb.MemoryError:
            f.notes.append("heap region %d [%08x, %08x) cannot be read: skipped" % (i, start, end))
            continue
        off, prev = 0, 0
        free_below = False      # a free block below, with only cached ones between
        marker = end - lay.hdr - start
        top_run = []
        while True:
            addr = start + off
            if off > marker:
                f.bad("heap region %d: block walk overran the end marker at %08x" % (i, end - lay.hdr))
                break
            raw = field(data, off, "size")
            bsize = raw & ~(k.HEAP_GRAIN - 1)
            free = raw & k.HEAP_BLOCK_FREE
            in_cache = raw & k.HEAP_BLOCK_CACHED
            if field(data, off, "prev_phys") != prev:
                f.bad("heap block %08x: prev_phys %08x, expected %08x" % (
                    addr, field(data, off, "prev_phys"), prev))
            if free_below and not raw & k.HEAP_BLOCK_FREE_BELOW and not mid_update:
                f.bad("heap block %08x: a free block lies below it, but its header does not say so" % addr)
            if off == marker:
                if bsize != 0 or (lay.debug and field(data, off, "magic") != k.HEAP_MAGIC_END):
                    f.bad("heap region %d: end marker at %08x is damaged" % (i, addr))
                break
            if bsize < lay.hdr or off + bsize > marker:
                f.bad("heap block %08x: size %#x does not fit in region %d (ends %08x)" % (
                    addr, raw, i, end))
                break
            blocks += 1
            kind = "free" if free else "cached" if in_cache else "live"
            if lay.debug:
                magic = field(data, off, "magic")
                want = {"free": k.HEAP_MAGIC_FREE, "cached": k.HEAP_MAGIC_CACHED,
                        "live": k.HEAP_MAGIC_LIVE}[kind]
                if magic != want and not (kind != "free" and mid_update):
                    f.bad("heap block %08x: magic %08x, expected %08x (%s block)" % (
                        addr, magic, want, kind))
            if kind == "live":
                top_run = []
            else:
                top_run.append((addr, kind))
            if in_cache and not free:
                cached += 1
                cached_bytes += bsize
                cached_seen.add(addr)
                if lay.debug and not mid_update:
                    user = off + lay.hdr
                    freed = next((j for j in range(user + 4, off + bsize) if data[j] != k.HEAP_FREED), None)
                    if freed is not None:
                        f.bad("heap block %08x (freed, waiting in the cache; allocated by %s): written "
                              "after its free at %08x (byte %02x, expected %02x)" % (
                                  addr, k.describe_pc(field(data, off, "owner")), start + freed,
                                  data[freed], k.HEAP_FREED))
            elif not free:
                live += 1
                live_bytes += bsize
                if lay.debug:
                    req = field(data, off, "req")
                    owner = field(data, off, "owner")
                    if req > bsize - lay.hdr:
                        f.bad("heap block %08x: %d bytes requested in a %d-byte payload" % (
                            addr, req, bsize - lay.hdr))
                    else:
                        user = addr + lay.hdr
                        zones = (("before", off + lay.hsize, off + lay.hdr),
                                 ("after", off + lay.hdr + req, off + bsize))
                        for side, lo, hi in zones:
                            redzones += 1
                            bad = next((j for j in range(lo, hi) if data[j] != k.HEAP_REDZONE), None)
                            if bad is not None:
                                f.bad("heap block %08x (object %08x, %d B, allocated by %s): red zone "
                                      "%s the object written at %08x (byte %02x, expected %02x)" % (
                                          addr, user, req, k.describe_pc(owner), side,
                                          start + bad, data[bad], k.HEAP_REDZONE))
            free_below = bool(free) or (bool(in_cache) and free_below)
            prev = addr
            off += bsize
    # No cached block of the last region's top run may lie above a free one:
    # it would keep that free memory from reaching the top and going back.
    seen_free = False
    for addr, kind in top_run:
        if kind == "free":
            seen_free = True
        elif seen_free and not mid_update:
            f.bad("heap block %08x: cached above a free block at the top: it pins memory the heap "
                  "could give back" % addr)
            break
    stats = heap["stats"]
    if busy:
        f.notes.append("the CPU is inside %s: the heap may be mid-update, its counters were not compared" % busy)
    else:
        # The counters see cached blocks as in use, as the free lists do.
        if int(stats["live_blocks"]) != live + cached:
            f.bad("heap: %d live and %d cached blocks found, stats.live_blocks says %d" % (
                live, cached, int(stats["live_blocks"])))
        if int(stats["in_use"]) != live_bytes + cached_bytes:
            f.bad("heap: %d B in live and cached blocks, stats.in_use says %d" % (
                live_bytes + cached_bytes, int(stats["in_use"])))
        if mid_update:
            f.notes.append("interrupts are off: an inline kmalloc or kfree may be half way through, so "
                           "the heap's cache is checked but not held to it")
        check_cache(f, heap, lay, regions, cached_seen, mid_update)
    # Free lists: each head is a free block, and the bitmaps agree with the heads.
    fl_map = int(heap["fl_map"])
    free = heap["free"]
    fl_count = free.type.range()[1] + 1
    sl_count = free[0].type.range()[1] + 1
    for fl in range(fl_count):
        sl_map = int(heap["sl_map"][fl])
        for sl in range(sl_count):
            head = int(free[fl][sl])
            if bool(head) != bool(sl_map & (1 << sl)):
                f.bad("heap: free list [%d][%d] head %08x but its sl_map bit is %d" % (
                    fl, sl, head, (sl_map >> sl) & 1))
        if bool(sl_map) != bool(fl_map & (1 << fl)):
            f.bad("heap: sl_map[%d] is %08x but fl_map bit %d is %d" % (fl, sl_map, fl, (fl_map >> fl) & 1))
    return blocks, live, cached, redzones


def run(write=gdb.write):
    f = Findings()
    view = k.View()
    check_threads(view, f)
    heap_text = ""
    try:
        blocks, live, cached, redzones = check_heap(f)
        heap_text = "%d heap blocks (%d live, %d cached%s)" % (
            blocks, live, cached, ", %d red zones" % redzones if redzones else "")
    except (k.NotReady, gdb.error) as e:
        f.notes.append("heap not checked: %s" % e)
        heap_text = "heap not checked"
    for text in f.violations:
        write("VIOLATION: %s\n" % text)
    for text in f.warnings:
        write("warning: %s\n" % text)
    for text in f.notes:
        write("note: %s\n" % text)
    what = "%d thread%s, %s" % (len(view.threads), "" if len(view.threads) == 1 else "s", heap_text)
    if f.violations:
        write("tandem check: %d VIOLATION%s in %s\n" % (
            len(f.violations), "" if len(f.violations) == 1 else "S", what))
    else:
        write("tandem check: OK: %s checked, no violations\n" % what)
    return f
