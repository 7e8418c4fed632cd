"""Walking a thread's stack across the rings: kernel frames, the trap frame
its entry left, then the user program's frames.

GDB's own unwinder stops at the assembly entry stubs (they have no CFI:
"previous frame inner to this frame") and can only start from the CPU's
registers.  This walker starts from wherever a thread's state is - the
registers for the thread on the CPU, its switch_context frame for one that
is switched out, the TSS for the thread the double-fault task interrupted -
and follows the frame pointers (kernel and user programs are built with
-fno-omit-frame-pointer).  A return address into trap_common or
sysenter_entry marks an entry: the struct trap_frame sits right above the
return address's slot (both stubs `push esp; call`), and the walk goes on
from the registers it saved, into the interrupted kernel code or into the
user program, whose memory is read through the process's own page tables
(tandem_gdb/uspace.py).

Where the CPU stopped (an exact pc, not a return address) the frame may not
be set up yet: at a function's first instruction, after its `push ebp`, at
its `ret`, or in an assembly function that never makes one.  Those cases
are recognised from the instruction bytes; an assembly function's return
address is found by scanning up the stack for a word that follows a call.
"""

import gdb

from . import kernel as k
from . import uspace

MAX_FRAMES = 512
SCAN_WORDS = 64         # how far up a frameless function's stack to look for its return address

# Exceptions 0-31 by their Intel names (SDM vol. 3A, table 6-1).
EXCEPTIONS = {0: "#DE divide error", 1: "#DB debug", 2: "NMI", 3: "#BP breakpoint",
              4: "#OF overflow", 5: "#BR bound range", 6: "#UD invalid opcode",
              7: "#NM no FPU", 8: "#DF double fault", 10: "#TS invalid TSS",
              11: "#NP segment not present", 12: "#SS stack fault", 13: "#GP general protection",
              14: "#PF page fault", 16: "#MF x87 error", 17: "#AC alignment check",
              18: "#MC machine check", 19: "#XM SIMD error"}
IRQ_NAMES = {0: "timer", 1: "keyboard", 3: "COM2", 4: "COM1", 14: "primary ATA", 15: "secondary ATA"}
SYSCALL_VECTOR = 0x80
ENTRY_STUBS = ("trap_common", "sysenter_entry")


class Frame:
    """One line of a backtrace: a frame, or a boundary between two stacks."""

    def __init__(self, kind, pc=None, text="", sp=None):
        self.kind = kind        # "kernel", "user", "trap" or "note"
        self.pc = pc
        self.sp = sp
        self.text = text


# ---------------------------------------------------------------------------
# Code: where functions start, calls, names

def _kernel_function_start(pc):
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        block = None
    while block is not None and block.superblock is not None and \
            (block.function is None or block.superblock.function is not None):
        block = block.superblock
    if block is not None and block.function is not None:
        return block.start
    try:
        out = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    except gdb.error:
        return None
    if out.startswith("No symbol"):
        return None
    name = out.split(" in section")[0]
    off = int(name.split(" + ")[1]) if " + " in name else 0
    return pc - off


def _call_before(read, ret):
    """Whether the bytes before ret are a call (so ret is a return address)."""
    try:
        code = read(ret - 7, 7)
    except gdb.MemoryError:
        return False
    if code[2] == 0xE8:                         # call rel32
        return True
    for back in (2, 3, 6, 7):                   # call r/m32: FF /2, by its length
        if code[7 - back] == 0xFF and (code[8 - back] >> 3) & 7 == 2:
            return True
    return False


class Space:
    """One stack's world: how to read it, whose code it runs, how to name it."""

    def __init__(self, read, is_text, start_of, name_of, lo=0, hi=1 << 32):
        self.read = read
        self.is_text = is_text          # whether an address is in its code (a return address: ask for ret - 1)
        self.start_of = start_of
        self.name_of = name_of
        self.lo, self.hi = lo, hi       # where frame pointers may point

    def u32(self, addr):
        return int.from_bytes(self.read(addr, 4), "little")

    def on_stack(self, addr):
        return self.lo <= addr < self.hi


def kernel_space(thread=None, lo=None, hi=None):
    """Reads through thread's arena view inside its block (a stack-view page
    may be one the arena claimed, gone from the stack view)."""
    def read(addr, n):
        if thread is not None and thread.contains(addr):
            return k.read(thread.stack_to_arena(addr), n)
        return k.read(addr, n)

    def is_text(pc):
        return pc >= uspace.KERNEL_VMA and k.function_at(pc) is not None

    if thread is not None:
        lo, hi = thread.block, thread.top_of_block
    return Space(read, is_text, _kernel_function_start, kernel_name, lo or 0, hi or (1 << 32))


