# The GDB tests themselves: run inside GDB (gdb -batch -x), after the
# helpers were loaded the way a user loads them (-x tools/gdb/tandem.py).
#
# Each test steers QEMU to a stop, runs the helpers' commands as a user
# types them and compares their printed figures with values read another
# way: registers, the kernel's variables through GDB expressions, the
# kernel's own functions called from GDB (kfast_low_water, kheap_check),
# its own figures (the struct kfast_stats it fills for a system call, the
# collision report it writes), the ELF's symbol table through nm.  A helper
# error - a Python exception, a wrong type - fails the test.
#
# Results go to stdout as lines "@@TAP ok NAME" / "@@TAP not ok NAME # why";
# tests/gdb/run_gdb_tests.py numbers them and prints the TAP.

import os
import re
import subprocess
import sys
import traceback

import gdb

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdbtest import *  # noqa: E402,F401,F403  (the shared helpers)
from gdbtest import TESTS, SCENARIO  # noqa: E402

@test
def constants_match_headers():
    import tandem_gdb.kernel as k
    kfast_h = open(os.path.join(ROOT, "include/kfast.h")).read()
    heap_c = open(os.path.join(ROOT, "kernel/mm/heap.c")).read()
    heap_h = open(os.path.join(ROOT, "include/mm/heap.h")).read()
    heap_fast_h = open(os.path.join(ROOT, "include/mm/heap_fast.h")).read()

    def define(text, name):
        m = re.search(r"#define\s+%s\s+(?:\(\(size_t\))?\(?([0-9A-Fa-fx]+)u?(?:\s*<<\s*(\d+))?" % name, text)
        if not m:
            raise Fail("no #define %s" % name)
        v = int(m.group(1).rstrip("u"), 0)
        return v << int(m.group(2)) if m.group(2) else v
    for name, text, mine in (("KFAST_CANARY", kfast_h, k.KFAST_CANARY),
                             ("KFAST_RESERVE", kfast_h, k.KFAST_RESERVE),
                             ("KFAST_PAINT", kfast_h, k.KFAST_PAINT),
                             ("KFAST_ALIGN", kfast_h, k.KFAST_ALIGN),
                             ("KFAST_MAX_ALLOC", kfast_h, k.KFAST_MAX_ALLOC),
                             ("MAGIC_LIVE", heap_c, k.HEAP_MAGIC_LIVE),
                             ("MAGIC_FREE", heap_c, k.HEAP_MAGIC_FREE),
                             ("MAGIC_CACHED", heap_c, k.HEAP_MAGIC_CACHED),
                             ("MAGIC_END", heap_c, k.HEAP_MAGIC_END),
                             ("HEAP_RZ_MIN", heap_fast_h, k.HEAP_RZ_MIN),
                             ("HEAP_BLOCK_FREE", heap_fast_h, k.HEAP_BLOCK_FREE),
                             ("HEAP_BLOCK_CACHED", heap_fast_h, k.HEAP_BLOCK_CACHED),
                             ("HEAP_BLOCK_FREE_BELOW", heap_fast_h, k.HEAP_BLOCK_FREE_BELOW),
                             ("HEAP_FILL_REDZONE", heap_h, k.HEAP_REDZONE),
                             ("HEAP_FILL_FREED", heap_h, k.HEAP_FREED),
                             ("HEAP_CACHE_DEPTH", heap_h, k.HEAP_CACHE_DEPTH),
                             ("HEAP_CACHE_CLASS_BYTES", heap_h, k.HEAP_CACHE_CLASS_BYTES),
                             ("HEAP_CACHE_BLOCKS", heap_h, k.HEAP_CACHE_BLOCKS)):
        expect_eq(mine, define(text, name), name)


@test
def reset_vector_says_not_started():
    expect(reg("eip") == 0xFFF0 and not (reg("cr0") & 0x80000000),
           "QEMU did not stop at the reset vector (eip %08x)" % reg("eip"))
    for cmd in ALL_COMMANDS[:-1] + ["tandem block 1", "tandem arena kmain"]:
        out = run(cmd)
        expect("not running yet" in out and "paging is off" in out,
               "`%s` at the reset vector said:\n%s" % (cmd, out))
    expect_eq(val("$tandem_current()"), 0, "$tandem_current() at the reset vector")
    run("tandem catch")


@test
def kmain_before_threads_says_so():
    run("break kmain")
    go()
    delete_breakpoints()
    expect(val("g_current") == 0, "g_current is already set at kmain")
    for cmd in ALL_COMMANDS[:-1]:
        out = run(cmd)
        expect("no threads yet" in out and "thread_init_boot" in out,
               "`%s` before thread_init_boot said:\n%s" % (cmd, out))
    expect_eq(val("$tandem_current()"), 0, "$tandem_current() before thread_init_boot")


@test
def boot_thread_only_before_sched_init():
    run("break sched_init")
    go()
    delete_breakpoints()
    low = kcall("kfast_low_water(&g_current->arena)")
    out = run("tandem threads")
    rows = thread_rows(out)
    expect_eq(list(rows), [val("g_current->tid")], "thread ids")
    row = rows[val("g_current->tid")]
    expect_eq(row["name"], "kmain", "boot thread name")
    expect(row["cpu"] and row["state"] == "running", "the boot thread is not marked running")
    expect_eq(row["esp"], reg("esp"), "live esp")
    expect_eq(row["top"], val("g_kfast.top"), "arena top")
    expect_eq(row["block"], val("&g_boot_block"), "block")
    expect_eq(row["low_water"], low, "low-water (kernel's kfast_low_water)")
    expect("scheduler has not started" in out, "no word that the scheduler has not started:\n" + out)
    expect("scheduler has not started" in run("tandem"), "`tandem` does not say the scheduler is not started")


@test
def boot_block_map_adds_up():
    bounds, pieces, out = block_map(run("tandem block"))
    size = val("sizeof(g_boot_block)")
    check_map_sums(pieces, size)
    block = val("&g_boot_block")
    expect_eq(bounds.get("top of block"), block + size, "top of block")
    expect_eq(bounds.get("base"), block, "base")
    expect_eq(bounds.get("esp"), reg("esp"), "esp")
    expect_eq(bounds.get("arena top@arena"), val("g_kfast.top"), "arena top")
    run("tandem arena")
    expect("tandem check: OK" in run("tandem check"), "check is not OK on the boot thread")


def stop_in_kfastmalloc():
    """Stops at the first instruction of kfast_alloc_slow in a user thread's
    system call (a request above 16 bytes); returns (size, caller)."""
    run("break *kfast_alloc_slow if g_current->proc != 0 && *(unsigned *)($esp + 4) > 16")
    go()
    delete_breakpoints()
    esp = reg("esp")
    return u32(esp + 4), u32(esp + 8)


