"""User space from GDB: a process's memory, its program file and the
program's symbols.

GDB reads memory through the page tables the CPU has loaded (CR3), so a
process other than the one whose address space is active cannot be read
directly.  Its page directory is in the kernel's direct map, though
(struct addrspace.pd): the walk below translates a user address through it
and reads the frame through the direct map (phys + KERNEL_VMA).

Every program is linked at USER_BASE, so one program's addresses mean
nothing in another: names come from the program the process runs, found by
its name in the user programs' directory (`set tandem-user-bin DIR`; by
default the bin directory in the user directory beside the kernel's ELF, where
the build puts them).  Its function symbols are read
from the ELF's own symbol table here, so a program need not be loaded into
GDB to name its frames.
"""

import os
import struct

import gdb

from . import kernel as k

# include/config.h, include/mm/paging.h
KERNEL_VMA = 0xC0000000
USER_BASE = 0x00400000
PTE_PRESENT = 0x001
PDE_LARGE = 0x080
PAGE = 4096


class UserBinParameter(gdb.Parameter):
    """The directory holding the user programs (build/user/bin).

Empty (the default): the bin directory in the user directory beside the loaded
kernel's ELF file, where the build puts them."""

    set_doc = "Set the directory of Tandem's user programs."
    show_doc = "Show the directory of Tandem's user programs."

    def __init__(self):
        super().__init__("tandem-user-bin", gdb.COMMAND_DATA, gdb.PARAM_STRING)
        self.value = ""

    def get_show_string(self, svalue):
        return "Tandem's user programs are looked for in %s." % (svalue or "%s (beside the kernel)"
                                                                  % default_bin())


def default_bin():
    prog = gdb.current_progspace().filename if gdb.current_progspace() else None
    if not prog:
        return "build/user/bin"
    return os.path.join(os.path.dirname(prog), "user", "bin")


def user_bin():
    try:
        value = gdb.parameter("tandem-user-bin")
    except (gdb.error, RuntimeError):
        value = None
    return value or default_bin()


def program_file(name):
    """The program file a process called name runs, or None.  A process is
    named after its module, cut to THREAD_NAME_MAX - 1 characters: a longer
    program name matches by its start when only one does."""
    if not name:
        return None
    directory = user_bin()
    path = os.path.join(directory, name)
    if os.path.isfile(path):
        return path
    try:
        longer = [f for f in os.listdir(directory) if f.startswith(name)]
    except OSError:
        return None
    return os.path.join(directory, longer[0]) if len(longer) == 1 and len(name) >= 15 else None


# ---------------------------------------------------------------------------
# Memory of one address space

class AddressSpace:
    """The user half of one process's address space."""

    def __init__(self, pd_virt, pd_phys):
        self.pd_virt = pd_virt
        self.pd_phys = pd_phys

    @classmethod
    def of_process(cls, proc_addr):
        p = gdb.Value(proc_addr).cast(k.lookup_type("struct process").pointer()).dereference()
        as_addr = int(p["as"])
        if not as_addr:
            return None
        a = gdb.Value(as_addr).cast(k.lookup_type("struct addrspace").pointer()).dereference()
        return cls(int(a["pd"]), int(a["pd_phys"]))

    def active(self):
        """Whether the CPU has this address space loaded (CR3)."""
        try:
            return (k.register("cr3") & ~0xFFF) == (self.pd_phys & ~0xFFF)
        except gdb.error:
            return False

    def translate(self, va):
        """The physical address of va, or None when it is not mapped."""
        pde = k.u32(self.pd_virt + 4 * (va >> 22))
        if not pde & PTE_PRESENT:
            return None
        if pde & PDE_LARGE:
            return (pde & 0xFFC00000) | (va & 0x3FFFFF)
        pte = k.u32(KERNEL_VMA + (pde & ~0xFFF) + 4 * ((va >> 12) & 0x3FF))
        if not pte & PTE_PRESENT:
            return None
        return (pte & ~0xFFF) | (va & 0xFFF)

    def read(self, va, n):
        """n bytes at user address va, or gdb.MemoryError."""
        if self.active():
            return k.read(va, n)
        out = b""
        while n > 0:
            chunk = min(n, PAGE - (va & (PAGE - 1)))
            pa = self.translate(va)
            if pa is None:
                raise gdb.MemoryError("user address %08x is not mapped in this process" % va)
            out += k.read(KERNEL_VMA + pa, chunk)
            va += chunk
            n -= chunk
        return out

    def u32(self, va):
        return int.from_bytes(self.read(va, 4), "little")


# ---------------------------------------------------------------------------
# A program's function symbols, from its ELF file

_symbols = {}       # path -> (mtime, [(start, end, name)] sorted)


def _elf_functions(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        return []
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2E)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    out = []
    for sec in sections:
        if sec[1] != 2:             # SHT_SYMTAB
            continue
        strtab = sections[sec[6]]   # sh_link: its string table
        for off in range(sec[4], sec[4] + sec[5], 16):
            name_off, value, size, info = struct.unpack_from("<IIIB", data, off)
            kind = info & 0xF
            if kind not in (0, 2) or not name_off or value < USER_BASE:   # NOTYPE (asm), FUNC
                continue
            start = strtab[4] + name_off
            name = data[start:data.index(b"\0", start)].decode("latin-1")
            if kind == 0 and "." in name:
                continue            # nasm's local labels: named under their function
            out.append((value, value + size if size else None, name))
    out.sort()
    # Symbols without a size (assembly) run to the next symbol.
    fixed = []
    for i, (start, end, name) in enumerate(out):
        if end is None:
            end = out[i + 1][0] if i + 1 < len(out) else start + 1
        fixed.append((start, end, name))
    return fixed


def functions(path):
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        return []
    cached = _symbols.get(path)
    if cached is None or cached[0] != mtime:
        try:
            cached = (mtime, _elf_functions(path))
        except (OSError, struct.error, ValueError, IndexError):
            cached = (mtime, [])
        _symbols[path] = cached
    return cached[1]


def symbolize(path, pc):
    """'function+0xN' for pc in the program at path, or None."""
    best = None
    for start, end, name in functions(path):
        if start <= pc < end:
            best = (start, name)
        elif start > pc:
            break
    if best is None:
        return None
    return "%s+%#x" % (best[1], pc - best[0]) if pc != best[0] else best[1]


def in_text(path, pc):
    return any(start <= pc < end for start, end, _ in functions(path))