def inlined_at(at):
    """The inlined functions the code at `at` is in, innermost first, from
    the loaded debug information."""
    inner = []
    try:
        block = gdb.block_for_pc(at)
        while block is not None and block.superblock is not None and \
                block.superblock.function is not None:
            if block.function is not None:
                inner.append(block.function.name)
            block = block.superblock
    except RuntimeError:
        pass
    return inner


def kernel_name(pc, exact):
    """'function+0xN (file:line) [inlined: g <- h]' for a kernel code
    address; a return address is named by its call (pc - 1)."""
    text = k.describe_pc(pc, exact=exact)
    inner = inlined_at(pc if exact else pc - 1)
    if inner:
        text += " [inlined: %s]" % " <- ".join(inner)
    return text


def user_space(proc_addr, path, stack_top):
    aspace = uspace.AddressSpace.of_process(proc_addr)
    if aspace is None:
        return None

    def is_text(pc):
        return path is not None and uspace.in_text(path, pc)

    def start_of(pc):
        for start, end, _ in uspace.functions(path) if path else []:
            if start <= pc < end:
                return start
        return None

    def name_of(pc, exact):
        from . import usersyms
        at = pc if exact else pc - 1
        name = uspace.symbolize(path, at) if path else None
        if name is None:
            text = "%08x" % pc
        elif exact:
            text = name
        else:
            # Named by the call, but with the return address's offset.
            base = name.split("+")[0]
            start = start_of(at)
            text = base + ("+%#x" % (pc - start) if start is not None and pc != start else "")
        line = usersyms.line_for(path, at) if path else None
        if line:
            # Its symbols are the ones loaded: the debug information knows more.
            text += " (%s)" % line
            inner = inlined_at(at)
            if inner:
                text += " [inlined: %s]" % " <- ".join(inner)
        return text + " [%s]" % (path.rsplit("/", 1)[-1] if path else "no program file")

    return Space(aspace.read, is_text, start_of, name_of, uspace.USER_BASE, stack_top)


# ---------------------------------------------------------------------------
# One step up the stack

def _caller(space, pc, ebp, esp, exact):
    """(return address, caller's ebp, the return address's slot) of the
    frame at pc, or None when the chain ends."""
    start = space.start_of(pc) if exact else None
    slot = None
    caller_ebp = ebp
    if exact and start is not None:
        try:
            here = space.read(pc, 1)[0]
        except gdb.MemoryError:
            here = 0
        frame_set = _frame_set_at(space, start)     # where ebp = esp is done, or None
        prologue = frame_set is not None
        if pc == start or here in (0xC3, 0xC2):
            slot = esp                              # nothing pushed yet, or all popped
        elif prologue and pc <= frame_set:
            slot = esp + 4                          # ebp pushed, not yet moved
        elif not prologue:
            slot = _scan_for_return(space, esp)     # a frameless (assembly) function
            if slot is None:
                return None
            if not (slot < ebp and space.on_stack(ebp)):
                caller_ebp = _scan_for_frame(space, esp, slot)
    if slot is None:
        if not space.on_stack(ebp) or ebp & 3:
            return None
        try:
            caller_ebp = space.u32(ebp)
        except gdb.MemoryError:
            return None
        slot = ebp + 4
    try:
        ret = space.u32(slot)
    except gdb.MemoryError:
        return None
    return ret, caller_ebp, slot


PROLOGUE_BYTES = 24


def _frame_set_at(space, start):
    """Where a function that starts with `push ebp` has done `mov ebp, esp`
    (the address after that instruction), or None for a function that makes
    no frame.  gcc may schedule other instructions in between (`push ebp;
    xor ecx, ecx; mov ebp, esp`), none of which push."""
    try:
        code = space.read(start, PROLOGUE_BYTES)
    except gdb.MemoryError:
        return None
    if code[:1] != b"\x55":
        return None
    for i in range(1, len(code) - 1):
        if code[i:i + 2] in (b"\x89\xe5", b"\x8b\xec"):
            return start + i + 2
    return None


def _scan_for_return(space, esp):
    for i in range(SCAN_WORDS):
        slot = esp + 4 * i
        try:
            word = space.u32(slot)
        except gdb.MemoryError:
            return None
        if space.is_text(word - 1) and _call_before(space.read, word):
            return slot
    return None


