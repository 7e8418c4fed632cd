"""User programs' symbols follow the process (as Linux's lx-symbols makes
modules' symbols follow the modules loaded).

Every program is linked at USER_BASE, so two programs' symbols cannot be
loaded at once: an address would have two names, and a name the wrong
address.  On every stop the program of the address space the CPU has
loaded (CR3: the running process, or the last one for a kernel thread) is
loaded with add-symbol-file and any other program's symbols are dropped; a
stop in a kernel thread with the kernel's own address space drops them all.

Breakpoints follow too.  GDB places a breakpoint by name at the address the
loaded symbols give, and an address in user space exists in every process:
a breakpoint on demo_ping's function would fire at that address in init,
in the middle of some other function.  So while any breakpoint has a
location in user space (or is pending, waiting for a program's symbols), a
breakpoint GDB keeps to itself on as_activate - where the kernel loads
another address space - swaps the symbols before the next process runs a
single instruction, and GDB moves the breakpoints to the next program's
addresses.  It never stops, but each swap costs GDB a symbol load, so the
machine runs slower meanwhile; without such breakpoints it is disabled.

At a breakpoint's stop in the kernel the symbols are not swapped (a swap
re-sets every breakpoint, the one that stopped too, and GDB then warns
"location number not found" at every command); `tandem bt` names user
frames from the program's own file anyway, and the next stop that is not
a kernel breakpoint's brings the symbols up to date.

A name both the kernel and the program define (the runtime's sys_*
wrappers share the names of the kernel's handlers) would give a breakpoint
a location in each, and `break sys_spawn` would stop in ring 3 first.  The
kernel's name wins: such a breakpoint's location in user space is disabled
(and said so, once); the program's function is reached by naming its file,
`break user/lib/syscalls.c:sys_spawn`.

`set tandem-user-symbols off` turns all of it off (and drops the symbols
the helpers loaded).
"""

import os

import gdb

from . import kernel as k
from . import uspace

SWITCH_SITE = "as_activate"     # kernel/mm/paging.c: as_activate(struct addrspace *as)

_loaded = None          # the program file whose symbols the helpers loaded, or None


class UserSymbolsParameter(gdb.Parameter):
    """Whether the helpers load the running process's program symbols at each stop.

On (the default): the symbols of the program whose address space is loaded
replace any other program's, at every stop and, while breakpoints lie in
user space, at every address-space switch."""

    set_doc = "Set whether Tandem's user programs' symbols follow the running process."
    show_doc = "Show whether Tandem's user programs' symbols follow the running process."

    def __init__(self):
        super().__init__("tandem-user-symbols", gdb.COMMAND_DATA, gdb.PARAM_BOOLEAN)
        self.value = True

    def get_set_string(self):
        if not self.value:
            unload()
            _hook_enable(False)
        else:
            sync()
        return ""

    def get_show_string(self, svalue):
        where = (" (now: %s)" % _loaded) if _loaded else " (now: none loaded)"
        return "User program symbols following the process: %s%s." % (svalue, where)


def enabled():
    try:
        return bool(gdb.parameter("tandem-user-symbols"))
    except (gdb.error, RuntimeError):
        return False


def loaded():
    return _loaded


def _objfile(path):
    want = os.path.realpath(path)
    for o in gdb.objfiles():
        if o.filename and os.path.realpath(o.filename) == want:
            return o
    return None


def _programs_loaded():
    """The objfiles of user programs: the one the helpers loaded, and any
    loaded from the programs' directory by hand or by an earlier load of
    the helpers."""
    directory = os.path.realpath(uspace.user_bin())
    out = []
    for o in gdb.objfiles():
        name = os.path.realpath(o.filename) if o.filename else ""
        if (_loaded and name == os.path.realpath(_loaded)) or \
                os.path.dirname(name) == directory:
            out.append(o)
    return out


def unload():
    """Drops every user program's symbols."""
    global _loaded
    for o in _programs_loaded():
        try:
            gdb.execute("remove-symbol-file %s" % o.filename, to_string=True)
        except gdb.error:
            pass
    _loaded = None


def load(path):
    """Makes path the one program whose symbols are loaded (None: none)."""
    global _loaded
    if path == _loaded and (path is None or _objfile(path) is not None) and \
            len(_programs_loaded()) == (path is not None):
        return
    unload()
    if path is None:
        return
    try:
        gdb.execute("add-symbol-file %s" % path, to_string=True)
        _loaded = path
    except gdb.error as e:
        gdb.write("tandem: cannot load the symbols of %s: %s\n" % (path, e))
    kernel_names_win()


_told = set()       # breakpoints already told about their disabled user location


def kernel_names_win():
    """Disables the user-space locations of breakpoints that also have a
    kernel location: the same name in both (see above)."""
    for b in gdb.breakpoints():
        try:
            if not b.is_valid() or b.number <= 0 or b.type != gdb.BP_BREAKPOINT:
                continue
            locations = b.locations
        except (AttributeError, RuntimeError):
            return          # an older GDB without breakpoint locations: nothing to do
        kernel = [loc for loc in locations if loc.address >= uspace.KERNEL_VMA]
        user = [loc for loc in locations if loc.address < uspace.KERNEL_VMA]
        if not kernel or not user:
            continue
        for loc in user:
            if loc.enabled:
                loc.enabled = False
        if b.number not in _told:
            _told.add(b.number)
            gdb.write("tandem: breakpoint %d (%s) names a kernel function that the user program "
                      "also defines: its user-space location is disabled (name the program's "
                      "source file to break there)\n" % (b.number, b.location))


