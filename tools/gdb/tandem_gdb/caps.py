"""`tandem caps [PID]`: the handle tables of the processes (include/cap.h).

A table is a struct cap_table: its owner, a count of open slots, a free
list and CAPS_PER_PROCESS slots.  A slot is open while its obj is set; the
handle user space holds for it is (gen << CAP_INDEX_BITS) | (slot + 1)
(cap_handle in kernel/cap/table.c).  Each slot records the slot it was
derived from, which may be in another process's table.  A table is read in
one piece and its fields taken by name from the kernel's types.
"""

import gdb

from . import args
from . import kernel as k

# Most processes a list walk believes before it calls the list damaged.
MAX_PROCESSES = 4096


@k.cached
def cap_type():
    return k.lookup_type("struct cap")


@k.cached
def table_type():
    return k.lookup_type("struct cap_table")


@k.cached
def process_type():
    return k.lookup_type("struct process")


@k.cached
def slots_per_table():
    """CAPS_PER_PROCESS: the length of cap_table.slots."""
    return table_type()["slots"].type.sizeof // cap_type().sizeof


def deref(addr, type_name):
    return gdb.Value(addr).cast(k.lookup_type(type_name).pointer()).dereference()


def fixed_string(addr, struct_type, field):
    """A char array field of the struct at addr, up to its NUL."""
    n = struct_type[field].type.sizeof
    return k.read(addr + k.offset_of(struct_type, field), n).split(b"\0", 1)[0].decode("latin-1")


def handle_of(index, gen):
    return (gen << k.CAP_INDEX_BITS) | (index + 1)


def rights_text(rights):
    """One letter per right in bit order (S R G W K P U), `-` where missing;
    bits the helpers do not know follow in hex."""
    text = "".join(letter if rights & (1 << bit) else "-"
                   for bit, letter in enumerate(k.CAP_RIGHT_LETTERS))
    unknown = rights & ~((1 << len(k.CAP_RIGHT_LETTERS)) - 1)
    return text + ("+%#x" % unknown if unknown else "")


def type_name(t):
    return k.CAP_TYPE_NAMES.get(t, "type%d" % t)


# ---------------------------------------------------------------------------
# Processes

class Process:
    """A struct process on s_processes."""

    def __init__(self, addr):
        pt = process_type()
        v = deref(addr, "struct process")
        self.addr = addr
        self.pid = int(v["pid"])
        self.name = fixed_string(addr, pt, "name")
        self.table = int(v["caps"])
        self.exited = bool(int(v["exited"]))
        self.exit_code = int(v["exit_code"]) if bool(int(v["exit_code_set"])) else None
        self.live_threads = int(v["live_threads"])

    def text(self):
        return "%d (%s)" % (self.pid, self.name)

    def state(self):
        if self.exited or not self.table:
            code = "exit code %d" % self.exit_code if self.exit_code is not None else "no exit code"
            return "ended, %s" % code
        if self.live_threads == 0:
            return "ending"
        return "running"


def all_processes():
    """Every process on s_processes (kernel/thread/process.c), in list order."""
    head = k.symbol_address("s_processes")
    link = k.offset_of(process_type(), "all_link")
    return [Process(node - link) for node in k.list_nodes(head, MAX_PROCESSES)]


# ---------------------------------------------------------------------------
# Slots

class Slot:
    """One open slot of a table."""

    def __init__(self, index, v):
        self.index = index
        self.obj = int(v["obj"])
        self.rights = int(v["rights"])
        self.badge = int(v["badge"])
        self.caller = int(v["caller"])
        self.gen = int(v["gen"])
        self.parent = int(v["parent"])
        self.handle = handle_of(index, self.gen)