def _scan_for_frame(space, esp, slot):
    """A saved frame pointer between esp and slot: a stack address above
    slot whose next word is a return address."""
    for addr in range(esp, slot, 4):
        try:
            word = space.u32(addr)
            if slot < word and space.on_stack(word) and not word & 3:
                ret = space.u32(word + 4)
                if space.is_text(ret - 1) and _call_before(space.read, ret):
                    return word
        except gdb.MemoryError:
            continue
    return 0


# ---------------------------------------------------------------------------
# Trap frames

def syscall_name(number):
    """The handler's name for a system call number (kernel/syscall/syscall.c's g_syscall_table)."""
    try:
        sym = gdb.lookup_global_symbol("g_syscall_table")
    except gdb.error:
        sym = None
    if sym is None:
        return None
    table = sym.value()
    n = table.type.range()[1] + 1
    if 0 <= number < n:
        fn = int(table[number])
        return k.function_at(fn) if fn else None
    return None


def trap_text(f, entry, number_valid):
    """The entry a trap frame records, in words."""
    if f.vector == SYSCALL_VECTOR:
        how = "sysenter" if entry.startswith("sysenter") else "int 0x80"
        if number_valid:
            name = syscall_name(f.eax)
            what = "system call %d (%s)" % (f.eax, name or "no such call")
        else:
            what = "system call (finished: eax now holds its result, %#x)" % f.eax
        what += " by %s" % how
    elif 32 <= f.vector < 48:
        line = f.vector - 32
        what = "IRQ %d%s" % (line, " (%s)" % IRQ_NAMES[line] if line in IRQ_NAMES else "")
    elif f.vector < 32:
        what = "exception %d %s, error code %#x" % (f.vector, EXCEPTIONS.get(f.vector, "reserved"),
                                                     f.error)
    else:
        what = "vector %d" % f.vector
    if f.user:
        return "%s from user mode: eip %08x, esp %08x" % (what, f.eip, f.user_esp)
    return "%s from the kernel: eip %08x" % (what, f.eip)


class SavedFrame:
    """A struct trap_frame read from a stack (through its thread's arena view)."""

    def __init__(self, addr, space):
        tf = k.lookup_type("struct trap_frame")
        raw = space.read(addr, tf.sizeof)
        v = gdb.Value(raw, tf)
        self.addr = addr
        for name in ("vector", "error", "eip", "cs", "ebp", "eax", "user_esp"):
            setattr(self, name, int(v[name]) & 0xFFFFFFFF)
        self.cs &= 0xFFFF
        self.user = (self.cs & 3) == 3
        # A frame from the kernel ends before user_esp: the interrupted esp is there.
        self.kernel_esp = addr + k.offset_of(tf, "user_esp")


# ---------------------------------------------------------------------------
# The walk

class Start:
    """Where a walk begins."""

    def __init__(self, pc, ebp, esp, exact, how):
        self.pc, self.ebp, self.esp, self.exact, self.how = pc, ebp, esp, exact, how


def start_of_thread(view, t):
    """Where t's kernel stack walk begins, or (None, why)."""
    if view.df_task and k.same(t, view.current):
        r = k.interrupted_registers()
        return Start(r["eip"], r["ebp"], r["esp"], True, "the TSS (interrupted by the double fault)"), None
    if view.running(t):
        cpu = view.cpu
        if cpu.user_mode:
            return None, "in user mode"
        return Start(cpu.eip, cpu.ebp, cpu.esp, True, "the CPU's registers"), None
    if t.state == "dead" and not t.saved_esp:
        return None, "dead"
    sp = t.saved_esp
    space = kernel_space(t)
    try:
        # switch_context pushed ebp, ebx, esi, edi and eflags below its return address.
        ebp, ret = space.u32(sp + 16), space.u32(sp + 20)
    except gdb.MemoryError:
        return None, "its saved stack at %08x cannot be read" % sp
    # A thread that has never run returns into the first instruction of its
    # start function (thread_alloc builds its stack so), not after a call.
    fresh = _kernel_function_start(ret) == ret
    return Start(ret, ebp, sp + 24, fresh, "its %sswitch_context frame (saved esp %08x)" % (
        "first " if fresh else "", sp)), None