@test
def kfastmalloc_every_command_runs():
    ctx["size"], ctx["caller"] = stop_in_kfastmalloc()
    expect(nm_symbol(reg("eip")) == "kfast_alloc_slow", "not stopped in kfast_alloc_slow")
    for cmd in ALL_COMMANDS:
        run(cmd)
    for t in kernel_threads():
        tid = T(t, "tid")
        name = gdb.parse_and_eval("((struct thread *)%d)->name" % t).string()
        run("tandem block %d" % tid)
        run("tandem arena %d" % tid)
        run("tandem block (struct thread *)%d" % t)
        if sum(1 for x in kernel_threads() if gdb.parse_and_eval(
                "((struct thread *)%d)->name" % x).string() == name) == 1:
            run("tandem arena %s" % name)
    run("tandem block $tandem_current()")
    out = run("tandem block 99999", allow_error=True)
    expect("no thread with tid 99999" in out, "an unknown tid gave:\n" + out)


@test
def kfastmalloc_threads_match_kernel():
    threads = kernel_threads()
    cur = val("g_current")
    # The kernel's own low-water for the threads that are not running (their
    # blocks are not touched by the call).
    lows = {t: kcall("kfast_low_water(&((struct thread *)%d)->arena)" % t) for t in threads if t != cur}
    rows = thread_rows(run("tandem threads"))
    expect_eq(sorted(rows), sorted(T(t, "tid") for t in threads), "thread ids")
    for t in threads:
        row = rows[T(t, "tid")]
        what = "thread %d" % T(t, "tid")
        expect_eq(row["name"], gdb.parse_and_eval("((struct thread *)%d)->name" % t).string(), what + " name")
        expect_eq(row["block"], T(t, "block"), what + " block")
        expect_eq(row["end"], T(t, "block") + val("sizeof(g_boot_block)"), what + " block end")
        top = kernel_top(t)
        expect_eq(row["top"], top, what + " arena top")
        if t == cur:
            expect(row["cpu"], what + " is not marked as on the CPU")
            expect_eq(row["esp"], reg("esp"), what + " live esp")
        else:
            expect_eq(row["esp"], T(t, "saved_esp"), what + " saved esp")
            expect_eq(row["low_water"], lows[t], what + " low-water (kernel's kfast_low_water)")
        expect_eq(row["gap"], row["esp"] + view_off(t) - (top + 4), what + " gap")
        peak = max(T(t, "arena.peak"), T(t, "arena.peak_top") - T(t, "arena.base"),
                   top - T(t, "arena.base") + spill_bytes_of("((struct thread *)%d)->arena" % t))
        expect_eq(row["peak"], peak, what + " peak")
        expect_eq(row["canary"], "ok" if u32(top) == CANARY else "BROKEN:%08x" % u32(top), what + " canary")
        want_proc = "kernel" if not T(t, "proc") else "%d %s" % (
            T(t, "proc->pid"), gdb.parse_and_eval("((struct thread *)%d)->proc->name" % t).string())
        expect_eq(row["process"], want_proc, what + " process")


@test
def kfastmalloc_block_map_matches_registers():
    low = kcall("kfast_low_water(&g_current->arena)")
    bounds, pieces, out = block_map(run("tandem block"))
    size = val("sizeof(g_boot_block)")
    block = val("(unsigned)g_current->block")
    tf = val("sizeof(struct trap_frame)")
    check_map_sums(pieces, size)
    expect_eq(bounds.get("esp"), reg("esp"), "esp")
    expect_eq(bounds.get("arena top@arena"), val("g_kfast.top"), "arena top")
    expect_eq(bounds.get("trap frame"), block + size - tf, "trap frame")
    expect_eq(bounds.get("base"), block, "base")
    labels = dict(pieces)
    expect_eq(labels.get("trap frame from ring 3"), tf, "trap frame bytes")
    expect_eq(labels.get("kernel stack in use"), block + size - tf - reg("esp"), "stack bytes")
    expect_eq(labels.get("canary c011de5a intact"), 4, "canary piece")
    arena = [n for l, n in pieces if l.startswith("arena")]
    expect_eq(sum(arena), val("g_kfast.top - g_kfast.arena->base"), "arena bytes")
    if val("g_kfast.arena->guarded") and val("g_kfast.guard") > val("g_kfast.top") + 4:
        expect_eq(bounds.get("guard@arena"), val("g_kfast.guard"), "guard (end of the claimed pages)")
    expect_eq(int(field(out, r"stack low-water: (\d+) B", "low-water")), low,
              "low-water (kernel's kfast_low_water)")
    if "reserve" in " ".join(labels):
        expect_eq(bounds.get("esp - reserve"), reg("esp") - RESERVE, "esp - reserve")


@test
def kfastmalloc_new_allocation_listed():
    go("finish")
    p = reg("eax")
    expect(p != 0, "kfast_alloc_slow returned NULL")
    out = run("tandem arena")
    got = records(out)
    if debug_build():
        expect(got, "no live allocations listed:\n" + out)
        obj, size, taken, caller, group = got[-1]
        expect_eq(obj, p, "newest object")
        expect_eq(size, ctx["size"], "its size")
        expect_eq(taken, slot(ctx["size"]), "its slot")
        want = nm_symbol(ctx["caller"])
        expect(caller.startswith(want + "+") or caller.startswith(want + " "),
               "caller %r, nm says %s for %08x" % (caller, want, ctx["caller"]))
    else:
        expect(not got, "allocations listed by a release build, which records none:\n" + out)
        expect("recorded only in debug builds" in out, "no word that release keeps no records:\n" + out)
    expect_eq(int(field(out, r"top\s+([0-9a-f]{8})", "top"), 16), val("g_kfast.top"), "top")
    # The count in g_kfast is the block's; spills are counted apart.
    expect_eq(int(field(out, r"allocations (\d+) made", "allocations")),
              val("g_kfast.allocations + g_kfast.arena->spills"), "allocations")
    expect_eq(int(field(out, r"in block\s+(\d+) B", "in block")),
              val("g_kfast.top - g_kfast.arena->base"), "bytes in the block")


def keep_no_pages():
    """A reset keeps the claimed pages, so in a release build a user
    thread's later entries allocate inline and never reach kfast_alloc_slow;
    with each user arena's keep at its base, the next reset gives them back
    and every entry after it claims its page again, out of line."""
    for t in kernel_threads():
        if not T(t, "proc"):
            continue
        a = "((struct thread *)%d)->arena" % t
        gdb.execute("set var %s.keep = %s.base" % (a, a), to_string=True)
        if val("%s.reset_limit" % a):                  # 0 while spill chunks exist
            gdb.execute("set var %s.reset_limit = %s.base" % (a, a), to_string=True)


