"""What the GDB tests share: talking to GDB, reading the helpers' output,
and reading the kernel another way (GDB expressions, the kernel's own
functions called from GDB, nm).  The tests themselves are in scenarios.py
and the modules it imports; each registers with @test."""

import os
import re
import subprocess
import sys
import traceback

import gdb

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from plan import SCENARIOS  # noqa: E402

SCENARIO = os.environ["TANDEM_GDB_SCENARIO"]
ELF = os.environ["TANDEM_GDB_ELF"]
USER_BIN = os.environ["TANDEM_GDB_USER_BIN"]
SERIAL = os.environ.get("TANDEM_GDB_SERIAL")      # what the kernel printed on COM1
CANARY = 0xC011DE5A
RESERVE = 1024


def debug_build():
    """Debug builds record each arena allocation (size, caller) and keep heap
    red zones; release builds (RELEASE=1) have neither, and their inline
    fast path hands kfast_alloc_slow no caller."""
    import tandem_gdb.kernel as k
    return k.debug_build()


def slot(size):
    """Bytes an allocation of size takes: its record (debug builds), 8-aligned."""
    import tandem_gdb.kernel as k
    return (size + k.record_size() + 7) & ~7


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def emit(line):
    sys.stdout.write("@@TAP %s\n" % line)
    sys.stdout.flush()


def note(text):
    sys.stdout.write("# %s\n" % text)
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# Talking to GDB

def run(cmd, allow_error=False):
    """Runs a command as typed; any error from the helpers fails the test."""
    try:
        out = gdb.execute(cmd, to_string=True)
    except gdb.error as e:
        if allow_error:
            return "ERROR: %s" % e
        raise Fail("`%s` failed: %s" % (cmd, e))
    for bad in ("Python Exception", "Traceback", "Error occurred in Python"):
        if bad in out:
            raise Fail("`%s` printed a Python error:\n%s" % (cmd, out))
    return out


def go(cmd="continue"):
    """Resumes; returns what was printed until the next stop."""
    out = run(cmd)
    if not gdb.selected_inferior().threads():
        raise Fail("the target ended during `%s`:\n%s" % (cmd, out[-2000:]))
    return out


def val(expr):
    return int(gdb.parse_and_eval(expr)) & 0xFFFFFFFF


def reg(name):
    return val("$" + name)


def return_value():
    """At a function's first instruction: runs to its return address and
    gives eax.  (`finish` was seen to stop early under a loaded host.)"""
    ret = u32(reg("esp"))
    start = reg("eip")
    # Off the breakpoint's instruction by a single step first: resuming from
    # a breakpoint with `continue` was seen to report the same stop again,
    # the CPU not having moved.
    for _ in range(5):
        if reg("eip") != start:
            break
        run("stepi")
    run("break *%#x" % ret)
    number = gdb.breakpoints()[-1].number
    try:
        # Under a loaded host QEMU was also seen to report the function's
        # entry once more after the step; the functions this is used on do
        # not recurse, so that stop is resumed too.
        for _ in range(3):
            go()
            if reg("eip") != start:
                break
            note("the entry %08x was reported again; resuming" % start)
    finally:
        run("delete %d" % number)
    if reg("eip") != ret:
        raise Fail("stopped at %08x, not at the return address %08x" % (reg("eip"), ret))
    return reg("eax")


def u32(addr):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 4)), "little")


def kcall(expr):
    """Calls a kernel function from GDB with interrupts masked meanwhile."""
    flags = reg("eflags")
    gdb.execute("set $eflags = %d" % (flags & ~0x200), to_string=True)
    try:
        return val(expr)
    finally:
        gdb.execute("set $eflags = %d" % flags, to_string=True)


def delete_breakpoints():
    gdb.execute("delete", to_string=True)


def expect(cond, text):
    if not cond:
        raise Fail(text)


def expect_eq(got, want, what):
    if got != want:
        fmt = (lambda v: "%#x" % v) if isinstance(got, int) and isinstance(want, int) else repr
        raise Fail("%s: the helpers say %s, independently %s" % (what, fmt(got), fmt(want)))


_nm = None


def nm_text():
    """The ELF's text symbols, by address, from nm."""
    global _nm
    if _nm is None:
        out = subprocess.run(["nm", "-n", ELF], capture_output=True, text=True, check=True).stdout
        _nm = [(int(a, 16), n) for a, t, n in (l.split()[:3] for l in out.splitlines() if len(l.split()) >= 3)
               if t in "Tt"]
    return _nm


def nm_address(name):
    for a, n in nm_text():
        if n == name:
            return a
    raise Fail("nm finds no %s" % name)


def nm_symbol(addr):
    """The text symbol holding addr, from the ELF's own symbol table."""
    best = None
    for a, n in nm_text():
        if a <= addr:
            best = n
        else:
            break
    return best