class Table:
    """A struct cap_table, read at once."""

    def __init__(self, addr):
        tt = table_type()
        self.addr = addr
        value = gdb.Value(k.read(addr, tt.sizeof), tt)
        self.owner = int(value["owner"])
        self.open_field = int(value["open"])
        self.size = slots_per_table()
        slots = value["slots"]
        self.slots = []
        for i in range(self.size):
            v = slots[i]
            if int(v["obj"]):
                self.slots.append(Slot(i, v))
        # Free slots are on the free list by their sibling links; count them.
        self.free = sum(1 for _ in k.list_nodes(addr + k.offset_of(tt, "free"), self.size))

    @property
    def retired(self):
        return self.size - len(self.slots) - self.free


def slot_address(table_addr, index):
    return table_addr + k.offset_of(table_type(), "slots") + index * cap_type().sizeof


def where_slot(addr, self_table):
    """`HANDLE` for a slot of self_table, `PID:HANDLE` for another process's
    slot, or `?ADDR` when addr is in no table that can be read."""
    try:
        c = deref(addr, "struct cap")
        table, gen = int(c["table"]), int(c["gen"])
        index, rest = divmod(addr - slot_address(table, 0), cap_type().sizeof)
        if rest or not (0 <= index < slots_per_table()):
            return "?%08x" % addr
        if table == self_table:
            return "%d" % handle_of(index, gen)
        owner = int(deref(table, "struct cap_table")["owner"])
        return "%d:%d" % (int(deref(owner, "struct process")["pid"]), handle_of(index, gen))
    except gdb.MemoryError:
        return "?%08x" % addr


# ---------------------------------------------------------------------------
# What a slot's object is

def thread_text(addr):
    """`TID (NAME)` of a struct thread."""
    tt = k.thread_type()
    try:
        tid = int(deref(addr, "struct thread")["tid"])
        return "%d (%s)" % (tid, fixed_string(addr, tt, "name"))
    except gdb.MemoryError:
        return "?%08x" % addr


def queue_text(head):
    """The tids of the threads on an endpoint's senders or receivers list."""
    link = (k.offset_of(k.thread_type(), "ipc") +
            k.offset_of(k.lookup_type("struct ipc_state"), "link"))
    tids = [int(deref(node - link, "struct thread")["tid"]) for node in k.list_nodes(head)]
    return " ".join(str(t) for t in tids) if tids else "none"


def describe_endpoint(obj):
    et = k.lookup_type("struct endpoint")
    ep = deref(obj, "struct endpoint")
    # The serial is what SYS_CAP_INFO reports as its base (kernels before it had none).
    serial = " %d" % int(ep["serial"]) if k.has_field(et, "serial") else ""
    return "endpoint%s: receive holders %d, senders %s, receivers %s" % (
        serial, int(ep["receive_holders"]), queue_text(obj + k.offset_of(et, "senders")),
        queue_text(obj + k.offset_of(et, "receivers")))


def describe_process(obj):
    p = Process(obj)
    return "process %s, %s" % (p.text(), p.state())


def describe_thread(obj):
    rt = k.lookup_type("struct thread_record")
    r = deref(obj, "struct thread_record")
    text = "thread %d (%s)" % (int(r["tid"]), fixed_string(obj, rt, "name"))
    if bool(int(r["ended"])):
        return text + ", ended, exit code %d" % int(r["exit_code"])
    t = int(r["thread"])
    if not t:
        return text + ", reaped"
    return text + ", " + str(deref(t, "struct thread")["state"]).replace("THREAD_", "").lower()


def describe_module(obj):
    index = int(deref(obj, "struct module_object")["index"])
    boot = k.symbol_value("g_boot")
    name = boot["modules"][index]["name"].string(length=boot["modules"][index]["name"].type.sizeof)
    return "module %d: %s" % (index, name.split("\0", 1)[0])


def describe_device(obj, kind):
    d = deref(obj, "struct device_object")
    name = k.cstring(int(d["name"])) or "?"
    base, size = int(d["base"]), int(d["size"])
    if kind == "irq":
        return "irq %d: %s" % (base, name)
    if kind == "ioport":
        return "ports %#x-%#x: %s" % (base, base + size - 1, name)
    return "memory %08x-%08x: %s" % (base, base + size - 1, name)