@test
def spill_catch_reports_request():
    size = val("sizeof(g_boot_block)") - 64        # never fits below esp - reserve
    keep_no_pages()
    run("break *kfast_alloc_slow if g_current->proc != 0 && *(unsigned *)($esp + 4) > 16")
    go()
    delete_breakpoints()
    expect(nm_symbol(reg("eip")) == "kfast_alloc_slow", "not stopped in kfast_alloc_slow")
    out = run("tandem catch spill")
    expect("Catchpoint" in out, "no catchpoint:\n" + out)
    gdb.execute("set *(unsigned *)($esp + 4) = %d" % size, to_string=True)
    ctx["spill_caller"] = u32(reg("esp") + 8)
    ctx["spill_tid"] = val("g_current->tid")
    ctx["spill_size"] = size
    top = val("g_kfast.top")
    n = slot(size)
    # Other allocations may spill first (4 KiB blocks and the boot thread spill
    # everything): go on to the one made here.
    for _ in range(100):
        out = go()
        if "spills %d B" % n in out:
            break
    frame = gdb.selected_frame()
    expect(frame.name() == "kfast_spill", "stopped in %s, not kfast_spill" % frame.name())
    expect("tandem catch spill: thread %d (%s) spills %d B" % (
        val("g_current->tid"), gdb.parse_and_eval("g_current->name").string(), n) in out,
        "catch output:\n" + out)
    expect("arena top %08x + %d B" % (top, n) in out, "catch output lacks the arithmetic:\n" + out)
    expect(val("g_current->tid") == ctx.get("spill_tid", val("g_current->tid")), "another thread")
    bounds, pieces, _ = block_map(out)
    check_map_sums(pieces, val("sizeof(g_boot_block)"))
    expect_eq(bounds.get("arena top@arena"), top, "arena top in the catch's map")


@test
def spill_listed_in_arena():
    frame = gdb.selected_frame()
    while frame is not None and frame.name() != "kfast_alloc_slow":
        frame = frame.older()
    expect(frame is not None, "no kfast_alloc_slow frame above the spill")
    frame.select()
    go("finish")
    p = reg("eax")
    for b in list(gdb.breakpoints()):
        b.delete()
    out = run("tandem arena")
    chunk = val("g_kfast.arena->spill")
    expect(chunk != 0, "the kernel has no spill chunk")
    # The newest chunk's fill is the inline bump's pointer.
    used = val("g_kfast.arena->chunk_top") - val("(unsigned)g_kfast.arena->spill->data")
    data = val("(unsigned)g_kfast.arena->spill->data")
    expect(data <= p and p + ctx["spill_size"] <= data + val("g_kfast.arena->spill->size"),
           "object %08x is not in spill chunk %08x" % (p, chunk))
    chunks = 0
    c = chunk
    while c:
        chunks += 1
        c = val("((struct kfast_chunk *)%d)->older" % c)
    line = "in spill   %d B in %d chunk" % (spill_bytes_of("(*g_kfast.arena)"), chunks)
    expect(line in out, "no %r in:\n%s" % (line, out))
    got = [r for r in records(out) if r[4].startswith("in spill chunk %08x" % chunk)]
    if debug_build():
        title = "in spill chunk %08x (%d of %d B used)" % (chunk, used, val("g_kfast.arena->spill->size"))
        expect(title in out, "no %r in:\n%s" % (title, out))
        expect(got, "no allocation listed in the chunk:\n" + out)
        expect_eq(got[-1][0], p, "object in the chunk")
        expect_eq(got[-1][1], ctx["spill_size"], "its size")
        want = nm_symbol(ctx["spill_caller"])
        expect(got[-1][3].startswith(want), "caller %r, nm says %s" % (got[-1][3], want))
    else:
        expect(not got, "allocations listed by a release build, which records none:\n" + out)
    row = thread_rows(run("tandem threads"))[val("g_current->tid")]
    expect_eq(row["spill"], "%d/%dB" % (chunks, spill_bytes_of("(*g_kfast.arena)")), "SPILL column")
    expect("tandem check: OK" in run("tandem check"), "check is not OK after a spill")


@test
def interrupt_handler_trap_frame_found():
    # The timer's handler, at its first instruction: its argument, the trap
    # frame, is at esp + 4 (nm's address: it is file-static).
    run("break *%#x" % nm_address("timer_irq"))
    go()
    delete_breakpoints()
    f = u32(reg("esp") + 4)
    eip = val("((struct trap_frame *)%d)->eip" % f)
    user = val("((struct trap_frame *)%d)->cs" % f) & 3 == 3
    out = run("tandem")
    expect("serving IRQ 0 (timer)" in out, "`tandem` in the timer handler said:\n" + out)
    out = run("tandem block")
    line = "trap frame %08x: IRQ 0 (timer) (vector 32) from %s eip %08x" % (
        f, "user" if user else "kernel", eip)
    expect(line in out, "no %r in:\n%s" % (line, out))
    bounds, pieces, _ = block_map(out)
    expect_eq(bounds.get("esp"), reg("esp"), "esp")
    check_map_sums(pieces, val("sizeof(g_boot_block)"))
    run("tandem arena")
    expect("tandem check: OK" in run("tandem check"), "check is not OK in the handler")
    ctx["irq_frame"] = (f, eip, user)


@test
def user_mode_stop():
    addr = user_symbol("demo_ping", "sys_ipc_call")
    run("break *%#x if $cs == 0x1b && g_current->name[0] == 'd' && g_current->name[6] == 'i'" % addr)
    go()
    delete_breakpoints()
    expect(reg("cs") & 3 == 3, "not in ring 3 (cs %04x)" % reg("cs"))
    out = run("tandem")
    expect("in user mode (ring 3) at eip %08x" % reg("eip") in out, "`tandem` said:\n" + out)
    rows = thread_rows(run("tandem threads"))
    row = rows[val("g_current->tid")]
    expect(row["cpu"] and row["esp_how"] == "user", "running row: %r" % row)
    expect_eq(row["name"], "demo_ping", "name")
    out = run("tandem block")
    bounds, pieces, _ = block_map(out)
    check_map_sums(pieces, val("sizeof(g_boot_block)"))
    line = "in user mode at eip %08x, user esp %08x" % (reg("eip"), reg("esp"))
    expect(line in out, "no %r in:\n%s" % (line, out))
    base = val("g_current->arena.base")
    expect("arena top %08x: 0 B in the block" % base in out,
           "the arena is not shown empty at its base in user mode:\n" + out)
    expect_eq(val("g_kfast.top"), base, "the kernel's own top (the exit path resets it)")
    expect("esp0: kernel stack empty" in out, "no empty kernel stack shown:\n" + out)
    run("tandem arena")
    expect("tandem check: OK" in run("tandem check"), "check is not OK in user mode")