def user_symbol(program, name):
    out = subprocess.run(["nm", os.path.join(USER_BIN, program)], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise Fail("%s has no symbol %s" % (program, name))


# ---------------------------------------------------------------------------
# Reading the helpers' output

THREAD_ROW = re.compile(
    r"^([* ])\s*(\d+) (\S+)\s+(\S+)\s+(kernel|\d+ \S+)\s+([0-9a-f]{8})-([0-9a-f]{8}) "
    r"(user|dead|[0-9a-f]{8} (?:live|saved))\s+([0-9a-f]{8})\s+(-|-?\d+)\s+(\d+)\s+(\d+) (\S+)\s+(\S+)$")


def thread_rows(out):
    rows = {}
    for line in out.splitlines():
        m = THREAD_ROW.match(line)
        if m:
            esp = m.group(8)
            rows[int(m.group(2))] = {
                "cpu": m.group(1) == "*", "name": m.group(3), "state": m.group(4),
                "process": m.group(5), "block": int(m.group(6), 16), "end": int(m.group(7), 16),
                "esp": None if esp in ("user", "dead") else int(esp.split()[0], 16),
                "esp_how": esp.split()[-1], "top": int(m.group(9), 16),
                "gap": None if m.group(10) == "-" else int(m.group(10)),
                "peak": int(m.group(11)), "low_water": int(m.group(12)),
                "spill": m.group(13), "canary": m.group(14)}
    if not rows:
        raise Fail("no thread rows in:\n" + out)
    return rows


BOUNDARY = re.compile(r"^\s+([0-9a-f]{8})(?: ([0-9a-f]{8}))? [┌├└+][─-]+[┐┤┘+] ?(.*)$")
PIECE = re.compile(r"^\s+[│|] (.+?)\s+[│|]\s+(\d+) B\s+([\d.]+)%$")


def block_map(out):
    """(boundaries {label: stack-view address, label@arena: arena-view
    address}, [(label, bytes)], text)."""
    bounds, pieces = {}, []
    for line in out.splitlines():
        m = BOUNDARY.match(line)
        if m:
            stack = int(m.group(1), 16)
            arena = int(m.group(2), 16) if m.group(2) else stack
            for label in m.group(3).split(", "):
                if label:
                    label = label.split(" (")[0].split(":")[0]
                    bounds[label] = stack
                    bounds[label + "@arena"] = arena
            continue
        m = PIECE.match(line)
        if m:
            pieces.append((m.group(1), int(m.group(2))))
    if not pieces:
        raise Fail("no block map in:\n" + out)
    return bounds, pieces, out


def check_map_sums(pieces, size):
    total = sum(n for _, n in pieces)
    expect_eq(total, size, "sum of the block map's pieces")


def records(out):
    """[(object, size, slot, caller text, group title)] from `tandem arena`."""
    got, group = [], None
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("in the block") or s.startswith("in spill chunk"):
            group = s
        m = re.match(r"^\s+(\d+)\s+([0-9a-f]{8})\s+(\d+)\s+(\d+)\s+(.*)$", line)
        if m and group:
            got.append((int(m.group(2), 16), int(m.group(3)), int(m.group(4)), m.group(5), group))
    return got


def field(out, pattern, what):
    m = re.search(pattern, out, re.M)
    if not m:
        raise Fail("no %s in:\n%s" % (what, out))
    return m.group(1)


# ---------------------------------------------------------------------------
# Independent views of the kernel

def kernel_threads():
    """Every thread, walked from g_all_threads with GDB expressions alone."""
    head = val("&g_all_threads")
    link = val("&((struct thread *)0)->all_link")
    out, node = [], val("g_all_threads.next")
    while node != head and len(out) < 1000:
        t = node - link
        out.append(t)
        node = val("((struct list_node *)%d)->next" % node)
    return out


def T(t, member):
    return val("((struct thread *)%d)->%s" % (t, member))


def spill_bytes_of(arena):
    """kfast_spill_in_use: the chunks older than the newest (spill_older),
    and the newest up to the inline bump's chunk_top."""
    if not val("(unsigned)%s.spill" % arena):
        return 0
    return val("%s.spill_older" % arena) + val("%s.chunk_top" % arena) - \
        val("(unsigned)%s.spill->data" % arena)


def kernel_top(t):
    # kfast_arena_top: the running arena's top lives in g_kfast.
    if val("g_kfast.arena") == val("&((struct thread *)%d)->arena" % t):
        return val("g_kfast.top")
    return T(t, "arena.top")


def uapi_defines(prefix):
    """{NAME: value} of include/uapi/syscall.h's #define PREFIXNAME."""
    text = open(os.path.join(ROOT, "include/uapi/syscall.h")).read()
    out = {}
    pattern = r"^#define\s+%s(\w+)\s+\(?(\w+)(?:\s*<<\s*(\d+))?\)?" % prefix
    for m in re.finditer(pattern, text, re.M):
        v = int(m.group(2).rstrip("uU"), 0)
        out[m.group(1)] = v << int(m.group(3)) if m.group(3) else v
    return out

def kstring(expr):
    return gdb.parse_and_eval(expr).string().split("\0", 1)[0]

def list_addresses(head_expr, container, member):
    """Addresses of the containers on a list, walked with expressions."""
    head = val("&(%s)" % head_expr)
    link = val("&((%s *)0)->%s" % (container, member))
    out, node = [], val("(%s).next" % head_expr)
    while node != head and len(out) < 1000:
        out.append(node - link)
        node = val("((struct list_node *)%d)->next" % node)
    return out

def kernel_processes():
    return list_addresses("s_processes", "struct process", "all_link")

def P(p, member):
    return val("((struct process *)%d)->%s" % (p, member))


# ---------------------------------------------------------------------------
# Tests

TESTS = {}


def test(fn):
    TESTS[fn.__name__] = fn
    return fn


ctx = {}

ALL_COMMANDS = ["tandem", "tandem threads", "tandem block", "tandem arena", "tandem check",
                "tandem bt", "tandem sched", "tandem caps", "tandem catch"]
