"""`tandem bt [TID]`: a thread's backtrace across the rings (the walk is
tandem_gdb/frames.py's).

Without TID: the thread on the CPU, or - in the double-fault task - the
task's own frames, then those of the thread it interrupted.
"""

import gdb

from . import args
from . import frames
from . import kernel as k


def print_frames(frame_list, write, number=0):
    for f in frame_list:
        if f.kind in ("kernel", "user"):
            write("#%-3d %08x %s\n" % (number, f.pc, f.text))
            number += 1
        elif f.kind == "trap":
            write("     --- %s ---\n" % f.text)
        else:
            write("     %s\n" % f.text)
    return number


def describe_thread(view, t):
    state = "running" if view.running(t) else t.state
    if view.running(t):
        if view.df_task and k.same(t, view.current):
            state += ", interrupted by the double fault"
        else:
            state += " in user mode" if view.cpu.user_mode else " in the kernel"
    elif t.state == "blocked" and t.wait_reason:
        state += " (%s)" % t.wait_reason
    return "Thread %d (%s), %s: %s" % (t.tid, t.name, ("process " + t.process_text()) if t.user
                                       else "kernel thread", state)


def show(view, t, write=gdb.write, header=True):
    start, _ = frames.start_of_thread(view, t)
    if header:
        write("%s; from %s\n" % (describe_thread(view, t), start.how if start else "the CPU"))
    print_frames(frames.thread_frames(view, t), write)


def run(arg, write=gdb.write):
    view = k.View()
    t = args.thread_spec(view, arg, "tandem bt", "tandem bt [TID]")
    if t is not None:
        show(view, t, write)
        return
    if view.df_task:
        cur = view.current
        write("The double-fault task, on its own stack (s_df_stack):\n")
        n = print_frames(frames.df_task_frames(view), write)
        if cur is None:
            return
        r = k.interrupted_registers()
        write("     --- double fault: the task switch saved thread %d (%s) in the TSS: eip %08x, "
              "esp %08x ---\n" % (cur.tid, cur.name, r["eip"], r["esp"]))
        print_frames(frames.thread_frames(view, cur), write, n)
        return
    t = view.on_cpu or view.current
    if t is None:
        raise gdb.GdbError("tandem bt: no thread is on the CPU (esp %08x is in no block); give a TID"
                           % view.cpu.esp)
    show(view, t, write)
