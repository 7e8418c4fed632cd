"""Reading the kernel's state: types, memory, the CPU, the thread list.

Everything here reads; nothing writes to the target.  Types and sizes come
from the kernel's debug information (build/tandem.elf), so the helpers follow
KSTACK_SIZE and the debug/release build without being told.  The few macro
constants the debug information cannot carry (gcc -g keeps no macros) are
copied below from the headers named beside them; tests/gdb checks that they
still agree.
"""

import re

import gdb

# include/kfast.h
KFAST_CANARY = 0xC011DE5A
KFAST_RESERVE = 1024
KFAST_PAINT = 0xA5
KFAST_POISON = 0x6B
KFAST_ALIGN = 8
KFAST_MAX_ALLOC = 1 << 24
# kernel/mm/heap.c, include/mm/heap.h and include/mm/heap_fast.h
HEAP_MAGIC_LIVE = 0xA110CA7E
HEAP_MAGIC_FREE = 0xF4EEF4EE
HEAP_MAGIC_CACHED = 0xCAC4EDB1
HEAP_MAGIC_END = 0xE4DE4DE4
HEAP_REDZONE = 0xFD
HEAP_FREED = 0xDD
HEAP_RZ_MIN = 8
HEAP_GRAIN = 8
HEAP_BLOCK_FREE = 1
HEAP_BLOCK_CACHED = 2
HEAP_BLOCK_FREE_BELOW = 4
HEAP_CACHE_DEPTH = 8
HEAP_CACHE_CLASS_BYTES = 512
HEAP_CACHE_BLOCKS = 32
# x86
CR0_PG = 1 << 31
# include/cap.h
CAP_INDEX_BITS = 8
# include/uapi/syscall.h: CAP_TYPE_* by value, and a letter for each right
# CAP_* in bit order (SEND RECV GRANT WAIT KILL SPAWN USE).
CAP_TYPE_NAMES = {1: "endpoint", 2: "process", 3: "thread", 4: "module", 5: "irq",
                  6: "ioport", 7: "memory", 8: "reply", 9: "log"}
CAP_RIGHT_LETTERS = "SRGWKPU"

# Most threads a list walk believes before it calls the list damaged.
MAX_THREADS = 4096


class NotReady(Exception):
    """The kernel cannot be inspected at this stop (yet); the message says why."""


class Damaged(Exception):
    """A kernel structure cannot be walked; the message says where."""


# ---------------------------------------------------------------------------
# Memory and registers

def inferior():
    inf = gdb.selected_inferior()
    if inf is None or inf.pid == 0 or not gdb.selected_inferior().threads():
        raise NotReady("no target: attach first (target remote :PORT, or `make debug`)")
    return inf


def read(addr, n):
    """n bytes at addr, or gdb.MemoryError."""
    return bytes(inferior().read_memory(addr, n))


def readable(addr, n=1):
    try:
        read(addr, n)
        return True
    except gdb.MemoryError:
        return False


def u32(addr):
    return int.from_bytes(read(addr, 4), "little")


def cstring(addr, limit=64):
    """The NUL-terminated string at addr (at most limit bytes), or None."""
    if not addr:
        return None
    try:
        raw = read(addr, limit)
    except gdb.MemoryError:
        # Near the end of a mapping: take what can be read.
        raw = b""
        for i in range(limit):
            try:
                raw += read(addr + i, 1)
            except gdb.MemoryError:
                break
            if raw[-1:] == b"\0":
                break
    return raw.split(b"\0", 1)[0].decode("latin-1")