@test
def kfast_stats_match_kernel():
    run("break sys_kfast_stats")
    go()
    delete_breakpoints()
    tid = val("g_current->tid")
    for _ in range(20):
        run("tbreak *copy_to_user")
        go()
        if val("g_current->tid") == tid and nm_symbol(u32(reg("esp"))) == "sys_kfast_stats":
            break
    else:
        raise Fail("copy_to_user was not reached from sys_kfast_stats")
    st = u32(reg("esp") + 8)
    S = lambda f: val("((struct kfast_stats *)%d)->%s" % (st, f))
    out = run("tandem arena")
    expect_eq(int(field(out, r"in use\s+(\d+) B", "in use")), S("in_use"), "in use")
    expect_eq(int(field(out, r"peak\s+(\d+) B", "peak")), S("peak"), "peak")
    expect_eq(int(field(out, r"allocations (\d+) made", "allocations")), S("allocations"), "allocations")
    expect_eq(int(field(out, r"spills (\d+);", "spills")), S("spills"), "spills")
    expect_eq(int(field(out, r"refusals (\d+);", "refusals")), S("refusals"), "refusals")
    expect_eq(int(field(out, r"resets (\d+);", "resets")), S("resets"), "resets")
    expect_eq(int(field(out, r"collisions (\d+)", "collisions")), S("collisions"), "collisions")
    expect_eq(int(field(out, r"stack low-water (\d+) B", "low-water")), S("stack_low_water"), "low-water")
    row = thread_rows(run("tandem threads"))[tid]
    expect_eq(row["peak"], S("peak"), "threads: peak")
    expect_eq(row["low_water"], S("stack_low_water"), "threads: low-water")


@test
def check_ok_on_healthy_kernel():
    out = run("tandem check")
    expect("tandem check: OK" in out, "not OK:\n" + out)
    expect_eq(kcall("kheap_check()"), 0, "the kernel's own kheap_check()")


@test
def check_finds_heap_redzone_damage():
    if not debug_build():
        raise Skip("release builds have no heap red zones")
    # A thread's control block is a kzalloc'd heap object (the boot thread's
    # is static: not that one; the timer may have stopped it): the byte just
    # past it is the start of its back red zone.
    obj = next(t for t in kernel_threads() if not T(t, "static_block"))
    addr = obj + val("sizeof(struct thread)")
    check_finds_heap_byte(addr, 0xFD, "red zone byte",
                          ["object %08x" % obj, "red zone after the object written at %08x" % addr])


def check_finds_heap_byte(addr, fill, what, reports):
    """Zeroes the heap byte at addr (it must hold fill), and expects tandem
    check to print every one of reports and find one violation, as the
    kernel's kheap_check() does; then puts it back and expects OK."""
    old = val("*(unsigned char *)%d" % addr)
    expect_eq(old, fill, what + " before the test")
    gdb.execute("set *(unsigned char *)%d = 0" % addr, to_string=True)
    try:
        out = run("tandem check")
        kernel = kcall("kheap_check()")
    finally:
        gdb.execute("set *(unsigned char *)%d = %d" % (addr, old), to_string=True)
    expect(all(r in out for r in reports), "damage not reported:\n" + out)
    expect("tandem check: 1 VIOLATION " in out, "verdict:\n" + out)
    expect_eq(1, kernel, "violations (the kernel's kheap_check())")
    expect("tandem check: OK" in run("tandem check"), "not OK after the repair")


@test
def check_follows_the_heap_cache():
    # A small block freed goes to the heap's cache: tandem check counts it
    # there, as the kernel does, and (debug builds) sees a write after its free.
    p = kcall("heap_alloc(&g_kheap, 24, 0)")
    expect(p != 0, "heap_alloc from GDB failed")
    kcall("(heap_free(&g_kheap, (void *)%d, 0), 0)" % p)
    out = run("tandem check")
    expect("tandem check: OK" in out, "not OK with a cached block:\n" + out)
    cached = int(field(out, r"(\d+) cached", "cached blocks"))
    expect_eq(cached, val("%d - g_kheap.cache_room" % 32), "cached blocks (HEAP_CACHE_BLOCKS - cache_room)")
    expect(cached >= 1, "the block freed is not in the cache:\n" + out)
    if not debug_build():
        return
    addr = p + 8                            # past the cache's link: the freed fill
    check_finds_heap_byte(addr, 0xDD, "freed fill of the cached block",
                          ["written after its free at %08x" % addr])


@test
def check_finds_broken_canary():
    cur = val("g_current")
    victim = next(t for t in kernel_threads() if t != cur and T(t, "state") != 2)
    top = kernel_top(victim)
    tid = T(victim, "tid")
    gdb.execute("set *(unsigned *)%d = 0x0badf00d" % top, to_string=True)
    try:
        out = run("tandem check")
        row = thread_rows(run("tandem threads"))[tid]
    finally:
        gdb.execute("set *(unsigned *)%d = %d" % (top, CANARY), to_string=True)
    expect("canary at %08x is 0badf00d" % top in out and "thread %d " % tid in out,
           "broken canary not reported:\n" + out)
    expect("tandem check: 1 VIOLATION " in out, "verdict:\n" + out)
    expect_eq(row["canary"], "BROKEN:0badf00d", "CANARY column")
    expect("tandem check: OK" in run("tandem check"), "not OK after the repair")


@test
def convenience_functions():
    for t in kernel_threads():
        tid = T(t, "tid")
        expect_eq(val("$tandem_thread(%d)" % tid), t, "$tandem_thread(%d)" % tid)
        expect_eq(val("$tandem_thread(%d)->tid" % tid), tid, "$tandem_thread(%d)->tid" % tid)
    expect_eq(val("$tandem_current()"), val("g_current"), "$tandem_current()")
    expect_eq(str(gdb.parse_and_eval("$tandem_current()").type), "struct thread *", "type")
    try:
        gdb.parse_and_eval("$tandem_thread(99999)")
        raise Fail("$tandem_thread(99999) returned a value")
    except gdb.error as e:
        expect("no thread with tid 99999" in str(e) and "Python" not in str(e),
               "error for an unknown tid: %s" % e)
    run("help tandem")
    for sub in ("threads", "block", "arena", "check", "catch", "catch collision", "catch spill"):
        expect(len(run("help tandem " + sub)) > 80, "no help text for tandem " + sub)


@test
def ascii_drawing():
    run("set tandem-ascii on")
    try:
        out = run("tandem block")
    finally:
        run("set tandem-ascii auto")
    expect("+---" in out and "│" not in out and "─" not in out, "not ASCII:\n" + out)
    _, pieces, _ = block_map(out)
    check_map_sums(pieces, val("sizeof(g_boot_block)"))


# -- the collision made from GDB ------------------------------------------------

