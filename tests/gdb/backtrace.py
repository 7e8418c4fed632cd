"""`tandem bt` against GDB's own unwinder (DWARF CFI) wherever that can be
made to run: on the CPU's registers, at the user program's return address
once the thread is back in ring 3, at a switched-out thread's return point
once it runs again, and on the registers the double-fault task switch saved
(copied into the CPU for the comparison, then put back).  Trap frames are
checked against the frame read with GDB expressions, system calls against
the numbers in include/uapi/syscall.h."""

import re

import gdb

from gdbtest import (ctx, expect, expect_eq, go, kernel_threads, kstring, nm_address, nm_symbol,
                     reg, run, T, test, u32, uapi_defines, user_symbol, val, Fail)

FRAME = re.compile(r"^#(\d+)\s+([0-9a-f]{8}) (.*)$")
TRAP = re.compile(r"^\s+--- (.*) ---$")
STUBS = ("trap_common", "sysenter_entry")


def bt_lines(out):
    """[("frame", pc, text) or ("trap", None, text)] from `tandem bt`."""
    got = []
    for line in out.splitlines():
        m = FRAME.match(line)
        if m:
            got.append(("frame", int(m.group(2), 16), m.group(3)))
            continue
        m = TRAP.match(line)
        if m:
            got.append(("trap", None, m.group(1)))
    if not got:
        raise Fail("no frames in:\n" + out)
    return got


def split_at_traps(lines):
    """[[pcs before the first trap line], trap text, [pcs after], ...]"""
    parts, pcs = [], []
    for kind, pc, text in lines:
        if kind == "trap":
            parts.append(pcs)
            parts.append(text)
            pcs = []
        else:
            pcs.append(pc)
    parts.append(pcs)
    return parts


def gdb_frames(until_stub=True):
    """pcs of GDB's own physical frames (inlined ones share their caller's),
    innermost first, up to an entry stub or the first frame it cannot name."""
    out = []
    f = gdb.newest_frame()
    while f is not None and len(out) < 200:
        if f.type() != gdb.INLINE_FRAME:
            name = f.name()
            if name is None or (until_stub and any(name.startswith(s) for s in STUBS)):
                break
            out.append(f.pc())
        try:
            f = f.older()
        except gdb.error:
            break
    return out


def fmt(pcs):
    return " ".join("%08x" % p for p in pcs)


def user_frame(t):
    return val("(unsigned)((struct thread *)%d)->block" % t) + val("sizeof(g_boot_block)") - \
        val("sizeof(struct trap_frame)")


def syscall_handler(number):
    """sys_NAME for SYS_NAME's number, from include/uapi/syscall.h."""
    for name, v in uapi_defines("SYS_").items():
        if v == number and name != "COUNT":
            return "sys_" + name.lower()
    return None


def expected_syscall_line(program, f):
    """The trap line for the system call frame at f, built from the frame
    (GDB expressions), the header and the program's symbols."""
    F = lambda m: val("((struct trap_frame *)%d)->%s" % (f, m))
    eip = F("eip")
    sysenter = nm_program_symbol(program, eip - 1).startswith("syscall_sysenter")
    return "system call %d (%s) by %s from user mode: eip %08x, esp %08x, trap frame %08x" % (
        F("eax"), syscall_handler(F("eax")), "sysenter" if sysenter else "int 0x80", eip,
        F("user_esp"), f)


def nm_program_symbol(program, addr):
    import subprocess
    import os
    from gdbtest import USER_BIN
    out = subprocess.run(["nm", "-n", os.path.join(USER_BIN, program)], capture_output=True,
                         text=True, check=True).stdout
    best = ""
    for line in out.splitlines():
        parts = line.split()
        # (nasm's local labels, `..@7.back`, name no function)
        if len(parts) == 3 and parts[1] in "Tt" and "." not in parts[2]:
            if int(parts[0], 16) <= addr:
                best = parts[2]
            else:
                break
    return best


@test
def bt_system_call_into_user_program():
    # The kernel's sys_ipc_call for demo_ping: kernel frames, the system
    # call's frame, then demo_ping's own.
    run("break *%#x if $_streq(g_current->name, \"demo_ping\")" % nm_address("sys_ipc_call"))
    go()
    run("delete")
    t = val("g_current")
    got = bt_lines(run("tandem bt"))
    parts = split_at_traps(got)
    expect(len(parts) == 3, "not one trap frame between kernel and user frames:\n%r" % got)
    kernel, trap, user = parts
    expect_eq(fmt(kernel), fmt(gdb_frames()), "kernel frames (GDB's own unwinder)")
    f = user_frame(t)
    expect_eq(trap, expected_syscall_line("demo_ping", f), "the trap frame")
    expect_eq(user[0], val("((struct trap_frame *)%d)->eip" % f), "first user frame: the frame's eip")
    for kind, pc, text in got:
        if kind == "frame" and pc < 0xC0000000:
            expect(text.endswith("[demo_ping]"), "user frame not named as demo_ping's: " + text)
    first_user = [x for x in got if x[0] == "frame" and x[1] < 0xC0000000]
    expect(first_user[0][2].startswith(nm_program_symbol("demo_ping", user[0])),
           "the stub's name: %s" % first_user[0][2])
    # GDB's unwinder, once the thread is back at the stub's return address.
    expect(len(user) >= 3, "too few user frames: %s" % fmt(user))
    run("tbreak *%#x if g_current == %d" % (user[1], t))
    go()
    expect(reg("cs") & 3 == 3 and reg("eip") == user[1], "not back in demo_ping at %08x" % user[1])
    theirs = gdb_frames(until_stub=False)
    # GDB stops at main (backtrace past-main is off); what the walk has
    # beyond it is crt0's _start.
    expect_eq(fmt(user[1:1 + len(theirs)]), fmt(theirs), "user frames (GDB's own unwinder)")
    beyond = [nm_program_symbol("demo_ping", pc - 1) for pc in user[1 + len(theirs):]]
    expect(beyond in ([], ["_start"]), "frames past main: %r" % beyond)


