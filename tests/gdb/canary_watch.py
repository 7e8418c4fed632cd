"""`tandem watch canary`: the kfast suite's stray write (tests/kernel/
kfast_test.c, collide_once's STRAY_WRITE) stops the machine on the write
itself - at its source line, before any check has seen the broken canary -
and the thread's own allocations before it (the arena top moving, a new
canary written each time) do not stop it."""

import os
import re

import gdb

from gdbtest import (ROOT, expect, expect_eq, go, kernel_top, nm_symbol, reg, run, test, u32,
                     val)


def stray_write_line():
    """The line of collide_once's first `= 0x0BADF00Du;` (the STRAY_WRITE case)."""
    path = os.path.join(ROOT, "tests/kernel/kfast_test.c")
    lines = open(path).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("collide_once("))
    return next(i + 1 for i in range(start, len(lines)) if "= 0x0BADF00Du;" in lines[i])


@test
def watch_canary_stops_at_the_stray_write():
    # The first collider thread (STRAY_WRITE: its argument is 0).
    run("break *collider_main if *(unsigned *)($esp + 4) == 0")
    go()
    run("delete")
    t = val("g_current")
    tid = val("g_current->tid")
    allocations = val("g_kfast.allocations")
    out = run("tandem watch canary %d" % tid)
    expect("tandem watch canary of thread %d" % tid in out, "no watchpoint:\n" + out)
    number = gdb.breakpoints()[-1].number
    collisions = val("g_current->arena.collisions")
    out = go()
    expect_eq(val("g_current"), t, "the thread stopped in")
    expect(val("g_kfast.allocations") > allocations,
           "no allocation came before the stray write: the test proves nothing")
    expect_eq(val("g_current->arena.collisions"), collisions,
              "collisions reported before the stop (a check saw it first)")
    top = kernel_top(t)
    expect_eq(u32(top), 0x0BADF00D, "the word at the arena top")
    expect("the canary of thread %d (kfast-collider) at %08x was overwritten: c011de5a -> 0badf00d"
           % (tid, top) in out, "no report of the stray write:\n" + out)
    sal = gdb.find_pc_line(reg("eip") - 1)
    line = stray_write_line()
    m = re.search(r"^  written by ([0-9a-f]{8}) (\S+) \(([^:]+):(\d+)\)", out, re.M)
    expect(m, "no writing instruction in:\n" + out)
    expect_eq((m.group(3), int(m.group(4))), ("tests/kernel/kfast_test.c", line),
              "the writer's source line")
    expect_eq(nm_symbol(int(m.group(1), 16)), "collide_once", "the writer's function")
    expect_eq(sal.line, line, "the line the CPU stopped after")
    run("delete %d" % number)