def parse_catch(out):
    m = re.search(r'tandem catch collision: thread (\d+) \((.*?)\) (?:broke its canary|ran into its '
                  r'arena\'s claimed pages), caught by "(.*?)"', out)
    if not m:
        raise Fail("no collision report from the catch:\n" + out)
    m2 = re.search(r"canary at ([0-9a-f]{8}) reads ((?:[0-9a-f]{2} ?){4}) \(expected c011de5a\); "
                   r"esp ([0-9a-f]{8}); low-water (\d+) B", out)
    if not m2:
        raise Fail("no canary line in:\n" + out)
    m3 = re.search(r"^  at eip ([0-9a-f]{8}|\S+)", out, re.M)
    return {"tid": int(m.group(1)), "name": m.group(2), "where": m.group(3),
            "top": int(m2.group(1), 16), "bytes": bytes(int(b, 16) for b in m2.group(2).split()),
            "esp": int(m2.group(3), 16), "low_water": int(m2.group(4)),
            "eip_text": m3.group(1) if m3 else None}


def report_args():
    """The arguments of collision_report (or of kfast_collision, on kernels
    without the trap) at its first instruction."""
    esp = reg("esp")
    fn = nm_symbol(reg("eip"))
    if fn == "collision_report":
        return {"t": u32(esp + 4), "esp": u32(esp + 8), "eip": u32(esp + 12),
                "where": u32(esp + 16), "by_trap": u32(esp + 20) & 0xFF}
    expect(fn == "kfast_collision", "not stopped in collision_report (%s)" % fn)
    return {"t": u32(esp + 4), "esp": u32(esp + 8), "eip": None, "where": u32(esp + 12), "by_trap": 0}


def finish_report(seen):
    """From collision_report's first instruction to its return, comparing the
    low-water the helpers read with the kernel's own kfast_low_water at the
    moment the report takes it (the report's frames go deeper into the paint
    than the catch's stop, so the figure can only have dropped)."""
    run("tbreak *%#x" % nm_address("kfast_low_water"))
    go()
    kernel = return_value()
    out = run("tandem arena %d" % seen["tid"])
    expect_eq(int(field(out, r"stack low-water (\d+) B", "low-water")), kernel,
              "low-water (the kernel's kfast_low_water inside the report)")
    expect(kernel <= seen["low_water"] <= kernel + 1024,
           "the catch saw %d B of low-water, the report %d" % (seen["low_water"], kernel))
    seen["low_water"] = kernel
    go("finish")
    compare_with_report(seen)


def compare_with_report(seen):
    """After the report was written (finish out of collision_report)."""
    r = lambda f: val("g_last_collision.%s" % f)
    expect_eq(seen["tid"], r("tid"), "tid (g_last_collision)")
    expect_eq(seen["name"], gdb.parse_and_eval("g_last_collision.name").string(), "name")
    expect_eq(seen["top"], r("arena_top"), "arena top (g_last_collision)")
    expect_eq(seen["esp"], r("esp"), "esp (g_last_collision)")
    expect_eq(seen["low_water"], r("low_water"), "low-water (g_last_collision)")
    expect_eq(seen["block"], r("block"), "block (g_last_collision)")
    expect_eq(seen["bytes"], bytes(r("canary[%d]" % i) & 0xFF for i in range(4)), "canary bytes")
    expect_eq(seen["where"], gdb.parse_and_eval("g_last_collision.detected_at").string(), "detected at")
    if seen.get("eip") is not None:
        expect_eq(seen["eip"], r("eip"), "eip (g_last_collision)")


def catch_collision_stop(out):
    args = report_args()
    seen = parse_catch(out)
    t = args["t"]
    expect_eq(seen["tid"], T(t, "tid"), "tid (the report's argument)")
    expect_eq(seen["esp"], args["esp"], "esp (the report's argument)")
    expect_eq(seen["where"], gdb.parse_and_eval("(const char *)%d" % args["where"]).string(), "where")
    expect_eq(seen["top"], kernel_top(t), "arena top")
    expect_eq(seen["bytes"], bytes(gdb.selected_inferior().read_memory(seen["top"], 4)), "canary bytes")
    if args["eip"] is not None:
        # gcc's clones (dive.isra.0) may be named without their suffix.
        want = nm_symbol(args["eip"]).split(".")[0]
        expect(seen["eip_text"] and seen["eip_text"].startswith(want),
               "eip shown as %r, nm says %s for %08x" % (seen["eip_text"], want, args["eip"]))
        seen["eip"] = args["eip"]
    bounds, pieces, _ = block_map(out)
    check_map_sums(pieces, val("sizeof(g_boot_block)"))
    expect_eq(bounds.get("arena top@arena"), seen["top"], "arena top in the map")
    expect_eq(bounds.get("arena top"), seen["top"] - view_off(t), "arena top in the map (stack view)")
    seen["block"] = T(t, "block")
    expect("%08x-%08x" % (seen["block"], seen["block"] + val("sizeof(g_boot_block)")) in out,
           "block range missing:\n" + out)
    return seen, bounds


def view_off(t):
    """Arena view minus stack view (0 when the block has one view)."""
    return (T(t, "arena.base") - T(t, "block")) & 0xFFFFFFFF


@test
def collision_catch_stops_with_map():
    run("tandem catch collision")
    # schedule() checks the canary of the thread it switches out first thing.
    run("break *schedule if g_current->proc != 0")
    go()
    gdb.execute("delete %d" % gdb.breakpoints()[-1].number, to_string=True)
    top = val("g_kfast.top")
    ctx["victim"] = val("g_current->tid")
    gdb.execute("set *(unsigned *)%d = 0x41414141" % top, to_string=True)
    out = go()
    seen, bounds = catch_collision_stop(out)
    expect_eq(seen["tid"], ctx["victim"], "colliding thread")
    expect_eq(seen["top"], top, "arena top")
    expect_eq(seen["bytes"], b"AAAA", "canary bytes")
    expect("canary 41414141 BROKEN" in out, "map does not show the broken canary:\n" + out)
    ctx["seen"] = seen


@test
def collision_figures_match_report():
    seen = ctx.get("seen")
    if not seen:
        raise Fail("no collision was caught")
    finish_report(seen)


# -- the kernel's own deliberate collision ---------------------------------------------

def next_collision(by_trap):
    """Continues to the next collision the kernel's suite makes (caught by
    the hardware trap or by a canary check); Skip if the suite ends first."""
    if not any(isinstance(b, gdb.Breakpoint) and "collision" in (b.location or "")
               for b in gdb.breakpoints()):
        run("tandem catch collision")
    for _ in range(50):
        try:
            out = run("continue")
        except Fail as e:
            raise Skip("the suite made no such collision: %s" % str(e).splitlines()[0])
        if not gdb.selected_inferior().threads():
            raise Skip("the suite ended without a collision %s" % (
                "caught by the trap" if by_trap else "caught by a canary check"))
        if nm_symbol(reg("eip")) not in ("collision_report", "kfast_collision"):
            raise Fail("stopped outside the report path:\n" + out)
        if bool(report_args()["by_trap"]) == by_trap:
            return out
    raise Skip("no collision %s among the first 50" % ("by the trap" if by_trap else "by a canary"))


