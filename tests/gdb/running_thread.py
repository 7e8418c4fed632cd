"""The running thread named by its tid, its name, a pointer or
$tandem_current() gets the same live map as `tandem block` without an
argument - in the kernel, in ring 3 and in the double-fault task - not the
map of its stale saved esp (helpers that compared threads by Python
identity drew that one)."""

from gdbtest import (block_map, expect, expect_eq, kernel_threads, kstring, reg, run, test,
                     val)


def names_of_threads():
    return [kstring("((struct thread *)%d)->name" % t) for t in kernel_threads()]


def same_map_every_way(thread_expr, where):
    """`tandem block SPEC` for every way of naming the thread, against
    `tandem block`; returns that map."""
    t = val(thread_expr)
    tid = val("((struct thread *)%d)->tid" % t)
    name = kstring("((struct thread *)%d)->name" % t)
    plain = run("tandem block")
    specs = [str(tid), "(struct thread *) %#x" % t, "*(struct thread *)%d" % t]
    if thread_expr == "g_current":
        specs.append("$tandem_current()")
    if names_of_threads().count(name) == 1:
        specs += [name, '"%s"' % name]
    for spec in specs:
        out = run("tandem block %s" % spec)
        expect_eq(out, plain, "`tandem block %s` %s, against `tandem block`" % (spec, where))
    return plain, tid


@test
def running_thread_block_by_tid_in_kernel():
    # At the kfastmalloc stop: a user thread inside a system call.
    plain, tid = same_map_every_way("g_current", "in the kernel")
    esp = reg("esp")
    bounds, pieces, _ = block_map(plain)
    expect_eq(bounds.get("esp"), esp, "esp in the map")
    expect("esp %08x (live)" % esp in plain, "the map's esp is not the live one:\n" + plain)
    top_of_block = val("(unsigned)g_current->block") + val("sizeof(g_boot_block)")
    frame = val("sizeof(struct trap_frame)")
    expect_eq(dict(pieces).get("kernel stack in use"), top_of_block - frame - esp,
              "live kernel stack bytes")
    arena = run("tandem arena %d" % tid)
    expect("with esp %08x (live)" % esp in arena, "`tandem arena %d` room not from the live esp:\n%s"
           % (tid, arena))


@test
def running_thread_block_by_tid_in_user_mode():
    # At the user-mode stop: its kernel stack is empty.
    expect(reg("cs") & 3 == 3, "not in ring 3")
    plain, tid = same_map_every_way("g_current", "in user mode")
    expect("esp none: kernel stack empty (user mode)" in plain and
           "esp0: kernel stack empty (user mode)" in plain,
           "the map does not show an empty kernel stack:\n" + plain)
    expect("kfastmalloc can place" not in plain, "a room figure without a kernel esp:\n" + plain)


@test
def running_thread_block_in_double_fault_task():
    # At the guard's collision, stopped in collision_report in the
    # double-fault task: the thread it interrupted is g_current.
    expect("double-fault task" in run("tandem"), "not in the double-fault task")
    plain, tid = same_map_every_way("g_current", "in the double-fault task")
    esp = val("g_tss_io.tss.esp")
    expect_eq(block_map(plain)[0].get("esp"), esp, "esp in the map (the TSS's)")
    expect("esp %08x (tss)" % esp in plain, "the map's esp is not the TSS's:\n" + plain)
    expect("STACK IN THE CLAIMED PAGES" in plain, "the map of the colliding thread looks healthy:\n"
           + plain)