def describe_log(obj):
    """The kernel log object: who shows it, and where it notifies."""
    log = deref(obj, "struct log_object")
    shown = "taken by a user-space console" if int(log["console_taken_by"]) else "the kernel's"
    ep = int(log["src"]["ep"])
    bound = ("notifies endpoint %d" % int(deref(ep, "struct endpoint")["serial"]) if ep
             else "not bound")
    return "kernel log: console %s, %s" % (shown, bound)


def describe(slot):
    """What the object of an open slot is, in a few words."""
    try:
        kind = type_name(int(deref(slot.obj, "struct kobject")["type"]))
    except gdb.MemoryError as e:
        return "?", "object unreadable: %s" % e
    try:
        if kind == "endpoint":
            return kind, describe_endpoint(slot.obj)
        if kind == "process":
            return kind, describe_process(slot.obj)
        if kind == "thread":
            return kind, describe_thread(slot.obj)
        if kind == "module":
            return kind, describe_module(slot.obj)
        if kind in ("irq", "ioport", "memory"):
            return kind, describe_device(slot.obj, kind)
        if kind == "log":
            return kind, describe_log(slot.obj)
        if kind == "reply":
            return kind, ("reply to thread %s" % thread_text(slot.caller) if slot.caller
                          else "reply: caller gone")
    except gdb.MemoryError as e:
        return kind, "unreadable: %s" % e
    return kind, "unknown object type"


# ---------------------------------------------------------------------------
# Output

HEADER = "  %6s %4s %-8s %-7s %5s %-9s %-8s %s\n" % (
    "HANDLE", "SLOT", "TYPE", "RIGHTS", "BADGE", "FROM", "OBJECT", "WHAT")


def summary(p, table):
    text = "Process %s: %d handle%s open, %d slot%s free (of %d)" % (
        p.text(), len(table.slots), "" if len(table.slots) == 1 else "s", table.free,
        "" if table.free == 1 else "s", table.size)
    if table.retired:
        text += ", %d retired" % table.retired
    if table.open_field != len(table.slots):
        text += "; the table counts %d open (caught mid-update)" % table.open_field
    return text


def show_process(p, write=gdb.write):
    """Prints one process's table; returns its open handles (0 when ended)."""
    if not p.table:
        write("Process %s: %s; no handle table\n" % (p.text(), p.state()))
        return 0
    table = Table(p.table)
    write(summary(p, table) + "\n")
    if not table.slots:
        return 0
    write(HEADER)
    for s in table.slots:
        kind, what = describe(s)
        write("  %6d %4d %-8s %-7s %5s %-9s %08x %s\n" % (
            s.handle, s.index, kind, rights_text(s.rights), "%d" % s.badge if s.badge else "-",
            where_slot(s.parent, table.addr) if s.parent else "-", s.obj, what))
    return len(table.slots)


def run(arg, write=gdb.write):
    k.stage()
    processes = all_processes()
    p = args.process_spec(processes, arg, "tandem caps", "tandem caps [PID]")
    if p is not None:
        show_process(p, write)
        return
    if not processes:
        write("tandem caps: no processes yet (the first starts after the kernel's own work)\n")
        return
    total = 0
    for i, p in enumerate(processes):
        if i:
            write("\n")
        total += show_process(p, write)
    ended = sum(1 for p in processes if not p.table)
    kernel = int(k.symbol_value("s_handles_open"))
    write("\ntandem caps: %d process%s (%d ended), %d handle%s open%s\n" % (
        len(processes), "" if len(processes) == 1 else "es", ended, total,
        "" if total == 1 else "s",
        "" if kernel == total else "; the kernel counts %d (s_handles_open)" % kernel))
