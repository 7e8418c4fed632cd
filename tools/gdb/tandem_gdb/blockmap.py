"""`tandem block`: the map of a block (README.md, "The block"), drawn with
one thread's values.

The block is cut at every address that matters - the trap frame, esp,
esp - reserve, the deepest stack write so far, the arena's peak, the
canary, the arena top - and each piece is one row of the drawing with its
size in bytes and as a share of the block.  The rows always add up to
KSTACK_SIZE.
"""

import gdb

from . import kernel as k

# Box-drawing characters, and their ASCII stand-ins for terminals that
# cannot show them (`set tandem-ascii on`, or a host charset without UTF-8).
UNICODE = {"tl": "┌", "tr": "┐", "ml": "├", "mr": "┤", "bl": "└", "br": "┘", "h": "─", "v": "│"}
ASCII = {"tl": "+", "tr": "+", "ml": "+", "mr": "+", "bl": "+", "br": "+", "h": "-", "v": "|"}

BOX_WIDTH = 38


class AsciiParameter(gdb.Parameter):
    """Whether the tandem commands draw with ASCII instead of box-drawing characters.

The default follows GDB's host character set: box drawing when it is UTF-8."""

    set_doc = "Set whether tandem draws block maps with ASCII characters."
    show_doc = "Show whether tandem draws block maps with ASCII characters."

    def __init__(self):
        super().__init__("tandem-ascii", gdb.COMMAND_DATA, gdb.PARAM_AUTO_BOOLEAN)
        self.value = None

    def get_show_string(self, svalue):
        return "Drawing with ASCII only is %s." % svalue


def glyphs():
    choice = gdb.parameter("tandem-ascii")
    if choice is True:
        return ASCII
    if choice is False:
        return UNICODE
    try:
        charset = gdb.host_charset()
    except AttributeError:
        charset = gdb.parameter("host-charset") or ""
    return UNICODE if "UTF-8" in charset.upper() or "UTF8" in charset.upper() else ASCII


def pct(n, total):
    return "%5.1f%%" % (100.0 * n / total) if total else "   - "


class Region:
    """Bytes [lo, hi) of the block, as offsets from its start."""

    def __init__(self, lo, hi, label):
        self.lo, self.hi, self.label = lo, hi, label

    @property
    def size(self):
        return self.hi - self.lo