def process_of_space(pd_phys=None, as_addr=None):
    """(pid, name, program file) of the process whose address space has
    page directory pd_phys (or is the struct addrspace at as_addr), or None."""
    from . import caps
    ptype = k.lookup_type("struct process")
    atype = k.lookup_type("struct addrspace")
    for p in caps.all_processes():
        if p.exited or not p.table and not p.live_threads:
            continue
        a = int(gdb.Value(p.addr).cast(ptype.pointer()).dereference()["as"])
        if not a:
            continue
        if as_addr is not None and a != as_addr:
            continue
        if pd_phys is not None:
            pd = int(gdb.Value(a).cast(atype.pointer()).dereference()["pd_phys"])
            if (pd & ~0xFFF) != (pd_phys & ~0xFFF):
                continue
        return p.pid, p.name, uspace.program_file(p.name)
    return None


def program_on_cpu():
    """The program file of the address space in CR3, or None."""
    try:
        k.stage()
        cr3 = k.register("cr3")
    except (k.NotReady, gdb.error):
        return None
    found = process_of_space(pd_phys=cr3)
    return found[2] if found else None


def sync():
    """Loads the program of the address space on the CPU; drops others."""
    if not enabled():
        return
    try:
        load(program_on_cpu())
    except (k.NotReady, k.Damaged, gdb.error, gdb.MemoryError):
        pass        # a stop where the kernel cannot be read: leave the symbols be


def line_for(path, pc):
    """'file:line' for pc in the program at path, when its symbols are the
    ones loaded, else None."""
    if path is None or _loaded is None or os.path.realpath(path) != os.path.realpath(_loaded):
        return None
    sal = gdb.find_pc_line(pc)
    if sal.symtab is not None and sal.line:
        return "%s:%d" % (sal.symtab.filename, sal.line)
    return None


# ---------------------------------------------------------------------------
# The switch hook

class SwitchHook(gdb.Breakpoint):
    def __init__(self):
        super().__init__(SWITCH_SITE, gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self):
        # as_activate(struct addrspace *as): at its first instruction the
        # argument is above the return address.
        try:
            as_addr = k.u32(k.register("esp") + 4)
            found = process_of_space(as_addr=as_addr)
            load(found[2] if found else None)
        except (k.NotReady, k.Damaged, gdb.error, gdb.MemoryError):
            pass
        return False


_hook = None


def _user_breakpoints():
    """Whether any breakpoint of the user's has an enabled location in user
    space, or is pending (it may be resolved by a program's symbols)."""
    for b in gdb.breakpoints():
        try:
            if not b.is_valid() or b.number <= 0 or not b.enabled or b.type != gdb.BP_BREAKPOINT:
                continue
            if b.pending:
                return True
            if any(loc.enabled and loc.address < uspace.KERNEL_VMA for loc in b.locations):
                return True
        except AttributeError:
            return True             # an older GDB without breakpoint locations: assume so
    return False


def _hook_enable(on):
    global _hook
    if on and (_hook is None or not _hook.is_valid()):
        try:
            if gdb.lookup_global_symbol(SWITCH_SITE) is None:
                return
            _hook = SwitchHook()
        except (gdb.error, RuntimeError):
            _hook = None
            return
    if _hook is not None and _hook.is_valid() and _hook.enabled != on:
        _hook.enabled = on


_reviewing = False


def _review(_event=None):
    # Creating or enabling the hook is itself a breakpoint event: once is enough.
    global _reviewing
    if _reviewing:
        return
    _reviewing = True
    try:
        if enabled():
            kernel_names_win()
        _hook_enable(enabled() and _user_breakpoints())
    except (gdb.error, RuntimeError):
        pass
    finally:
        _reviewing = False


def _on_stop(event):
    # At a breakpoint's stop in the kernel the symbols stay as they are:
    # loading others re-sets every breakpoint, the one that stopped too,
    # and GDB then warns "location number not found" at every command.
    # A breakpoint in user space cannot find them wrong: while one is set,
    # the switch hook keeps them right.
    if not isinstance(event, gdb.BreakpointEvent) or _in_user_mode():
        sync()
    _review()


def _in_user_mode():
    try:
        return (k.register("cs") & 3) == 3
    except gdb.error:
        return False


_connected = []


def _connect(registry, fn):
    registry.connect(fn)
    _connected.append((registry, fn))


def register():
    UserSymbolsParameter()
    _connect(gdb.events.stop, _on_stop)
    for name in ("breakpoint_created", "breakpoint_modified", "breakpoint_deleted"):
        registry = getattr(gdb.events, name, None)
        if registry is not None:
            _connect(registry, _review)


def unregister():
    """For a reload of the helpers: disconnect, and drop the hook."""
    global _hook
    for registry, fn in _connected:
        try:
            registry.disconnect(fn)
        except (ValueError, RuntimeError):
            pass
    del _connected[:]
    if _hook is not None and _hook.is_valid():
        _hook.delete()
    _hook = None
