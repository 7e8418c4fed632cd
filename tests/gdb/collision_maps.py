"""Collision maps stay exact once the stack has crossed: no room figure,
every boundary named, no label cut, and the low-water difference with the
kernel's report explained.  The crossing is the kfast suite's dive into
the guard; the stack over the arena's objects is made by moving the arena
top above esp from GDB (and back)."""

import re

import gdb

from gdbtest import (BOUNDARY, PIECE, check_map_sums, ctx, expect, expect_eq, run, test, val)

LABELS = re.compile(r"^(trap frame from ring 3( \(stale\))?|kernel stack in use|"
                    r"STACK IN THE CLAIMED PAGES|COLLISION: stack over the canary|"
                    r"COLLISION: stack over arena objects|(reserve|free|claimed): "
                    r"(stack was here|never touched|arena was here \(peak\))|"
                    r"canary [0-9a-f?]{8} (intact|BROKEN)|arena( in use|: \d+ live allocations?))$")


def check_map(out, what):
    """Every piece's label whole and known, every boundary named; the pieces
    add up to the block."""
    pieces = []
    for line in out.splitlines():
        m = BOUNDARY.match(line)
        if m:
            expect(m.group(3).strip(), "%s: a boundary without a name: %r" % (what, line))
        m = PIECE.match(line)
        if m:
            expect(LABELS.match(m.group(1)), "%s: a cut or unknown label %r" % (what, m.group(1)))
            pieces.append((m.group(1), int(m.group(2))))
    expect(pieces, "%s: no map:\n%s" % (what, out))
    check_map_sums(pieces, val("sizeof(g_boot_block)"))
    return dict(pieces)


@test
def collision_map_exact_after_the_guard():
    # At the guard's collision (collision_report in the double-fault task).
    out = ctx.get("trap_catch_output")
    expect(out, "no trap collision was caught")
    t = val("g_current")
    esp = val("g_tss_io.tss.esp")
    off = val("((struct thread *)%d)->arena.sp_offset" % t)
    guard = val("g_kfast.guard")
    # A push at the guard faults with esp still on it: then the access that
    # crossed is cr2's (release builds' dive does that; debug builds' moves
    # esp past the guard first).
    cr2 = val("$cr2") & 0xFFFFFFFF
    reach = cr2 if esp + off >= guard and cr2 + off < guard else esp
    sp = reach + off
    for text, what in ((out, "the catch's map"), (run("tandem block"), "`tandem block`")):
        pieces = check_map(text, what)
        expect("kfastmalloc can place" not in text, "%s: a room figure after the crossing:\n%s"
               % (what, text))
        expect_eq(pieces.get("STACK IN THE CLAIMED PAGES"), guard - sp, "%s: stack past the guard"
                  % what)
        line = "%s is %d B inside the claimed pages (guard %08x, arena view)" % (
            "esp" if reach == esp else "the faulting access (cr2)", guard - sp, guard)
        expect(line in text, "%s: no %r in:\n%s" % (what, line, text))
    expect("the report takes it after its own calls have used more stack" in out,
           "the low-water difference with the report is not explained:\n" + out)
    arena = run("tandem arena")
    expect("room       none: esp %08x (tss) is past the guard" % esp in arena,
           "`tandem arena` room after the crossing:\n" + arena)


@test
def collision_map_stack_over_the_arena():
    # The arena top moved above esp (as if the arena had grown over the
    # stack): the map names every cut and gives no room.
    t = val("g_current")
    top = val("g_kfast.top")
    esp = val("g_tss_io.tss.esp")
    off = val("((struct thread *)%d)->arena.sp_offset" % t)
    fake = ((esp + off) + 64) & ~7
    gdb.execute("set var g_kfast.top = %d" % fake, to_string=True)
    try:
        out = run("tandem block")
    finally:
        gdb.execute("set var g_kfast.top = %d" % top, to_string=True)
    expect_eq(val("g_kfast.top"), top, "arena top put back")
    pieces = check_map(out, "the map with the stack over the arena")
    expect_eq(pieces.get("COLLISION: stack over the canary"), 4, "the canary piece")
    expect_eq(pieces.get("COLLISION: stack over arena objects"), fake - (esp + off),
              "stack over arena objects")
    line = "no free gap: esp is %d B below the canary's end" % (fake + 4 - (esp + off))
    expect(line in out and "kfastmalloc can place" not in out, "no %r in:\n%s" % (line, out))