@test
def bt_switched_out_thread_from_saved_context():
    # Another user thread, switched out in the kernel: its frames from its
    # switch_context frame, then GDB's once it runs again from there.
    cur = val("g_current")
    others = [t for t in kernel_threads() if t != cur and T(t, "proc") and T(t, "state") != 2]
    expect(others, "no other user thread")
    named = [t for t in others if kstring("((struct thread *)%d)->name" % t) == "demo_pong"]
    t = (named or others)[0]
    tid = T(t, "tid")
    out = run("tandem bt %d" % tid)
    expect("switch_context frame (saved esp %08x)" % T(t, "saved_esp") in out,
           "not walked from its saved context:\n" + out)
    got = bt_lines(out)
    parts = split_at_traps(got)
    kernel = parts[0]
    expect_eq(kernel[0], u32(T(t, "saved_esp") + 20), "first frame: switch_context's return address")
    if len(parts) >= 3:
        prog = kstring("((struct thread *)%d)->proc->name" % t)
        expect_eq(parts[1], expected_syscall_line(prog, user_frame(t)), "the trap frame")
    run("tbreak *%#x if g_current == %d" % (kernel[0], t))
    go()
    expect_eq(val("g_current"), t, "the thread that stopped")
    expect_eq(fmt(kernel), fmt(gdb_frames()), "kernel frames (GDB's own, once it runs)")
    live = split_at_traps(bt_lines(run("tandem bt")))
    expect_eq([fmt(p) if isinstance(p, list) else p for p in live],
              [fmt(p) if isinstance(p, list) else p for p in parts],
              "`tandem bt` live against the walk from its saved context")


@test
def bt_interrupt_handler():
    # Still in the timer's handler: the frames above trap_dispatch, the
    # IRQ's frame, then what it interrupted.
    f, eip, user = ctx["irq_frame"]
    got = bt_lines(run("tandem bt"))
    parts = split_at_traps(got)
    expect_eq(fmt(parts[0]), fmt(gdb_frames()), "handler frames (GDB's own unwinder)")
    want = "IRQ 0 (timer) from %s: eip %08x" % ("user mode" if user else "the kernel", eip)
    expect(parts[1].startswith(want) and parts[1].endswith("trap frame %08x" % f),
           "the IRQ's frame: %r, expected %r" % (parts[1], want))
    expect(parts[2], "nothing after the IRQ's frame")
    expect_eq(parts[2][0], eip, "the interrupted code's first frame")


@test
def bt_double_fault_interrupted_thread():
    # At the guard's collision in the double-fault task: the task's frames,
    # then the colliding thread's from the TSS.
    expect("double-fault task" in run("tandem"), "not in the double-fault task")
    out = run("tandem bt")
    expect("--- double fault: the task switch saved thread %d" % val("g_current->tid") in out,
           "no double-fault boundary:\n" + out)
    got = bt_lines(out)
    parts = split_at_traps(got)
    task, _, thread = parts[0], parts[1], parts[2]
    own = gdb_frames(until_stub=False)
    expect_eq(fmt(task[:len(own)]), fmt(own), "the double-fault task's frames (GDB's own)")
    tss = {r: val("g_tss_io.tss.%s" % r) for r in ("eip", "esp", "ebp")}
    expect_eq(thread[0], tss["eip"], "the thread's first frame: the TSS's eip")
    names = [nm_symbol(pc - (0 if i == 0 else 1)) for i, pc in enumerate(thread)]
    expect(names[0].startswith("dive") and names.count(names[0]) > 5,
           "the dive's frames: %s" % " ".join(names))
    ctx["df_thread_frames"] = thread
    # GDB's own unwinder on the TSS's registers, put back afterwards.
    saved = {r: reg(r) for r in ("eip", "esp", "ebp")}
    try:
        for r in ("eip", "esp", "ebp"):
            gdb.execute("set $%s = %d" % (r, tss[r]), to_string=True)
        theirs = gdb_frames()
    finally:
        for r in ("eip", "esp", "ebp"):
            gdb.execute("set $%s = %d" % (r, saved[r]), to_string=True)
    expect_eq({r: reg(r) for r in saved}, saved, "registers put back")
    expect(len(theirs) > 5, "GDB's unwinder gave %d frames" % len(theirs))
    expect_eq(fmt(thread[:len(theirs)]), fmt(theirs), "the thread's frames (GDB's own on the TSS)")
