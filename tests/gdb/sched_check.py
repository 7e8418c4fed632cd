"""`tandem sched` against the scheduler's lists walked with GDB
expressions, and its checks against lists broken from GDB (and mended):
a node whose prev does not point back, a runnable thread on no list (a
lost wake-up), a blocked thread on the run queue."""

import re

import gdb

from gdbtest import (T, expect, expect_eq, kernel_threads, kstring, list_addresses, run, test,
                     val)


def who(t):
    return "%d %s" % (T(t, "tid"), kstring("((struct thread *)%d)->name" % t))


def listed(out, title):
    m = re.search(r"^%s: (.*)$" % re.escape(title), out, re.M)
    expect(m, "no %r line in:\n%s" % (title, out))
    return m.group(1)


@test
def sched_lists_match_kernel():
    out = run("tandem sched")
    expect(re.search(r"^tandem sched: OK: %d threads, \d+ lists checked, no violations$"
                     % len(kernel_threads()), out, re.M), "not OK:\n" + out)
    runq = list_addresses("s_runq", "struct thread", "run_link")
    expect_eq(listed(out, "Run queue (s_runq)"), ", ".join(who(t) for t in runq) or "empty",
              "the run queue")
    zombies = list_addresses("s_zombies", "struct thread", "run_link")
    expect_eq(listed(out, "Zombies (s_zombies)"), ", ".join(who(t) for t in zombies) or "none",
              "the zombies")
    running = listed(out, "Running").split(";")[0]
    expect_eq(running, who(val("g_current")), "the running thread")
    expect_eq(listed(out, "Idle thread"), who(val("g_percpu[0].idle")), "the idle thread")
    # Every blocked thread on a wait queue is listed on that queue's line.
    for t in kernel_threads():
        if T(t, "state") != 1:
            continue
        node = val("&((struct thread *)%d)->run_link" % t)
        if val("((struct list_node *)%d)->next" % node) == node:
            continue
        expect("%s (" % who(t) in out or who(t) in out, "blocked %s not on any list:\n%s"
               % (who(t), out))
    for t in kernel_threads():
        phase = str(gdb.parse_and_eval("((struct thread *)%d)->ipc.phase" % t))
        if phase in ("IPC_SENDING", "IPC_RECEIVING"):
            ep = val("(unsigned)((struct thread *)%d)->ipc.ep" % t)
            line = "IPC: %s %s on endpoint %08x" % (who(t), phase[4:].lower(), ep)
            expect(line in out, "no %r in:\n%s" % (line, out))


def queue_first(node):
    """Links node at the front of s_runq by hand; returns what to put back."""
    head = val("&s_runq")
    first = val("s_runq.next")
    saved = [(n, f, val("((struct list_node *)%d)->%s" % (n, f)))
             for n, f in ((head, "next"), (first, "prev"), (node, "prev"), (node, "next"))]
    for n, f, v in ((node, "next", first), (node, "prev", head), (first, "prev", node),
                    (head, "next", node)):
        gdb.execute("set var ((struct list_node *)%d)->%s = %d" % (n, f, v), to_string=True)
    return saved


def put_back(saved):
    for n, f, v in reversed(saved):
        gdb.execute("set var ((struct list_node *)%d)->%s = %d" % (n, f, v), to_string=True)


@test
def sched_finds_a_broken_link():
    # The idle thread put on the run queue by hand (so that the list has a
    # node at any stop), its prev pointed at itself.
    node = val("&((struct thread *)%d)->run_link" % val("g_percpu[0].idle"))
    saved = queue_first(node)
    try:
        prev = val("((struct list_node *)%d)->prev" % node)
        gdb.execute("set var ((struct list_node *)%d)->prev = %d" % (node, node), to_string=True)
        out = run("tandem sched")
    finally:
        put_back(saved)
    want = "node %08x's prev is %08x, but %08x points to it" % (node, node, prev)
    expect(want in out and re.search(r"^tandem sched: \d+ VIOLATIONS? ", out, re.M),
           "a broken prev not reported (%r):\n%s" % (want, out))
    expect("tandem sched: OK" in run("tandem sched"), "not OK after the repair")


@test
def sched_finds_a_lost_wakeup():
    # A blocked thread made runnable without being queued: nobody will run it.
    t = next((x for x in kernel_threads() if T(x, "state") == 1), None)
    expect(t, "no blocked thread at this stop")
    gdb.execute("set var ((struct thread *)%d)->state = THREAD_RUNNABLE" % t, to_string=True)
    try:
        out = run("tandem sched")
    finally:
        gdb.execute("set var ((struct thread *)%d)->state = THREAD_BLOCKED" % t, to_string=True)
    want = "thread %s is runnable but neither running, queued nor the idle thread" % who(t)
    expect(want in out and "VIOLATION" in out, "a lost wake-up not reported:\n" + out)
    expect("tandem sched: OK" in run("tandem sched"), "not OK after the repair")


@test
def sched_finds_a_blocked_thread_queued():
    # The idle thread, marked blocked and put at the front of the run queue
    # by hand: queued in the wrong state, and the idle thread queued (it
    # never is).  It exists at any stop after sched_init.
    idle = val("g_percpu[0].idle")
    runq = list_addresses("s_runq", "struct thread", "run_link")
    state = str(gdb.parse_and_eval("((struct thread *)%d)->state" % idle))
    saved = queue_first(val("&((struct thread *)%d)->run_link" % idle))
    gdb.execute("set var ((struct thread *)%d)->state = THREAD_BLOCKED" % idle, to_string=True)
    try:
        out = run("tandem sched")
    finally:
        gdb.execute("set var ((struct thread *)%d)->state = %s" % (idle, state), to_string=True)
        put_back(saved)
    for want in ("run queue (s_runq): thread %s is blocked, not runnable" % who(idle),
                 "run queue (s_runq): the idle thread is queued"):
        expect(want in out, "no %r in:\n%s" % (want, out))
    line = ", ".join(who(x) for x in [idle] + runq)
    expect(re.search(r"^Run queue \(s_runq\): %s$" % re.escape(line), out, re.M),
           "the run queue is not shown as %r:\n%s" % (line, out))
    expect_eq(list_addresses("s_runq", "struct thread", "run_link"), runq, "the run queue put back")
    expect("tandem sched: OK" in run("tandem sched"), "not OK after the repair")
