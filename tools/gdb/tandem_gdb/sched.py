"""`tandem sched`: the scheduler's lists walked and checked (as Linux's
lx-list-check checks a list's links), and every thread accounted for.

The lists (kernel/thread/sched.c, kernel/thread/thread.c):
  s_runq      runnable threads waiting for a CPU (run_link); a running
              thread is not on it, nor is any CPU's idle thread, ever
  s_sleepers  threads in thread_sleep (run_link), woken at wake_tick
  s_timed     threads in a wait with a time limit (timer_link; their
              run_link is on the wait queue they wait on)
  s_zombies   dead threads the reaper has not freed yet (run_link)
  wait queues a struct waitq's waiters (run_link): s_reaped, a process's
              exit_wait, a thread record's wait
and the endpoints' senders and receivers (ipc.link).

Each list is walked from its head with both links checked (node->next->prev
must be node), a bound on its length, and the states of the threads on it.
Then each thread must be where its state says: a runnable thread running
(on the boot CPU, whose registers GDB reads, or as another CPU's current),
queued or an idle thread (else a wake-up was lost); a blocked one waiting
for something; a dead one a zombie.
"""

import gdb

from . import args
from . import kernel as k

MAX_NODES = k.MAX_THREADS


class Findings:
    def __init__(self):
        self.violations = []
        self.notes = []

    def bad(self, text):
        self.violations.append(text)


def walk(head, what, f):
    """Node addresses of the circular list at head, checking both links;
    stops (and says so) at the first broken link."""
    nodes = []
    prev, node = head, k.u32(head + 4)
    seen = set()
    while node != head:
        if node == 0:
            f.bad("%s: a NULL next pointer after %08x" % (what, prev))
            break
        if node in seen or len(nodes) >= MAX_NODES:
            f.bad("%s: the list does not come back to its head %08x (loops at %08x)" % (
                what, head, node))
            break
        try:
            back = k.u32(node)
        except gdb.MemoryError:
            f.bad("%s: node %08x cannot be read" % (what, node))
            break
        if back != prev:
            f.bad("%s: node %08x's prev is %08x, but %08x points to it" % (what, node, back, prev))
        seen.add(node)
        nodes.append(node)
        prev, node = node, k.u32(node + 4)
    if k.u32(head) != prev:
        f.bad("%s: the head's prev is %08x, but the last node is %08x" % (what, k.u32(head), prev))
    return nodes


def symbol_address(name):
    try:
        return k.symbol_address(name)
    except k.NotReady:
        return None


def who(t):
    return "%d %s" % (t.tid, t.name)