def regions(t, esp, in_user_mode, live_allocs=None, reach=None):
    """The pieces of t's block from the top down (offsets), and the names of
    the offsets between them.  esp is a stack-view address or None; reach
    the lowest address the stack reached (View.stack_reach), if lower."""
    size = t.size
    top = t.top - t.base
    can = top + 4
    tf = size - k.trap_frame_size() if t.user else size
    names = {}

    def name(off, text):
        names.setdefault(off, []).append(text)

    name(size, "top of block (TSS.esp0 while it runs)")
    name(0, "base")
    pieces = []
    if t.user:
        pieces.append(Region(tf, size, "trap frame from ring 3" + (" (stale)" if in_user_mode else "")))
        name(tf, "trap frame")
    if not (0 <= top and can <= size):
        return [Region(0, size, "arena top %08x is outside the block!" % t.top)], names

    sp = esp - t.block if esp is not None else None
    esp_ok = sp is not None and 0 <= sp <= size
    low = min(sp, reach - t.block) if esp_ok and reach is not None else sp
    guard = t.claimed if t.claimed else None
    marks = {
        "peak_end": max(can, min(t.low_water_from() - t.base, tf)),
        "deepest": min(t.low_water_from() - t.base + t.low_water(), tf),
    }
    arena_text = arena_label(live_allocs)
    if esp_ok and sp < can:
        # The stack is over the canary, or deeper over the arena's objects.
        # Every cut is named, the guard's too when the stack passed it.
        hi = tf
        if guard is not None and can < guard < tf:
            pieces.append(Region(guard, tf, "kernel stack in use"))
            pieces.append(Region(can, guard, "STACK IN THE CLAIMED PAGES"))
            name(guard, "guard: claimed pages end")
            hi = guard
        else:
            pieces.append(Region(can, hi, "kernel stack in use"))
        name(can, "canary's end")
        pieces.append(Region(max(sp, top), can, "COLLISION: stack over the canary"))
        if sp < top:
            pieces.append(Region(sp, top, "COLLISION: stack over arena objects"))
            name(top, "arena top")
            name(sp, "esp")
            if sp > 0:
                pieces.append(Region(0, sp, arena_text))
        else:
            name(sp, "esp" if sp != top else "esp, arena top")
            if top > 0:
                pieces.append(Region(0, top, arena_text))
        return finish(pieces), names

    crossed = esp_ok and guard is not None and low < guard < tf
    gap_hi = tf
    if esp_ok:
        if crossed:
            # The stack reached the claimed pages: the guard's fault.
            pieces.append(Region(guard, tf, "kernel stack in use"))
            pieces.append(Region(low, guard, "STACK IN THE CLAIMED PAGES"))
            name(guard, "guard: claimed pages end")
            if low < sp:
                name(low, "faulting access (cr2)")
        elif sp < tf:
            pieces.append(Region(sp, tf, "kernel stack in use"))
        gap_hi = min(low if crossed else sp, tf)
        name(sp, "esp")
    elif in_user_mode:
        name(tf, "esp0: kernel stack empty (user mode)")
    # Past the guard, "esp - reserve" would cut claimed pages for nothing.
    reserve = sp - k.KFAST_RESERVE if esp_ok and not crossed else None
    cuts = {can, gap_hi}
    for off, label in ((reserve, "esp - reserve"),
                       (guard, "guard: claimed pages end (below: gone from the stack view)"),
                       (marks["deepest"], "deepest stack write (low-water)"),
                       (marks["peak_end"], "arena peak + canary")):
        if off is not None and can < off < gap_hi:
            cuts.add(off)
            name(off, label)
    cuts = sorted(cuts, reverse=True)
    for hi, lo in zip(cuts, cuts[1:]):
        if guard is not None and hi <= guard:
            zone = "claimed"
        elif reserve is not None and lo >= reserve:
            zone = "reserve"
        else:
            zone = "free"
        if hi <= marks["peak_end"]:
            what = "arena was here (peak)"
        elif hi <= marks["deepest"]:
            what = "never touched"
        else:
            what = "stack was here"
        pieces.append(Region(lo, hi, "%s: %s" % (zone, what)))
    canary = t.canary()
    state = "intact" if canary == k.KFAST_CANARY else "BROKEN"
    pieces.append(Region(top, can, "canary %s %s" % (
        "%08x" % canary if canary is not None else "????????", state)))
    name(can, "canary")
    name(top, "arena top")
    if guard is not None and guard <= can:
        name(guard, "guard: claimed pages end")
    if top > 0:
        pieces.append(Region(0, top, arena_text))
    return finish(pieces), names


def arena_label(live_allocs):
    if live_allocs is None:
        return "arena in use"
    return "arena: %d live allocation%s" % (live_allocs, "" if live_allocs == 1 else "s")


def finish(pieces):
    return sorted([p for p in pieces if p.size > 0], key=lambda p: -p.hi)


