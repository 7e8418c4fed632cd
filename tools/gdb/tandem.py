# Tandem's GDB helpers: the one file to load.
#
#     (gdb) source tools/gdb/tandem.py
#
# or `gdb -x tools/gdb/tandem.py build/tandem.elf`.  It puts tools/gdb on
# Python's path and loads the tandem_gdb package, which registers the
# `tandem` prefix command, its subcommands and the convenience functions
# $tandem_thread(tid) and $tandem_current().  Sourcing it again reloads
# every module, so edits to the helpers take effect in a running session.

import importlib
import os
import sys

import gdb

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

if "tandem_gdb" in sys.modules:
    # A reload: the old package takes back its own breakpoints and event
    # handlers, then its modules go, so that every command is defined anew.
    _old = getattr(sys.modules["tandem_gdb"], "unregister", None)
    if _old is not None:
        _old()
    for _name in [n for n in sys.modules if n == "tandem_gdb" or n.startswith("tandem_gdb.")]:
        del sys.modules[_name]

importlib.import_module("tandem_gdb").register()