def kfast_collision_caught(by_trap):
    out = next_collision(by_trap)
    seen, bounds = catch_collision_stop(out)
    t = report_args()["t"]
    sp = seen["esp"] + view_off(t)
    if by_trap:
        expect("ran into its arena's claimed pages" in out, "not told it was the trap:\n" + out)
        expect("double-fault task" in run("tandem"), "`tandem` does not say the CPU is in the double-fault task")
        live = val("g_kfast.arena") == val("&((struct thread *)%d)->arena" % t)
        guard = val("g_kfast.guard") if live else T(t, "arena.guard")
        expect(sp < guard + 4096, "esp %08x is not at the claimed pages (guard %08x)" % (sp, guard))
    elif sp < seen["top"] + 4:
        expect("COLLISION: stack over the canary/arena" in out, "no collision piece in the map:\n" + out)
        expect_eq(bounds.get("esp"), seen["esp"], "esp in the map")
    for cmd in ALL_COMMANDS:
        run(cmd)
    ctx["seen"] = seen
    if by_trap:
        ctx["trap_catch_output"] = out


@test
def kfast_suite_canary_collision_caught():
    kfast_collision_caught(False)


@test
def kfast_suite_canary_collision_matches_report():
    seen = ctx.pop("seen", None)
    if not seen:
        raise Skip("no collision was caught")
    finish_report(seen)


@test
def kfast_suite_trap_collision_caught():
    kfast_collision_caught(True)


@test
def kfast_suite_trap_collision_matches_report():
    seen = ctx.pop("seen", None)
    if not seen:
        raise Skip("no collision was caught")
    finish_report(seen)


# -- `tandem caps` against user/gdb_caps_demo.c ----------------------------------
#
# The expected rows are built from the kernel's tables read with GDB
# expressions, the handle numbers from the kernel's own cap_handle(), the
# free slots from cap_table_room() and the total from cap_handles_open(),
# called from GDB; type names and right letters from include/uapi/syscall.h.

RIGHT_LETTERS = {"SEND": "S", "RECV": "R", "GRANT": "G", "WAIT": "W", "KILL": "K",
                 "SPAWN": "P", "USE": "U"}




def cap_type_names():
    return {v: n.lower() for n, v in uapi_defines("CAP_TYPE_").items()}


def cap_rights_text(rights):
    bits = {v: n for n, v in uapi_defines("CAP_").items() if n in RIGHT_LETTERS}
    return "".join(RIGHT_LETTERS[bits[1 << b]] if rights & (1 << b) else "-"
                   for b in range(len(bits)))










def process_label(p):
    return "%d (%s)" % (P(p, "pid"), kstring("((struct process *)%d)->name" % p))


def process_state(p):
    if P(p, "exited") or not P(p, "caps"):
        code = "exit code %d" % P(p, "exit_code") if P(p, "exit_code_set") else "no exit code"
        return "ended, " + code
    return "running" if P(p, "live_threads") else "ending"


def queue_tids(head_expr):
    tids = [T(t, "tid") for t in list_addresses(head_expr, "struct thread", "ipc.link")]
    return " ".join(str(t) for t in tids) if tids else "none"


def slot_expr(c):
    return "((struct cap *)%d)" % c


def handle_name(c, table):
    """The FROM column for a parent slot c, seen from table."""
    h = kcall("cap_handle(%s)" % slot_expr(c))
    owner_table = val("%s->table" % slot_expr(c))
    if owner_table == table:
        return "%d" % h
    return "%d:%d" % (val("%s->table->owner->pid" % slot_expr(c)), h)


def object_text(c, kind):
    o = val("%s->obj" % slot_expr(c))
    if kind == "endpoint":
        ep = "((struct endpoint *)%d)" % o
        return "endpoint %d: receive holders %d, senders %s, receivers %s" % (
            val(ep + "->serial"), val(ep + "->receive_holders"), queue_tids(ep + "->senders"),
            queue_tids(ep + "->receivers"))
    if kind == "process":
        return "process %s, %s" % (process_label(o), process_state(o))
    if kind == "thread":
        r = "((struct thread_record *)%d)" % o
        text = "thread %d (%s)" % (val(r + "->tid"), kstring(r + "->name"))
        if val(r + "->ended"):
            return text + ", ended, exit code %d" % val(r + "->exit_code")
        if not val(r + "->thread"):
            return text + ", reaped"
        state = str(gdb.parse_and_eval(r + "->thread->state"))
        return text + ", " + state.replace("THREAD_", "").lower()
    if kind == "module":
        i = val("((struct module_object *)%d)->index" % o)
        return "module %d: %s" % (i, kstring("g_boot.modules[%d].name" % i))
    if kind in ("irq", "ioport", "memory"):
        d = "((struct device_object *)%d)" % o
        name, base, size = kstring(d + "->name"), val(d + "->base"), val(d + "->size")
        if kind == "irq":
            return "irq %d: %s" % (base, name)
        if kind == "ioport":
            return "ports %#x-%#x: %s" % (base, base + size - 1, name)
        return "memory %08x-%08x: %s" % (base, base + size - 1, name)
    if kind == "reply":
        caller = val("%s->caller" % slot_expr(c))
        if not caller:
            return "reply: caller gone"
        return "reply to thread %d (%s)" % (T(caller, "tid"),
                                            kstring("((struct thread *)%d)->name" % caller))
    if kind == "log":
        log = "((struct log_object *)%d)" % o
        shown = ("taken by a user-space console" if val(log + "->console_taken_by")
                 else "the kernel's")
        ep = val(log + "->src.ep")
        bound = "notifies endpoint %d" % val("((struct endpoint *)%d)->serial" % ep) if ep \
            else "not bound"
        return "kernel log: console %s, %s" % (shown, bound)
    raise Fail("slot %08x names an object of unknown type %r" % (c, kind))


def kernel_tables():
    """{pid: (summary line, [row tuples])} as the kernel's tables say, and
    the handles open in all of them (cap_handles_open())."""
    names = cap_type_names()
    slots = val("sizeof(((struct cap_table *)0)->slots) / sizeof(struct cap)")
    out = {}
    for p in kernel_processes():
        table = P(p, "caps")
        if not table:
            line = "Process %s: %s; no handle table" % (process_label(p), process_state(p))
            out[P(p, "pid")] = (line, [])
            continue
        rows = []
        for i in range(slots):
            c = val("&((struct cap_table *)%d)->slots[%d]" % (table, i))
            obj = val("%s->obj" % slot_expr(c))
            if not obj:
                continue
            kind = names.get(val("%s->obj->type" % slot_expr(c)), "?")
            badge = val("%s->badge" % slot_expr(c))
            parent = val("%s->parent" % slot_expr(c))
            rows.append((kcall("cap_handle(%s)" % slot_expr(c)), i, kind,
                         cap_rights_text(val("%s->rights" % slot_expr(c))),
                         "%d" % badge if badge else "-",
                         handle_name(parent, table) if parent else "-", obj, object_text(c, kind)))
        opened = val("((struct cap_table *)%d)->open" % table)
        free = kcall("cap_table_room((struct process *)%d)" % p)
        line = "Process %s: %d handle%s open, %d slot%s free (of %d)" % (
            process_label(p), opened, "" if opened == 1 else "s", free, "" if free == 1 else "s",
            slots)
        if slots - opened - free:
            line += ", %d retired" % (slots - opened - free)
        out[P(p, "pid")] = (line, rows)
    return out, kcall("cap_handles_open()")