def draw(t, view, esp=None, esp_how=None, out=None):
    """Prints the map of t's block; esp (a stack-view address) overrides the
    thread's own."""
    from . import arena as arena_mod
    write = out or gdb.write
    g = glyphs()
    if esp is None and esp_how is None:
        esp, esp_how = view.esp_of(t)
    in_user = view.cpu.user_mode and view.running(t)
    allocs = None
    if k.debug_build():
        try:
            allocs = len(arena_mod.block_records(t)[0])
        except k.Damaged:
            allocs = None
    reach = view.stack_reach(t, esp)
    pieces, names = regions(t, esp, in_user, allocs, reach)
    size = t.size
    two = t.view_off != 0

    state = "running" if view.running(t) else t.state
    if view.running(t):
        state += " in user mode" if view.cpu.user_mode else " in the kernel"
    elif t.state == "blocked" and t.wait_reason:
        state += " (%s)" % t.wait_reason
    write("Block of thread %d (%s), %s: %s\n" % (
        t.tid, t.name, ("process " + t.process_text()) if t.user else "kernel thread", state))
    if two:
        write("stack view %08x-%08x, arena view %08x-%08x: %d bytes (KSTACK_SIZE), mapped twice\n" % (
            t.block, t.top_of_block, t.base, t.base + size, size))
    else:
        write("%08x-%08x, %d bytes (KSTACK_SIZE)\n" % (t.block, t.top_of_block, size))
    if esp is None:
        esp_text = "none: kernel stack empty (user mode)" if esp_how == "user" else "unknown"
    else:
        esp_text = "%08x (%s)%s" % (esp, esp_how, "" if t.contains(esp) or esp == t.top_of_block
                                    else ", OUTSIDE the block")
    write("reserve %d B below esp; esp %s\n\n" % (k.KFAST_RESERVE, esp_text))

    pad = " " * (19 if two else 10)
    if two:
        write("  %-8s %-8s\n" % ("stack", "arena"))

    # Wide enough for every label: a label is never cut.
    width = max([BOX_WIDTH] + [len(p.label) + 2 for p in pieces])

    def boundary(off, left, right):
        label = ", ".join(names.get(off, []))
        addr = ("%08x %08x" % (t.block + off, t.base + off)) if two else "%08x" % (t.block + off)
        write("  %s %s%s%s %s\n" % (addr, left, g["h"] * width, right, label))

    boundary(size, g["tl"], g["tr"])
    for i, p in enumerate(pieces):
        write(" %s%s %-*s %s %6d B %s\n" % (pad, g["v"], width - 2, p.label, g["v"], p.size,
                                           pct(p.size, size)))
        for _ in range(min(4, int(8 * p.size / size))):
            write(" %s%s%s%s\n" % (pad, g["v"], " " * width, g["v"]))
        last = i == len(pieces) - 1
        boundary(p.lo, g["bl"] if last else g["ml"], g["br"] if last else g["mr"])
    write("\n")
    summary(t, view, esp, reach, in_user, write)


def summary(t, view, esp, reach, in_user, write):
    size = t.size
    lw = t.low_water()
    write("  arena top %08x: %d B in the block (%s), peak %d B in the block (%s)\n" % (
        t.top, t.in_block, pct(t.in_block, size).strip(), t.peak_in_block,
        pct(t.peak_in_block, size).strip()))
    if t.claimed:
        write("  claimed by the arena: %d B up to %08x (arena view); the stack view has no pages there\n" % (
            t.claimed, t.guard))
    if esp is not None and t.contains(esp):
        sp = t.stack_to_arena(esp)
        gap = sp - (t.top + 4)
        if gap < 0:
            write("  no free gap: esp is %d B below the canary's end (arena top + 4): the stack "
                  "is over the arena; nothing can be placed\n" % -gap)
        elif t.claimed and t.stack_to_arena(reach) < t.guard:
            write("  %s is %d B inside the claimed pages (guard %08x, arena view): the stack "
                  "crossed the guard; %d B lie between esp and the canary's end\n" % (
                      "esp" if reach == esp else "the faulting access (cr2)",
                      t.guard - t.stack_to_arena(reach), t.guard, gap))
        else:
            write("  free gap esp - (arena top + 4): %d B; kfastmalloc can place %d B more in the "
                  "block, then it spills\n" % (gap, t.room(esp)))
    write("  stack low-water: %d B (%s) never touched, deepest write at %08x\n" % (
        lw, pct(lw, size).strip(), t.deepest_write()))
    chunks = t.chunks()
    if chunks:
        write("  spill: %d chunk%s, %d B handed out (tandem arena %d lists them)\n" % (
            len(chunks), "" if len(chunks) == 1 else "s", t.spill_bytes, t.tid))
    else:
        write("  spill: none\n")
    if t.user:
        try:
            f = k.TrapFrame(t.user_frame_addr(), t)
            note = " (stale: from its last kernel entry)" if in_user else ""
            if f.user:
                write("  trap frame %08x: %s, user esp %08x%s\n" % (f.addr, f.describe(),
                                                                   f.user_esp, note))
        except (gdb.error, gdb.MemoryError):
            pass
    if view.running(t) and not view.cpu.user_mode:
        frames = k.trap_frames_on_stack(t)
        for f in frames:
            if f.addr != t.user_frame_addr() or not t.user:
                write("  trap frame %08x: %s\n" % (f.addr, f.describe()))
    if in_user:
        write("  in user mode at eip %08x, user esp %08x\n" % (view.cpu.eip, view.cpu.esp))