class Sched:
    """The lists, with the threads on them."""

    def __init__(self, view, f):
        self.view, self.f = view, f
        tt = k.thread_type()
        self.run_off = k.offset_of(tt, "run_link")
        self.timer_off = k.offset_of(tt, "timer_link")
        self.ipc_off = k.offset_of(tt, "ipc") + k.offset_of(k.lookup_type("struct ipc_state"), "link")
        self.by_addr = {t.addr: t for t in view.threads}
        # Each CPU's idle thread and, for the APs, the thread it runs
        # (include/percpu.h); the boot CPU's is the view's.
        percpu = k.symbol_value("g_percpu")
        cpus = max(1, int(k.symbol_value("g_smp")["count"]))
        self.idles = [int(percpu[i]["idle"]) for i in range(cpus)]
        self.idle = self.idles[0]
        self.elsewhere = {int(percpu[i]["current"]): i for i in range(1, cpus)
                          if int(percpu[i]["current"])}
        self.ticks = ticks_now()
        self.lists = []             # (title, [threads])
        self.on_run_link = {}       # thread addr -> list title
        self.run_links = {t.addr + self.run_off: t for t in view.threads}

    def running(self, t):
        """Whether t runs on a CPU: the boot CPU's view, or another CPU's current."""
        return self.view.running(t) or t.addr in self.elsewhere

    def threads_of(self, head, what, off):
        out = []
        for node in walk(head, what, self.f):
            t = self.by_addr.get(node - off)
            if t is None:
                self.f.bad("%s: node %08x is no thread's link on g_all_threads" % (what, node))
                continue
            out.append(t)
        return out

    def named_list(self, symbol, what, off, state, record=True):
        head = symbol_address(symbol)
        if head is None:
            return None
        threads = self.threads_of(head, what, off)
        for t in threads:
            if state is not None and t.state != state:
                self.f.bad("%s: thread %s is %s, not %s" % (what, who(t), t.state, state))
            if record:
                self.note_run_link(t, what)
        self.lists.append((what, threads))
        return threads

    def note_run_link(self, t, what):
        if t.addr in self.on_run_link:
            self.f.bad("thread %s is on %s and on %s (one run_link)" % (
                who(t), self.on_run_link[t.addr], what))
        self.on_run_link[t.addr] = what

    def run_queue(self):
        threads = self.named_list("s_runq", "run queue (s_runq)", self.run_off, "runnable")
        for t in threads or []:
            if t.addr in self.idles:
                self.f.bad("run queue (s_runq): the idle thread is queued (it never is)")
            if self.running(t) and not self.view.mid_switch:
                self.f.bad("run queue (s_runq): thread %s is running and queued" % who(t))
        return threads

    def wait_queues(self):
        """Blocked threads whose run_link is on a list that is none of the
        scheduler's: a wait queue, found from the thread and named by its
        head."""
        queues = {}
        for t in self.view.threads:
            if t.state != "blocked" or t.addr in self.on_run_link:
                continue
            link = t.addr + self.run_off
            try:
                nxt = k.u32(link + 4)
            except gdb.MemoryError:
                continue
            if nxt == link:
                continue            # not on any list (run_link points to itself)
            # Go round to the node that is no thread's run_link: the head.
            node, steps = nxt, 0
            while node in self.run_links and steps < MAX_NODES:
                node = k.u32(node + 4)
                steps += 1
            queues.setdefault(node, None)
        for head in queues:
            what = "wait queue %s" % queue_name(head)
            threads = self.threads_of(head, what, self.run_off)
            for t in threads:
                if t.state != "blocked":
                    self.f.bad("%s: thread %s is %s, not blocked" % (what, who(t), t.state))
                self.note_run_link(t, what)
            self.lists.append((what, threads))

    def endpoints(self):
        """Threads queued on endpoints, by the endpoint (ipc.link)."""
        out = []
        for t in self.view.threads:
            ep = int(t.value["ipc"]["ep"])
            phase = str(t.value["ipc"]["phase"]).replace("IPC_", "").lower()
            if phase in ("sending", "receiving"):
                link = t.addr + self.ipc_off
                if k.u32(link + 4) == link:
                    self.f.bad("thread %s is %s on endpoint %08x but not queued there" % (
                        who(t), phase, ep))
                if t.state != "blocked" and not self.running(t):
                    self.f.bad("thread %s is %s on endpoint %08x but %s" % (who(t), phase, ep,
                                                                           t.state))
                out.append((t, phase, ep))
            elif phase == "awaiting_reply":
                out.append((t, "awaiting a reply", ep))
        return out


def ticks_now():
    try:
        return int(k.symbol_value("s_ticks")) & 0xFFFFFFFF
    except (k.NotReady, gdb.error):
        return None


def queue_name(head):
    """A wait queue's name: its variable, or the object it is in."""
    try:
        out = gdb.execute("info symbol 0x%x" % head, to_string=True).strip()
        if not out.startswith("No symbol"):
            return out.split(" in section")[0].replace(" + ", "+")
    except gdb.error:
        pass
    try:
        from . import caps
        ptype = k.lookup_type("struct process")
        off = k.offset_of(ptype, "exit_wait")
        for p in caps.all_processes():
            if p.addr + off == head:
                return "exit_wait of process %s" % p.text()
    except (k.NotReady, k.Damaged, gdb.error):
        pass
    try:
        rtype = k.lookup_type("struct thread_record")
        rec = head - k.offset_of(rtype, "wait")
        v = gdb.Value(rec).cast(rtype.pointer()).dereference()
        if int(v["obj"]["type"]) == 3:          # CAP_TYPE_THREAD
            return "wait of thread record %d (%s)" % (int(v["tid"]), v["name"].string(
                length=16).split("\0", 1)[0])
    except (k.NotReady, gdb.error, gdb.MemoryError):
        pass
    return "at %08x" % head