CAP_ROW = re.compile(r"^\s+(\d+)\s+(\d+) (\S+)\s+(\S+)\s+(\S+) (\S+)\s+([0-9a-f]{8}) (.*)$")


def caps_sections(out):
    """{pid: (summary line, [row tuples])} from `tandem caps` output."""
    got, pid = {}, None
    for line in out.splitlines():
        m = re.match(r"^Process (\d+) \(", line)
        if m:
            pid = int(m.group(1))
            got[pid] = (line, [])
            continue
        m = CAP_ROW.match(line)
        if m and pid is not None:
            got[pid][1].append((int(m.group(1)), int(m.group(2)), m.group(3), m.group(4),
                                m.group(5), m.group(6), int(m.group(7), 16), m.group(8)))
    return got


def caps_match_kernel():
    """Runs `tandem caps` and compares every process, summary and row with
    the kernel; returns the parsed output."""
    out = run("tandem caps")
    want, total = kernel_tables()
    got = caps_sections(out)
    expect_eq(sorted(got), sorted(want), "pids listed")
    for pid in want:
        expect_eq(got[pid][0], want[pid][0], "process %d: summary" % pid)
        g, w = got[pid][1], want[pid][1]
        expect_eq([r[0] for r in g], [r[0] for r in w], "process %d: handles" % pid)
        for gr, wr in zip(g, w):
            for k, what in enumerate(("handle", "slot", "type", "rights", "badge", "from", "object",
                                      "what")):
                expect_eq(gr[k], wr[k], "process %d handle %d: %s" % (pid, wr[0], what))
    ended = sum(1 for line, _ in want.values() if line.endswith("no handle table"))
    line = "tandem caps: %d process%s (%d ended), %d handle%s open" % (
        len(want), "" if len(want) == 1 else "es", ended, total, "" if total == 1 else "s")
    expect(re.search("^%s$" % re.escape(line), out, re.M), "no %r in:\n%s" % (line, out))
    return got


def demo_variable(name):
    """A handle the program holds (user/gdb_caps_demo.c's static), read in
    its address space: the CPU is in one of its threads at every stop."""
    expect(kstring("g_current->proc->name") == "gdb_caps_demo", "not in gdb_caps_demo")
    return u32(user_symbol("gdb_caps_demo", name))


def threads_of(pid):
    return [T(t, "tid") for t in kernel_threads() if T(t, "proc") and T(t, "proc->pid") == pid]


def process_at(pid):
    return next(p for p in kernel_processes() if P(p, "pid") == pid)


def demo_rows(got, pid):
    """{handle: row} of one process's table in the helpers' output."""
    expect(pid in got, "process %d is not listed" % pid)
    return {r[0]: r for r in got[pid][1]}


def rows_of_type(got, pid, kind):
    return [r for r in got[pid][1] if r[2] == kind]


@test
def caps_constants_match_headers():
    import tandem_gdb.kernel as k
    cap_h = open(os.path.join(ROOT, "include/cap.h")).read()
    m = re.search(r"#define\s+CAP_INDEX_BITS\s+(\d+)", cap_h)
    expect(m, "no #define CAP_INDEX_BITS in include/cap.h")
    expect_eq(k.CAP_INDEX_BITS, int(m.group(1)), "CAP_INDEX_BITS")
    expect_eq(k.CAP_TYPE_NAMES, cap_type_names(), "CAP_TYPE_* names")
    rights = uapi_defines("CAP_")
    for name, letter in RIGHT_LETTERS.items():
        expect_eq(1 << k.CAP_RIGHT_LETTERS.index(letter), rights[name], "CAP_%s's letter" % name)
    expect_eq((1 << len(k.CAP_RIGHT_LETTERS)) - 1, rights["RIGHTS_ALL"], "CAP_RIGHTS_ALL")


@test
def caps_before_the_first_process():
    expect(reg("eip") == 0xFFF0, "QEMU did not stop at the reset vector")
    out = run("tandem caps")
    expect("not running yet" in out and "paging is off" in out, "at the reset vector:\n" + out)
    run("break sched_init")
    go()
    delete_breakpoints()
    expect_eq(kernel_processes(), [], "processes on s_processes before the scheduler")
    out = run("tandem caps")
    expect("tandem caps: no processes yet" in out, "before the first process:\n" + out)
    run("help tandem caps")
    expect("tandem caps [PID]" in run("help tandem"), "`help tandem` does not list tandem caps")
    expect(len(run("help tandem caps")) > 400, "no help text for tandem caps")


@test
def caps_first_process_table():
    # The main thread spawns the child once the server waits on the endpoint.
    run("break sys_spawn")
    go()
    delete_breakpoints()
    pid = ctx["demo"] = val("g_current->proc->pid")
    ep, badged = ctx["ep"], ctx["badged"] = demo_variable("s_ep"), demo_variable("s_badged")
    server = [t for t in threads_of(pid) if t != pid]
    expect(len(server) == 1, "threads of process %d besides its first: %r" % (pid, server))
    ctx["server"] = server[0]
    got = caps_match_kernel()
    rows = demo_rows(got, pid)
    expect(ep in rows and badged in rows,
           "the program's handles %d and %d are not listed" % (ep, badged))
    expect_eq(rows[ep][2:6], ("endpoint", "SRG----", "-", "-"),
              "the endpoint's type, rights, badge, parent")
    expect_eq(rows[badged][2:6], ("endpoint", "S-G----", "42", "%d" % ep),
              "the duplicate's type, rights, badge, parent")
    expect_eq(rows[badged][6], rows[ep][6], "both handles' object")
    expect(ep != rows[ep][1] + 1,
           "handle %d of slot %d: the table was not aged" % (ep, rows[ep][1]))
    expect(rows[ep][7].endswith("receivers %d" % ctx["server"]),
           "the server is not shown queued as a receiver: " + rows[ep][7])
    thread = rows_of_type(got, pid, "thread")
    expect(len(thread) == 1 and thread[0][7].startswith("thread %d " % ctx["server"]),
           "the thread handle: %r" % thread)
    expect(all(rows_of_type(got, pid, kind) for kind in ("module", "irq", "ioport", "memory")),
           "the first process lacks its boot objects:\n" + "\n".join(map(str, got[pid][1])))