def walk_kernel(space, start, frames, limit=MAX_FRAMES):
    """Appends kernel frames from start; returns (trap frame, entry stub name)
    where the walk crossed into an entry, else (None, None)."""
    pc, ebp, esp, exact = start.pc, start.ebp, start.esp, start.exact
    prev_slot = None
    while len(frames) < limit:
        frames.append(Frame("kernel", pc, space.name_of(pc, exact), esp))
        up = _caller(space, pc, ebp, esp, exact)
        if up is None:
            return None, None
        ret, caller_ebp, slot = up
        if prev_slot is not None and slot <= prev_slot:
            frames.append(Frame("note", text="(the frame chain goes down the stack at %08x: stopped)"
                                % slot))
            return None, None
        prev_slot = slot
        # (A return address is named by its call: after a call that never
        # returns it lies past the end of the calling function.)
        entry = k.function_at(ret - 1) or ""
        if any(entry.startswith(s) for s in ENTRY_STUBS):
            try:
                return SavedFrame(slot + 8, space), entry
            except gdb.MemoryError:
                frames.append(Frame("note", text="(the trap frame at %08x cannot be read)" % (slot + 8)))
                return None, None
        if not space.is_text(ret - 1):
            return None, None
        pc, ebp, esp, exact = ret, caller_ebp, slot + 4, False
    frames.append(Frame("note", text="(more than %d frames: stopped)" % limit))
    return None, None


def walk_user(space, pc, ebp, esp, frames, limit=MAX_FRAMES):
    exact = True
    prev_slot = None
    while len(frames) < limit:
        frames.append(Frame("user", pc, space.name_of(pc, exact), esp))
        up = _caller(space, pc, ebp, esp, exact)
        if up is None:
            return
        ret, caller_ebp, slot = up
        if prev_slot is not None and slot <= prev_slot:
            return
        prev_slot = slot
        if not space.is_text(ret - 1):
            return
        pc, ebp, esp, exact = ret, caller_ebp, slot + 4, False


def program_of(t):
    """The program file of t's process, or None."""
    p = t.process()
    return uspace.program_file(p[1]) if p else None


def user_walk_for(t, frames, pc, ebp, esp):
    path = program_of(t)
    p = t.process()
    if path is None:
        frames.append(Frame("note", text="(no program file for process %s in %s: "
                                         "`set tandem-user-bin DIR`)" % (
                                             "%d %s" % p if p else "?", uspace.user_bin())))
    space = user_space(t.proc_addr, path, 0xC0000000)
    if space is None:
        frames.append(Frame("note", text="(its address space is gone)"))
        return
    walk_user(space, pc, ebp, esp, frames)


def thread_frames(view, t):
    """Every frame of thread t, innermost first."""
    frames = []
    start, why = start_of_thread(view, t)
    if start is None and why == "in user mode":
        cpu = view.cpu
        frames.append(Frame("trap", text="in user mode (ring 3): eip %08x, esp %08x" % (cpu.eip, cpu.esp)))
        user_walk_for(t, frames, cpu.eip, cpu.ebp, cpu.esp)
        return frames
    if start is None:
        frames.append(Frame("note", text="(no frames: %s)" % why))
        return frames
    space = kernel_space(t)
    while True:
        before = len(frames)
        f, entry = walk_kernel(space, start, frames)
        if f is None:
            break
        names = [x.text for x in frames[before:]]
        number_valid = any(n.startswith("sys_") for n in names)
        frames.append(Frame("trap", text="%s, trap frame %08x" % (trap_text(f, entry, number_valid),
                                                                  f.addr)))
        if f.user:
            user_walk_for(t, frames, f.eip, f.ebp, f.user_esp)
            return frames
        start = Start(f.eip, f.ebp, f.kernel_esp, True, "the trap frame")
    if t.user and not any(x.kind == "trap" for x in frames):
        # Not (yet) entered from ring 3 this time, e.g. a new thread: the
        # frame at the top of its block is what it will return with.
        try:
            f = SavedFrame(t.user_frame_addr(), space)
            if f.user:
                frames.append(Frame("trap", text="not entered from ring 3 on this stack; its frame "
                                                 "at the top of the block returns to user eip %08x, "
                                                 "esp %08x" % (f.eip, f.user_esp)))
                user_walk_for(t, frames, f.eip, f.ebp, f.user_esp)
        except gdb.MemoryError:
            pass
    return frames


def df_task_frames(view):
    """The double-fault task's own frames, on s_df_stack."""
    v = k.symbol_value("s_df_stack")
    lo = int(v.address)
    space = kernel_space(None, lo, lo + v.type.sizeof)
    cpu = view.cpu
    frames = []
    walk_kernel(space, Start(cpu.eip, cpu.ebp, cpu.esp, True, "registers"), frames)
    return frames
