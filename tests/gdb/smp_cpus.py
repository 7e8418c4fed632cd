"""The CPUs (scenario smp, four of them): `tandem cpus` against g_smp and
g_xcall_cpus, stopped on an AP inside a cross-CPU call while the boot CPU
waits, and every command the same whichever vCPU is selected."""

import re

import gdb

from gdbtest import Skip, ctx, delete_breakpoints, expect, expect_eq, go, run, test, val

CPU_ROW = re.compile(r"^([* ])\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)")


def cpu_rows(out):
    """{cpu: (selected, apic, vcpu, state, line)} from `tandem cpus`."""
    rows = {}
    for line in out.splitlines():
        m = CPU_ROW.match(line)
        if m:
            rows[int(m.group(2))] = (m.group(1) == "*", int(m.group(3)), m.group(4),
                                     m.group(5), line)
    return rows


def call_text(request, what):
    """How `tandem cpus` must show a request, from the kernel's fields."""
    req = "((struct xcall_request *)%#x)" % request
    fn = gdb.execute("info symbol %#x" % val(req + "->fn"), to_string=True).split()[0]
    pending = val(req + "->pending")
    cpus = ",".join(str(i) for i in range(32) if pending >> i & 1) or "none"
    return "%s from cpu %d: %s, waiting on cpus %s" % (what, val(req + "->initiator"), fn, cpus)


@test
def cpus_while_an_ap_serves_a_call():
    # calls_from_every_cpu_to_every_other: an AP runs a call while the boot
    # CPU waits (on its own calls to every AP, or on AP i's call_the_others).
    run("break count_for_caller if g_xcall_cpus[0].waiting != 0 && $_thread != 1")
    go()
    delete_breakpoints()
    me = gdb.selected_thread().num
    count = val("g_smp.count")
    expect(count == 4, "g_smp.count is %d on -smp 4" % count)
    out = run("tandem cpus")
    gdb.write(out)          # into the scenario's log, a sample for tools/gdb/README.md
    rows = cpu_rows(out)
    expect_eq(sorted(rows), list(range(count)), "the CPUs `tandem cpus` lists")
    for i, (selected, apic, vcpu, state, line) in rows.items():
        expect_eq(apic, val("g_smp.cpus[%d].apic_id" % i), "cpu %d's APIC id" % i)
        expect_eq(state, "online", "cpu %d's state" % i)
        expect_eq(vcpu, str(apic + 1), "cpu %d's vCPU (QEMU numbers them by APIC id)" % i)
        expect_eq(selected, apic + 1 == me, "cpu %d marked selected" % i)
        made, served = (int(x) for x in re.findall(r"\s(\d+)\s+(\d+)\s{2}", line)[-1])
        expect_eq(made, val("g_xcall_cpus[%d].made" % i), "cpu %d's calls made" % i)
        expect_eq(served, val("g_xcall_cpus[%d].served" % i), "cpu %d's calls served" % i)
        for field, what in (("inbox", "mailbox: call"), ("waiting", "waits on its call")):
            request = val("g_xcall_cpus[%d].%s" % (i, field))
            if request:
                want = call_text(request, what)
                expect(want in line, "cpu %d's row lacks `%s`:\n%s" % (i, want, line))
        if apic + 1 == me:
            expect("count_for_caller" in line, "the stopped AP's eip is elsewhere:\n" + line)
    boot = rows[0][4]
    expect(" 1 kmain " in boot, "cpu 0 does not run thread 1 (kmain):\n" + boot)
    for i, (_, _, _, _, line) in rows.items():
        regs = "g_percpu[%d].kfast" % i
        expect("top %08x guard %08x" % (val(regs + ".top"), val(regs + ".guard")) in line,
               "cpu %d's arena registers are not its g_kfast's:\n%s" % (i, line))
    expect("waits on its call from cpu 0: " in boot, "cpu 0's wait is not shown:\n" + boot)
    ctx["cpus_stop_thread"] = me


@test
def every_command_reads_the_same_from_every_vcpu():
    if "cpus_stop_thread" not in ctx:
        raise Skip("no stop in a call (cpus_while_an_ap_serves_a_call failed)")
    commands = ["tandem", "tandem threads", "tandem block 1", "tandem check", "tandem cpus",
                "p $tandem_current()", "p $tandem_thread(1)"]
    run("thread 1")
    want = {cmd: run(cmd) for cmd in commands}
    for th in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)[1:]:
        run("thread %d" % th.num)
        for cmd in commands:
            got = run(cmd)
            want_cmd = want[cmd]
            if cmd == "tandem cpus":
                # Only the mark of the selected vCPU moves.
                got, want_cmd = (re.sub(r"(?m)^[* ]", " ", x) for x in (got, want_cmd))
            elif cmd.startswith("p "):
                # And GDB's value history numbers.
                got, want_cmd = (re.sub(r"^\$\d+ = ", "", x) for x in (got, want_cmd))
            expect(got == want_cmd, "`%s` with vCPU thread %d selected said:\n%s\n"
                   "with thread 1:\n%s" % (cmd, th.num, got, want_cmd))
            expect_eq(gdb.selected_thread().num, th.num, "the vCPU selected after `%s`" % cmd)
        expect("not running" not in run("tandem"), "`tandem` on vCPU %d" % th.num)
    run("thread %d" % ctx["cpus_stop_thread"])