@test
def caps_derived_across_processes():
    # The server answers the child's first call, which passed the child's handle 1.
    run("break sys_ipc_reply")
    go()
    delete_breakpoints()
    pid = ctx["demo"]
    others = [P(p, "pid") for p in kernel_processes() if P(p, "pid") != pid]
    expect_eq(len(others), 1, "processes besides the first")
    child = ctx["child"] = others[0]
    got = caps_match_kernel()
    # (The main thread may not be back from sys_spawn yet: s_child may be unset.)
    proc = rows_of_type(got, pid, "process")
    expect(len(proc) == 1 and proc[0][7].startswith("process %d " % child),
           "the handles to processes: %r" % proc)
    expect_eq([r[:6] for r in demo_rows(got, child).values()],
              [(1, 0, "endpoint", "S-G----", "42", "%d:%d" % (pid, ctx["badged"]))],
              "the child's table")
    passed = [r for r in rows_of_type(got, pid, "endpoint") if r[5] == "%d:1" % child]
    expect_eq(len(passed), 1, "handles derived from the child's handle 1")
    reply = rows_of_type(got, pid, "reply")
    expect_eq(len(reply), 1, "reply handles")
    caller = val("((struct process *)%d)->caps->slots[%d].caller" % (process_at(pid), reply[0][1]))
    expect_eq(threads_of(child), [T(caller, "tid")], "the child's threads: the caller")
    expect_eq(reply[0][7], "reply to thread %d (gdb_caps_demo)" % T(caller, "tid"), "the reply")


@test
def caps_queued_sender():
    # The server sleeps after the first answer: the child's second call queues.
    run("break sys_ipc_recv")
    go()
    delete_breakpoints()
    expect_eq(val("g_current->tid"), ctx["server"], "the receiving thread")
    child_thread = threads_of(ctx["child"])
    expect_eq(len(child_thread), 1, "the child's threads")
    got = caps_match_kernel()
    ep = demo_rows(got, ctx["demo"])[ctx["ep"]]
    expect(ep[7].endswith("senders %d, receivers none" % child_thread[0]),
           "the child is not shown queued as a sender: " + ep[7])


@test
def caps_caller_gone_process_ended():
    # The server killed the child and waited for it before answering it.
    run("break sys_ipc_reply")
    go()
    delete_breakpoints()
    pid, child = ctx["demo"], ctx["child"]
    expect_eq(P(process_at(child), "caps"), 0, "the child's table (freed)")
    got = caps_match_kernel()
    expect_eq(got[child][0],
              "Process %d (gdb_caps_demo): ended, exit code 137; no handle table" % child,
              "the killed child")
    rows = demo_rows(got, pid)
    expect_eq([r[7] for r in rows_of_type(got, pid, "reply")], ["reply: caller gone"], "the reply")
    handle = demo_variable("s_child")
    want = "process %d (gdb_caps_demo), ended, exit code 137" % child
    expect(handle in rows and rows[handle][7] == want,
           "the child's handle %d: %r" % (handle, rows.get(handle)))
    # Closing the child's handle 1 moved what came from it up to its parent.
    passed = [r for r in rows_of_type(got, pid, "endpoint")
              if r[4] == "42" and r[0] != ctx["badged"]]
    expect_eq([r[5] for r in passed], ["%d" % ctx["badged"]], "the passed handle's parent now")


@test
def caps_process_argument():
    full = caps_sections(run("tandem caps"))
    pid = ctx["demo"]
    addr = next(p for p in kernel_processes() if P(p, "pid") == pid)
    for arg in ("%d" % pid, "(struct process *)%d" % addr, "g_current->proc->pid"):
        out = run("tandem caps %s" % arg)
        expect_eq(caps_sections(out), {pid: full[pid]}, "`tandem caps %s`" % arg)
        expect("tandem caps:" not in out, "a total line for one process:\n" + out)
    out = run("tandem caps %d" % ctx["child"])
    expect_eq(caps_sections(out), {ctx["child"]: full[ctx["child"]]}, "the ended child alone")
    out = run("tandem caps gdb_caps_demo", allow_error=True)
    expect("2 processes are named gdb_caps_demo: give a pid" in out,
           "an ambiguous name gave:\n" + out)
    out = run("tandem caps 99999", allow_error=True)
    expect("no process with pid 99999" in out, "an unknown pid gave:\n" + out)


@test
def caps_counts_disagree():
    # Counters that disagree with the slots (as inside cap_alloc, between the
    # count and the slot being filled) are reported, not trusted.
    table = P(process_at(ctx["demo"]), "caps")
    opened, total = val("((struct cap_table *)%d)->open" % table), val("s_handles_open")
    gdb.execute("set var ((struct cap_table *)%d)->open = %d" % (table, opened + 1), to_string=True)
    gdb.execute("set var s_handles_open = %d" % (total + 1), to_string=True)
    try:
        out = run("tandem caps")
    finally:
        gdb.execute("set var ((struct cap_table *)%d)->open = %d" % (table, opened), to_string=True)
        gdb.execute("set var s_handles_open = %d" % total, to_string=True)
    line = "Process %d (gdb_caps_demo): %d handles open" % (ctx["demo"], opened)
    expect(line in out and "; the table counts %d open (caught mid-update)" % (opened + 1) in out,
           "the table's count not questioned:\n" + out)
    expect("%d handles open; the kernel counts %d (s_handles_open)" % (total, total + 1) in out,
           "the kernel's count not questioned:\n" + out)
    caps_match_kernel()


# The tests of the second round of helpers, one module a subject; importing
# them registers their tests.
import arguments  # noqa: E402,F401
import backtrace  # noqa: E402,F401
import canary_watch  # noqa: E402,F401
import collision_maps  # noqa: E402,F401
import kernel_log  # noqa: E402,F401
import panic_catch  # noqa: E402,F401
import running_thread  # noqa: E402,F401
import sched_check  # noqa: E402,F401
import smp_cpus  # noqa: E402,F401
import user_symbols  # noqa: E402,F401


# ---------------------------------------------------------------------------
def main():
    gdb.execute("set confirm off")
    gdb.execute("set pagination off")
    gdb.execute("set width 0")
    for name in SCENARIOS[SCENARIO][1]:
        note("running %s" % name)
        try:
            TESTS[name]()
            emit("ok %s" % name)
        except Skip as e:
            emit("ok %s # SKIP %s" % (name, e))
        except Fail as e:
            emit("not ok %s # %s" % (name, str(e).splitlines()[0] if str(e) else "failed"))
            for line in str(e).splitlines()[1:40]:
                note("  " + line)
        except Exception as e:         # a helper's or the test's own error
            emit("not ok %s # %s: %s" % (name, type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
            for line in traceback.format_exc().splitlines()[-12:]:
                note("  " + line)


main()