def register(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFF


def align_up(x, a):
    return (x + a - 1) & ~(a - 1)


# ---------------------------------------------------------------------------
# Types and symbols (looked up once per loaded kernel)

_cache = {}


def _forget(_event=None):
    _cache.clear()


gdb.events.new_objfile.connect(_forget)
try:
    gdb.events.clear_objfiles.connect(_forget)
except AttributeError:
    pass


def cached(fn):
    def wrapper():
        key = fn.__name__
        if key not in _cache:
            _cache[key] = fn()
        return _cache[key]
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def lookup_type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        raise NotReady("the kernel's debug information has no `%s`: load build/tandem.elf "
                       "(file build/tandem.elf) built with -g" % name)


def has_field(t, name):
    return any(f.name == name for f in t.fields())


def offset_of(t, name):
    for f in t.fields():
        if f.name == name:
            return f.bitpos // 8
    raise NotReady("`%s` has no field `%s`: the helpers and the kernel disagree" % (t, name))


def kernel_objfile():
    """The kernel's objfile (the program GDB was given), or None."""
    prog = gdb.current_progspace().filename if gdb.current_progspace() else None
    for o in gdb.objfiles():
        if prog and o.filename == prog:
            return o
    return None


def symbol_value(name):
    """The value of a kernel variable (global or file-static): looked up in
    the kernel's own objfile first, so that a user program's symbols, loaded
    beside it, cannot answer for the kernel."""
    sym = None
    o = kernel_objfile()
    if o is not None:
        sym = o.lookup_global_symbol(name) or o.lookup_static_symbol(name)
    if sym is None:
        sym = gdb.lookup_global_symbol(name)
    if sym is None:
        sym = gdb.lookup_static_symbol(name)
    if sym is None:
        try:
            return gdb.parse_and_eval(name)
        except gdb.error:
            raise NotReady("no symbol `%s` in the loaded kernel (file build/tandem.elf)" % name)
    return sym.value()


def symbol_address(name):
    return int(symbol_value(name).address)


@cached
def thread_type():
    return lookup_type("struct thread")


@cached
def kstack_size():
    """KSTACK_SIZE, the size of every block: sizeof(g_boot_block)."""
    return int(symbol_value("g_boot_block").type.sizeof)


@cached
def trap_frame_size():
    return lookup_type("struct trap_frame").sizeof


@cached
def debug_build():
    """Whether the kernel was built with TANDEM_DEBUG (records, red zones)."""
    return has_field(lookup_type("struct heap_block"), "magic")


@cached
def record_size():
    return lookup_type("struct kfast_record").sizeof if debug_build() else 0


def _symbol_start(at):
    """(name, start) of the function holding code address at, or None: the
    ELF symbol, else (a cold part, a local label) the debug information's
    outermost function - not an inlined callee, whose name would hide the
    function the code is in."""
    try:
        out = gdb.execute("info symbol 0x%x" % at, to_string=True).strip()
    except gdb.error:
        out = ""
    m = re.match(r"(\S+)(?: \+ (\d+))? in section", out)
    if m:
        return m.group(1), at - int(m.group(2) or 0)
    try:
        block = gdb.block_for_pc(at)
        while block is not None and block.function is None:
            block = block.superblock
        while block is not None and block.superblock is not None and \
                block.superblock.function is not None:
            block = block.superblock
        if block is not None and block.function is not None:
            return block.function.name, block.start
    except RuntimeError:
        pass
    return None


def describe_pc(pc, exact=False):
    """'function+0x1c (file.c:42)' for a code address, or its hex.

    A return address (exact False: what the kernel records as a caller, a
    frame's return address) is named by the call before it, pc - 1: a call
    that never returns may be a function's last instruction, and its return
    address then lies past the function, or in the next one.  An exact pc
    (a faulting instruction, where the CPU stopped) is named as it is."""
    if not pc:
        return "%08x" % pc
    at = pc if exact else pc - 1
    text = "%08x" % pc
    found = _symbol_start(at)
    if found is not None:
        name, start = found
        text = name if pc == start else "%s+%#x" % (name, pc - start)
    sal = gdb.find_pc_line(at)
    if sal.symtab is not None and sal.line:
        text += " (%s:%d)" % (sal.symtab.filename, sal.line)
    return text


def function_at(pc):
    """The name of the function holding pc, or None."""
    try:
        out = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
    except gdb.error:
        return None
    if out.startswith("No symbol"):
        return None
    return out.split(" in section")[0].split(" + ")[0]


# ---------------------------------------------------------------------------
# Where the CPU is

class Cpu:
    """The registers that say where QEMU stopped."""

    def __init__(self):
        inferior()
        try:
            self.cr0 = register("cr0")
        except gdb.error:
            self.cr0 = CR0_PG           # a stub without control registers: assume paging
        self.cs = register("cs") & 0xFFFF
        self.eip = register("eip")
        self.esp = register("esp")
        self.ebp = register("ebp")
        self.eflags = register("eflags")

    @property
    def paging(self):
        return bool(self.cr0 & CR0_PG)

    @property
    def user_mode(self):
        return (self.cs & 3) == 3

    @property
    def ring(self):
        return self.cs & 3


def stage_memory(cpu=None):
    """Raises NotReady unless the kernel's variables can be read (paging is
    on); returns the Cpu."""
    cpu = cpu or Cpu()
    if not cpu.paging:
        raise NotReady("the kernel is not running yet: paging is off (cr0 %08x, eip %08x; "
                       "firmware, GRUB or the Multiboot entry code). Try `break kmain` and "
                       "`continue`." % (cpu.cr0, cpu.eip))
    return cpu


def stage(cpu=None):
    """Raises NotReady unless threads can be read; returns the Cpu.

    Tandem can be inspected once paging is on and thread_init_boot has set
    g_current; before that the messages say what is missing."""
    cpu = stage_memory(cpu)
    try:
        current = int(symbol_value("g_current"))
    except gdb.MemoryError:
        raise NotReady("the kernel's data cannot be read yet (early paging, eip %08x)" % cpu.eip)
    if current == 0:
        raise NotReady("no threads yet: g_current is NULL (before thread_init_boot; "
                       "eip %08x). kmain runs on g_boot_block." % cpu.eip)
    return cpu


def scheduler_started():
    """False before sched_init has made the idle thread."""
    try:
        return int(symbol_value("g_percpu")[0]["idle"]) != 0
    except (NotReady, gdb.error):
        return len(all_threads()) > 1


# ---------------------------------------------------------------------------
# Threads

def list_nodes(head_addr, limit=MAX_THREADS):
    """Addresses of the nodes of the circular list at head_addr."""
    node = u32(head_addr + 4)       # struct list_node { prev, next }
    seen = set()
    while node != head_addr:
        if node in seen or len(seen) >= limit:
            raise Damaged("list at %08x does not come back to its head (node %08x)" %
                          (head_addr, node))
        if node == 0:
            raise Damaged("list at %08x has a NULL next pointer" % head_addr)
        seen.add(node)
        yield node
        node = u32(node + 4)


def all_threads():
    """Every thread on g_all_threads, in list order."""
    head = symbol_address("g_all_threads")
    link = offset_of(thread_type(), "all_link")
    return [Thread(node - link) for node in list_nodes(head)]


def current_address():
    return int(symbol_value("g_current"))


def find_thread(spec):
    """The thread named by spec: a tid, a name, or a struct thread * expression."""
    threads = all_threads()
    text = spec.strip()
    try:
        tid = int(text, 0)
    except ValueError:
        tid = None
    if tid is not None:
        for t in threads:
            if t.tid == tid:
                return t
        raise gdb.GdbError("no thread with tid %d (tandem threads lists them)" % tid)
    named = [t for t in threads if t.name == text]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise gdb.GdbError("%d threads are named %s: give a tid (%s)" %
                           (len(named), text, ", ".join(str(t.tid) for t in named)))
    try:
        v = gdb.parse_and_eval(text)
    except gdb.error as e:
        raise gdb.GdbError("`%s` is neither a tid, a thread name nor an expression: %s" % (text, e))
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        addr = int(v)
        for t in threads:
            if t.addr == addr:
                return t
        raise gdb.GdbError("%08x is not a thread on g_all_threads" % addr)
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT and v.address is not None:
        addr = int(v.address)
        for t in threads:
            if t.addr == addr:
                return t
    tid = int(v)
    for t in threads:
        if t.tid == tid:
            return t
    raise gdb.GdbError("no thread with tid %d (tandem threads lists them)" % tid)


class Chunk:
    """One spill chunk (struct kfast_chunk)."""

    def __init__(self, addr):
        ctype = lookup_type("struct kfast_chunk")
        v = gdb.Value(addr).cast(ctype.pointer()).dereference()
        self.addr = addr
        self.older = int(v["older"])
        self.size = int(v["size"])
        self.used = int(v["used"])
        self.data = addr + offset_of(ctype, "data")


class Thread:
    """A struct thread and the figures derived from its block.

    A block may be mapped twice (include/mm/block.h): t->block is its stack
    view, arena.base its arena view, at base - block bytes from it (0 when
    there is one view, as for the boot thread).  The block's bytes are read
    through the arena view, which maps every page; esp and the trap frame are
    stack-view addresses.  The derived figures follow the kernel's own
    definitions: kfast_arena_top, kfast_arena_guard, kfast_low_water and
    kfast_arena_stats in kernel/mm/kfast.c, kfast_stats in kernel/thread/thread.c."""

    def __init__(self, addr):
        self.addr = addr
        tt = thread_type()
        self.value = gdb.Value(addr).cast(tt.pointer()).dereference()
        v = self.value
        self.tid = int(v["tid"])
        self.name = read(addr + offset_of(tt, "name"), 16).split(b"\0", 1)[0].decode("latin-1")
        self.state = str(v["state"]).replace("THREAD_", "").lower()
        self.wait_reason = cstring(int(v["wait_reason"])) if has_field(tt, "wait_reason") else None
        self.proc_addr = int(v["proc"])
        self.block = int(v["block"])
        self.saved_esp = int(v["saved_esp"])
        self.kernel_entries = int(v["kernel_entries"]) if has_field(tt, "kernel_entries") else None
        a = v["arena"]
        atype = lookup_type("struct kfast_arena")
        self.arena_addr = addr + offset_of(tt, "arena")
        self.base = int(a["base"])
        self.end = int(a["end"])
        self.view_off = (self.base - self.block) & 0xFFFFFFFF
        self.guarded = bool(int(a["guarded"])) if has_field(atype, "guarded") else False
        self.peak_field = int(a["peak"])          # block and spill chunks together
        # The block's own peak (what the low-water count starts above): an
        # address (peak_top), in bytes (peak_block) in older kernels, which
        # before that kept only one peak, of the block.
        if has_field(atype, "peak_top"):
            self.peak_block = int(a["peak_top"]) - int(a["base"])
        elif has_field(atype, "peak_block"):
            self.peak_block = int(a["peak_block"])
        else:
            self.peak_block = self.peak_field
        self.spills = int(a["spills"])
        self.refusals = int(a["refusals"])
        self.resets_field = int(a["resets"])
        self.collisions = int(a["collisions"])
        self.spill_head = int(a["spill"])
        # The newest chunk's fill lives in chunk_top (the inline bump), the
        # older ones' in used and their sum in spill_older; older kernels
        # kept every chunk's used and the sum in spill_bytes.
        self.chunk_top = int(a["chunk_top"]) if has_field(atype, "chunk_top") else None
        if self.chunk_top is None:
            self.spill_bytes = int(a["spill_bytes"])
        elif self.spill_head:
            newest = self.spill_head + offset_of(lookup_type("struct kfast_chunk"), "data")
            self.spill_bytes = int(a["spill_older"]) + self.chunk_top - newest
        else:
            self.spill_bytes = 0
        self.keep = int(a["keep"]) if has_field(atype, "keep") else None
        self.strict = bool(int(a["strict"]))
        kfast = symbol_value("g_kfast")
        # kfast_arena_top: the running arena's registers live in g_kfast.
        self.arena_live = int(kfast["arena"]) == self.arena_addr
        src = kfast if self.arena_live else a
        self.top = int(src["top"])
        # kfast_arena_stats: the count in g_kfast is of the block's objects
        # alone where spills are counted apart (kernels with chunk_top).
        self.allocations = int(src["allocations"])
        if self.chunk_top is not None:
            self.allocations += self.spills
        self.guard = int(src["guard"]) if has_field(atype, "guard") else None
        self.size = kstack_size()
        self._bytes = None
        self._proc = None

    # -- the process ---------------------------------------------------------

    @property
    def user(self):
        return self.proc_addr != 0

    def process(self):
        """(pid, name) of its process, or None for a kernel thread."""
        if not self.proc_addr:
            return None
        if self._proc is None:
            ptype = lookup_type("struct process")
            p = gdb.Value(self.proc_addr).cast(ptype.pointer()).dereference()
            name = read(self.proc_addr + offset_of(ptype, "name"), 16)
            self._proc = (int(p["pid"]), name.split(b"\0", 1)[0].decode("latin-1"))
        return self._proc

    def process_text(self):
        p = self.process()
        return "%d %s" % p if p else "kernel"

    # -- the block -----------------------------------------------------------

    def bytes(self):
        """The whole block, read once through the arena view."""
        if self._bytes is None:
            self._bytes = read(self.base, self.size)
        return self._bytes

    def contains(self, addr):
        """Whether a stack-view address is inside the block."""
        return self.block <= addr < self.block + self.size

    @property
    def top_of_block(self):
        return self.block + self.size

    def stack_to_arena(self, addr):
        return (addr + self.view_off) & 0xFFFFFFFF

    def arena_to_stack(self, addr):
        return (addr - self.view_off) & 0xFFFFFFFF

    def canary(self):
        """The word at the arena top (KFAST_CANARY when intact), or None."""
        off = self.top - self.base
        if 0 <= off <= self.size - 4:
            return int.from_bytes(self.bytes()[off:off + 4], "little")
        try:
            return u32(self.top)
        except gdb.MemoryError:
            return None

    def canary_ok(self):
        return self.canary() == KFAST_CANARY

    @property
    def in_block(self):
        return self.top - self.base

    @property
    def claimed(self):
        """Bytes of the block the arena has claimed (gone from the stack view)."""
        if not self.guarded or self.guard is None:
            return 0
        return max(0, self.guard - self.base)

    @property
    def peak(self):
        """kfast_arena_stats: the peak (block and spill chunks) is kept
        lazily, so the live use counts too."""
        return max(self.peak_field, self.peak_block, self.in_block + self.spill_bytes)

    @property
    def peak_in_block(self):
        return max(self.peak_block, self.in_block)

    def low_water_from(self):
        """Where kfast_low_water starts counting (arena view): past the
        canary above the block's peak."""
        return max(self.top, self.base + self.peak_block) + 4

    def low_water(self):
        """kfast_low_water: painted bytes from low_water_from() up."""
        data = self.bytes()
        n = 0
        for b in data[max(self.low_water_from() - self.base, 0):]:
            if b != KFAST_PAINT:
                break
            n += 1
        return n

    def deepest_write(self):
        """The lowest stack address written so far, in the stack view."""
        return self.arena_to_stack(self.low_water_from() + self.low_water())

    def room(self, esp):
        """Bytes kfastmalloc can still place in the block with the stack at
        esp (kfast_alloc_slow's admission rule); beyond them it spills."""
        sp = self.stack_to_arena(esp)
        if self.guard is None:
            # Kernels from before the claimed pages: anything below esp - reserve.
            limit = sp - KFAST_RESERVE
        elif not self.guarded:
            limit = self.guard          # only inside pages already claimed (none)
        else:
            limit = max(self.guard, (sp - KFAST_RESERVE) & ~0xFFF)
        return max(0, limit - 4 - self.top)

    def crossed(self, esp):
        """Whether the stack at esp has crossed into the claimed pages or
        over the canary: there is no room to speak of then."""
        sp = self.stack_to_arena(esp)
        return sp < self.top + 4 or (self.claimed > 0 and sp < self.guard)

    def resets(self):
        """kfast_stats: a user thread's resets are its completed kernel entries."""
        if self.user and self.kernel_entries is not None:
            return self.kernel_entries
        return self.resets_field

    def chunks(self):
        """Spill chunks, newest first."""
        out, addr, seen = [], self.spill_head, set()
        while addr:
            if addr in seen or len(out) > 100000:
                raise Damaged("spill chain of thread %d loops at %08x" % (self.tid, addr))
            seen.add(addr)
            c = Chunk(addr)
            if not out and self.chunk_top is not None:
                c.used = self.chunk_top - c.data     # the newest: its fill is the bump
            out.append(c)
            addr = c.older
        return out

    def user_frame_addr(self):
        """Where its trap frame from ring 3 sits (user threads), stack view."""
        return self.top_of_block - trap_frame_size()


class View:
    """The threads and who is on the CPU, at one stop."""

    def __init__(self):
        self.cpu = stage()
        self.threads = all_threads()
        self.current_addr = current_address()
        self.current = next((t for t in self.threads if t.addr == self.current_addr), None)
        # The thread whose block holds esp is the one on the CPU; between
        # `g_current = next` and switch_context it is not g_current yet.
        self.on_cpu = None
        self.df_task = False
        if self.cpu.user_mode:
            self.on_cpu = self.current
        else:
            self.on_cpu = next((t for t in self.threads if t.contains(self.cpu.esp)), None)
            self.df_task = self.on_cpu is None and in_symbol(self.cpu.esp, "s_df_stack")
        self.mid_switch = (not self.cpu.user_mode and self.on_cpu is not None and
                           self.current is not None and not same(self.on_cpu, self.current))

    def thread(self, t):
        """This view's own object for t (threads are told apart by address:
        a Thread read again is another Python object for the same thread)."""
        return next((x for x in self.threads if same(x, t)), t)

    def interrupted(self):
        """(eip, esp) of the task the double fault interrupted (saved in the TSS)."""
        regs = interrupted_registers()
        return regs["eip"], regs["esp"]

    def esp_of(self, t):
        """(esp, how): the live esp for the thread on the CPU in the kernel,
        None in user mode (its kernel stack is empty), the interrupted esp
        in the double-fault task, else its saved esp."""
        if same(t, self.on_cpu):
            if self.cpu.user_mode:
                return None, "user"
            return self.cpu.esp, "live"
        if self.df_task and same(t, self.current):
            return self.interrupted()[1], "tss"
        if t.state == "dead" and not t.saved_esp:
            return None, "dead"
        return t.saved_esp, "saved"

    def fault_address(self, t):
        """In the double-fault task: the address the interrupted thread's
        faulting access aimed at (cr2), when it lies in t's stack view.  A
        push or call at the guard faults with esp still on the guard, so
        only cr2 shows that the stack crossed it."""
        if not (self.df_task and same(t, self.current)):
            return None
        try:
            cr2 = int(gdb.parse_and_eval("$cr2")) & 0xFFFFFFFF
        except gdb.error:
            return None
        return cr2 if t.contains(cr2) else None

    def stack_reach(self, t, esp):
        """Where t's stack crossed into the claimed pages: esp if it did,
        else the faulting access that did (fault_address), else esp."""
        fault = self.fault_address(t)
        if esp is None or fault is None or not t.claimed:
            return esp
        if t.stack_to_arena(esp) < t.guard or t.stack_to_arena(fault) >= t.guard:
            return esp
        return fault

    def running(self, t):
        return same(t, self.on_cpu) or (self.df_task and same(t, self.current))

    def where(self):
        """One line: where the CPU is."""
        cpu = self.cpu
        on = self.on_cpu
        fn = function_at(cpu.eip)
        at = ("%08x <%s>" % (cpu.eip, fn)) if fn else "%08x" % cpu.eip
        if cpu.user_mode:
            text = "in user mode (ring 3) at eip %08x, esp %08x: thread %d (%s)" % (
                cpu.eip, cpu.esp, on.tid, on.name)
        elif self.df_task:
            eip, esp = self.interrupted()
            cur = self.current
            text = ("in the double-fault task at %s, on its own stack; it interrupted thread %d (%s) "
                    "at eip %08x, esp %08x" % (at, cur.tid, cur.name, eip, esp))
        elif on is None:
            text = "in the kernel at %s, on a stack outside every block (esp %08x)" % (at, cpu.esp)
        else:
            text = "in the kernel at %s: thread %d (%s)" % (at, on.tid, on.name)
            frames = trap_frames_on_stack(on)
            if frames:
                text += ", serving %s" % frames[0].describe()
        if self.mid_switch:
            text += " (mid-switch: g_current is already thread %d)" % self.current.tid
        if not scheduler_started():
            text += "; the scheduler has not started (before sched_init: only the boot thread)"
        return text


def same(a, b):
    """Whether two Thread objects (or None) are the same kernel thread."""
    return a is not None and b is not None and a.addr == b.addr


def tss():
    """The CPU's TSS: g_tss (a macro for g_tss_io.tss on kernels with I/O
    bitmaps, which the debug information cannot name), or the variable."""
    try:
        return symbol_value("g_tss_io")["tss"]
    except NotReady:
        return symbol_value("g_tss")


def interrupted_registers():
    """The registers the double-fault task switch saved in the TSS: those of
    the task it interrupted."""
    t = tss()
    return {name: int(t[name]) & 0xFFFFFFFF for name in ("eip", "esp", "ebp", "eflags", "cs")}


def in_symbol(addr, name):
    """Whether addr lies inside the kernel object `name`."""
    try:
        v = symbol_value(name)
        start = int(v.address)
        return start <= addr <= start + v.type.sizeof
    except (NotReady, gdb.error):
        return False


# ---------------------------------------------------------------------------
# Trap frames on a stack

class TrapFrame:
    def __init__(self, addr, thread=None):
        """The frame at stack-view address addr, read through thread's arena
        view when given (a stack-view page may be unmapped)."""
        self.addr = addr
        where = thread.stack_to_arena(addr) if thread is not None else addr
        v = gdb.Value(where).cast(lookup_type("struct trap_frame").pointer()).dereference()
        self.vector = int(v["vector"])
        self.error = int(v["error"])
        self.eip = int(v["eip"])
        self.cs = int(v["cs"]) & 0xFFFF
        self.user = (self.cs & 3) == 3
        self.user_esp = int(v["user_esp"]) if self.user else None

    def vector_name(self):
        if self.vector < 32:
            names = {0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 6: "#UD", 8: "#DF", 13: "#GP", 14: "#PF"}
            return names.get(self.vector, "exception %d" % self.vector)
        if 32 <= self.vector < 48:
            return "IRQ %d%s" % (self.vector - 32, " (timer)" if self.vector == 32 else "")
        if self.vector == 0x80:
            return "system call"
        return "vector %d" % self.vector

    def describe(self):
        if self.user:
            return "%s (vector %d) from user eip %08x" % (self.vector_name(), self.vector, self.eip)
        fn = function_at(self.eip)
        return "%s (vector %d) from kernel eip %08x%s" % (
            self.vector_name(), self.vector, self.eip, " <%s>" % fn if fn else "")


def trap_frames_on_stack(t):
    """Trap frames of the running thread, innermost first, found by unwinding
    to each trap_dispatch (its caller, the assembly entry, pushed the frame's
    address as the argument).  Best effort: [] if the unwinder cannot tell."""
    out = []
    try:
        frame = gdb.newest_frame()
        depth = 0
        while frame is not None and depth < 64:
            if frame.name() in ("trap_dispatch", "sysenter_dispatch"):
                caller = frame.older()
                if caller is None:
                    break
                arg_slot = int(caller.read_register("esp")) & 0xFFFFFFFF
                addr = u32(arg_slot)
                # `push esp; call ...`: the argument is the address above it.
                if t.contains(addr) and addr == arg_slot + 4:
                    out.append(TrapFrame(addr, t))
            frame = frame.older()
            depth += 1
    except (gdb.error, gdb.MemoryError):
        pass
    return out
