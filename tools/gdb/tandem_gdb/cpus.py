"""The CPUs: `tandem cpus`, and every `tandem` command read through the
boot CPU whichever vCPU is selected.

QEMU's GDB stub shows each vCPU as a thread (vCPU n is thread id n + 1,
its local APIC id n with QEMU's default numbering) and reads memory through
the selected vCPU's paging: an AP that has not started has paging off.  So
the commands read the kernel as the boot CPU sees it - its per-CPU state
too ($tandem_cpu() is 0 inside them: `tandem` shows the boot CPU's thread,
`tandem cpus` every CPU's) - and select the user's vCPU again afterwards."""

import contextlib

import gdb

from . import kernel as k

CPU_STATES = ["found", "starting", "online", "failed"]     # enum cpu_state


def vcpus():
    """The vCPUs' GDB threads, by QEMU's vCPU number (0 first)."""
    return sorted(k.inferior().threads(), key=lambda t: t.ptid[1] or t.ptid[2] or t.num)


_user_selected = None       # the vCPU the user selected, while boot_cpu_view runs


@contextlib.contextmanager
def boot_cpu_view():
    """Selects the boot CPU's vCPU for the body, the user's again after."""
    global _user_selected
    selected = _user_selected = gdb.selected_thread()
    try:
        boot = vcpus()[0]
    except k.NotReady:
        boot = None
    if selected is None or boot is None or selected.ptid == boot.ptid:
        yield
        return
    boot.switch()
    try:
        yield
    finally:
        if selected.is_valid():
            selected.switch()


def vcpu_registers(thread):
    """(eip, esp) of one vCPU, read with its thread selected."""
    selected = gdb.selected_thread()
    thread.switch()
    try:
        return k.register("eip"), k.register("esp")
    finally:
        selected.switch()


def cpu_mask_text(mask):
    return ",".join(str(i) for i in range(32) if mask >> i & 1) or "none"


def request_text(addr):
    """A request in a mailbox or waited on: caller, function, CPUs left."""
    req = gdb.Value(addr).cast(k.lookup_type("struct xcall_request").pointer()).dereference()
    return "from cpu %d: %s, waiting on cpus %s" % (
        int(req["initiator"]), k.describe_pc(int(req["fn"]), exact=True).split(" (")[0],
        cpu_mask_text(int(req["pending"])))


def percpu(index):
    """CPU index's struct percpu (include/percpu.h)."""
    return k.symbol_value("g_percpu")[index]


def thread_text(index):
    """The thread a CPU runs (its per-CPU area's current)."""
    addr = int(percpu(index)["current"])
    if not addr:
        return "-"
    t = k.Thread(addr)
    return "%d %s" % (t.tid, t.name)


def arena_text(index):
    """The running arena's registers of a CPU (its per-CPU area's g_kfast)."""
    regs = percpu(index)["kfast"]
    return "top %08x guard %08x" % (int(regs["top"]), int(regs["guard"]))


def show():
    k.stage()
    smp = k.symbol_value("g_smp")
    calls = k.symbol_value("g_xcall_cpus")
    count = int(smp["count"])
    threads = {}
    for th in vcpus():
        threads[(th.ptid[1] or th.ptid[2] or th.num) - 1] = th
    selected = _user_selected or gdb.selected_thread()
    gdb.write("  %3s %4s %4s %-8s %-32s %-16s %-27s %5s %6s  %s\n" % (
        "CPU", "APIC", "VCPU", "STATE", "EIP", "THREAD", "ARENA", "MADE", "SERVED", "CALLS"))
    for i in range(max(count, 1)):
        c = smp["cpus"][i]
        apic = int(c["apic_id"])
        state = int(c["state"])
        state_text = CPU_STATES[state] if state < len(CPU_STATES) else str(state)
        th = threads.get(apic)
        eip_text = "-"
        if th is not None:
            eip, _ = vcpu_registers(th)
            eip_text = "%08x %s" % (eip, k.describe_pc(eip, exact=True).split(" (")[0])
        x = calls[i]
        pending = []
        if int(x["inbox"]):
            pending.append("mailbox: call " + request_text(int(x["inbox"])))
        if int(x["waiting"]):
            pending.append("waits on its call " + request_text(int(x["waiting"])))
        mark = "*" if th is not None and selected is not None and th.ptid == selected.ptid else " "
        gdb.write("%s %3d %4d %4s %-8s %-32s %-16s %-27s %5d %6d  %s\n" % (
            mark, i, apic, str(th.num) if th is not None else "-", state_text, eip_text[:32],
            thread_text(i)[:16], arena_text(i), int(x["made"]), int(x["served"]),
            "; ".join(pending) or "-"))
        if state == 3:
            gdb.write("        did not start: %s\n" % k.cstring(int(c["why"].address), 96))
    gdb.write("%d CPU%s, %d online; `*` marks the selected vCPU (GDB thread VCPU)\n" % (
        max(count, 1), "" if count == 1 else "s", int(smp["online"]) or 1))
