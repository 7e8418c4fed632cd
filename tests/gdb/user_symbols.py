"""User programs' symbols follow the process: at a stop in ring 3 the
loaded program is the running process's (and only it), a breakpoint on a
program function moves with the process and stops only at that process's
own address for it, and a name the kernel also defines stays the kernel's.
The truth is each program's symbol table read with nm."""

import os

import gdb

from gdbtest import (expect, expect_eq, go, kstring, nm_address, reg, run, test, user_symbol,
                     USER_BIN, val)

# A function of the user runtime that the kernel does not have, called by
# both demo programs at every IPC (static, so each program has its own).
FUNCTION = "syscall_ipc"


def programs_loaded():
    """The user programs whose symbols GDB holds."""
    bin_dir = os.path.realpath(USER_BIN)
    return sorted(os.path.basename(o.filename) for o in gdb.objfiles()
                  if o.filename and os.path.dirname(os.path.realpath(o.filename)) == bin_dir)


def running_program():
    return kstring("g_current->proc->name")


def check_names_here():
    """At a ring-3 stop: GDB names the pc as the running program's nm does."""
    prog = running_program()
    expect_eq(programs_loaded(), [prog], "programs whose symbols are loaded")
    out = gdb.execute("info symbol $pc", to_string=True)
    name = out.split(" in section")[0].split(" + ")[0].strip()
    expect_eq(user_symbol(prog, name) <= reg("eip"), True, "%s's %s is above the pc" % (prog, name))
    expect(out.rstrip().endswith(os.path.join(USER_BIN, prog)) or prog in out,
           "the pc named from another file: %s" % out)


@test
def user_symbols_follow_the_process():
    run("break %s" % FUNCTION)
    seen = {}
    for _ in range(12):
        go()
        expect(reg("cs") & 3 == 3, "stopped outside ring 3 (cs %04x)" % reg("cs"))
        prog = running_program()
        expect_eq(reg("eip"), user_symbol(prog, FUNCTION),
                  "the stop in %s: %s's own %s" % (prog, prog, FUNCTION))
        check_names_here()
        b = [x for x in gdb.breakpoints() if x.location == FUNCTION][0]
        expect_eq([loc.address for loc in b.locations], [user_symbol(prog, FUNCTION)],
                  "the breakpoint's locations in %s" % prog)
        seen[prog] = seen.get(prog, 0) + 1
        if len(seen) >= 2 and min(seen.values()) >= 2:
            break
    run("delete")
    expect(len(seen) >= 2 and min(seen.values()) >= 2,
           "the breakpoint did not follow the processes: stops %r" % seen)
    expect(user_symbol("demo_ping", FUNCTION) != user_symbol("demo_pong", FUNCTION),
           "the two programs' %s share an address: the test proves nothing" % FUNCTION)


@test
def kernel_name_breakpoint_stays_in_the_kernel():
    # sys_ipc_call is the kernel's handler and the runtime's wrapper.
    out = run("break sys_ipc_call")
    b = gdb.breakpoints()[-1]
    kernel = nm_address("sys_ipc_call")
    enabled = [loc.address for loc in b.locations if loc.enabled]
    expect_eq(enabled, [kernel], "the enabled locations of `break sys_ipc_call`")
    note = run("info breakpoints")
    expect("names a kernel function that the user program also defines" in out or
           any(loc.address < 0xC0000000 for loc in b.locations) is False,
           "no word why the user location is off:\n" + out + note)
    go()
    run("delete")
    expect(reg("cs") & 3 == 0 and reg("eip") == kernel,
           "stopped at %08x (cs %04x), not in the kernel's sys_ipc_call" % (reg("eip"), reg("cs")))
    expect_eq(val("1"), 1, "GDB still answers")


@test
def user_symbols_right_after_a_step():
    # A stop that is no breakpoint's (a step) in ring 3, with another
    # program's symbols loaded by hand: the stop brings the right ones back.
    run("break %s" % FUNCTION)
    go()
    run("delete")
    prog = running_program()
    wrong = "init" if prog != "init" else "demo_pong"
    for o in gdb.objfiles():
        if o.filename and os.path.basename(o.filename) == prog:
            gdb.execute("remove-symbol-file %s" % o.filename, to_string=True)
    gdb.execute("add-symbol-file %s" % os.path.join(USER_BIN, wrong), to_string=True)
    expect_eq(programs_loaded(), [wrong], "symbols loaded by hand")
    run("stepi")
    expect(reg("cs") & 3 == 3, "the step left ring 3")
    check_names_here()