def run(arg, write=gdb.write):
    args.no_words(arg, "tandem sched")
    view = k.View()
    f = Findings()
    s = Sched(view, f)
    runq = s.run_queue() or []
    sleepers = s.named_list("s_sleepers", "sleepers (s_sleepers)", s.run_off, "blocked") or []
    zombies = s.named_list("s_zombies", "zombies (s_zombies)", s.run_off, "dead") or []
    timed = s.named_list("s_timed", "timed waits (s_timed)", s.timer_off, "blocked",
                         record=False) or []
    s.wait_queues()
    ipc = s.endpoints()

    running = view.on_cpu if view.on_cpu is not None else view.current
    write("Running: %s%s\n" % (
        ("%s%s" % (who(running), " (in the double-fault task's interrupted state)" if view.df_task
                   else "")) if running else "none",
        "; g_need_resched set" if int(k.symbol_value("g_need_resched")) else ""))
    idle = s.by_addr.get(s.idle)
    write("Idle thread: %s\n" % (who(idle) if idle else "none yet (before sched_init)"))
    for addr, cpu in sorted(s.elsewhere.items(), key=lambda x: x[1]):
        t, idle = s.by_addr.get(addr), s.by_addr.get(s.idles[cpu])
        write("CPU %d: runs %s; idle thread %s\n" % (
            cpu, who(t) if t else "%08x" % addr, who(idle) if idle else "none"))
    write("Run queue (s_runq): %s\n" % (", ".join(who(t) for t in runq) or "empty"))
    if sleepers:
        write("Sleepers (s_sleepers):\n")
        for t in sleepers:
            wake = int(t.value["wake_tick"]) & 0xFFFFFFFF
            left = ((wake - s.ticks + (1 << 31)) % (1 << 32)) - (1 << 31) if s.ticks is not None else None
            write("  %s wakes at tick %d%s\n" % (who(t), wake, "" if left is None else (
                " (in %d tick%s)" % (left, "" if left == 1 else "s") if left >= 0 else
                " (due %d tick%s ago)" % (-left, "" if left == -1 else "s"))))
    else:
        write("Sleepers (s_sleepers): none\n")
    if timed:
        write("Timed waits (s_timed): %s\n" % ", ".join(
            "%s until tick %d" % (who(t), int(t.value["wake_tick"]) & 0xFFFFFFFF) for t in timed))
    else:
        write("Timed waits (s_timed): none\n")
    waits = [(title, threads) for title, threads in s.lists if title.startswith("wait queue")]
    for title, threads in waits:
        write("%s%s: %s\n" % (title[0].upper(), title[1:], ", ".join(
            "%s (%s)" % (who(t), t.wait_reason or "?") for t in threads) or "empty"))
    for t, phase, ep in ipc:
        write("IPC: %s %s on endpoint %08x\n" % (who(t), phase, ep))
    write("Zombies (s_zombies): %s\n" % (", ".join(who(t) for t in zombies) or "none"))

    # Every thread where its state says.
    timed_addrs = {t.addr for t in timed}
    ipc_addrs = {t.addr for t, _, _ in ipc}
    for t in view.threads:
        place = s.on_run_link.get(t.addr)
        if t.state == "runnable":
            if s.running(t) or t.addr in s.idles or place == "run queue (s_runq)":
                continue
            if view.mid_switch and k.same(t, view.current):
                continue
            f.bad("thread %s is runnable but neither running, queued nor the idle thread "
                  "(a lost wake-up)%s" % (who(t), "; it is on %s" % place if place else ""))
        elif t.state == "blocked":
            if s.running(t):
                # About to block (thread_block before schedule) or just woken.
                f.notes.append("thread %s is blocked and still on the CPU (inside thread_block)"
                               % who(t))
            elif place is None and t.addr not in timed_addrs and t.addr not in ipc_addrs:
                f.notes.append("thread %s is blocked on no list (%s): only a direct wake-up "
                               "ends it" % (who(t), t.wait_reason or "no reason given"))
        elif t.state == "dead":
            if place != "zombies (s_zombies)" and not s.running(t):
                f.bad("thread %s is dead but not on s_zombies%s" % (
                    who(t), "; it is on %s" % place if place else ""))
    for text in f.violations:
        write("VIOLATION: %s\n" % text)
    for text in f.notes:
        write("note: %s\n" % text)
    what = "%d thread%s, %d list%s" % (len(view.threads), "" if len(view.threads) == 1 else "s",
                                       len(s.lists), "" if len(s.lists) == 1 else "s")
    if f.violations:
        write("tandem sched: %d VIOLATION%s in %s\n" % (
            len(f.violations), "" if len(f.violations) == 1 else "S", what))
    else:
        write("tandem sched: OK: %s checked, no violations\n" % what)
    return f
