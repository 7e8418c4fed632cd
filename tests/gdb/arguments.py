"""Arguments: every mistake is one line naming the command, never a Python
exception; extra words are refused; thread ids and names, pids and
process names complete on Tab; a thread that has ended says when it did;
without the kernel's symbols the functions and commands say so."""

import os
import re

import gdb

from gdbtest import (ELF, USER_BIN, Fail, T, expect, expect_eq, go, kernel_processes, kernel_threads,
                     kstring, nm_symbol, P, run, test, val)

# (command, what its one-line error must contain)
MISTAKES = [
    ("tandem block 1 2", "tandem block: unexpected `2` after `1`"),
    ("tandem block kmain extra words", "tandem block: unexpected `extra words` after `kmain`"),
    ("tandem arena 99999", "tandem arena: no thread with tid 99999"),
    ("tandem block no_such_thread", "tandem block: `no_such_thread` is neither a tid, a thread name"),
    ("tandem block g_kfast", "tandem block: `g_kfast` is a struct kfast_cpu, not a struct thread"),
    ("tandem block \"unterminated", "tandem block:"),
    ("tandem block (char *) 0", "tandem block: 00000000 is not a thread on g_all_threads"),
    ("tandem block 1.5", "tandem block: `1.5` is a double"),
    ("tandem bt 1 2", "tandem bt: unexpected `2` after `1`"),
    ("tandem threads now", "tandem threads: takes no argument; `now` is too much"),
    ("tandem check all", "tandem check: takes no argument"),
    ("tandem sched please", "tandem sched: takes no argument"),
    ("tandem caps 1 2", "tandem caps: unexpected `2` after `1`"),
    ("tandem caps g_kfast", "tandem caps: `g_kfast` is a struct kfast_cpu, not a struct process"),
    ("tandem log 0", "tandem log: LINES is a positive number, not `0`"),
    ("tandem log ten", "tandem log: LINES is a positive number, not `ten`"),
    ("tandem log 1 2", "tandem log: unexpected `2`"),
    ("tandem catch spill now", "tandem catch spill: unexpected `now`"),
    ("tandem catch panic --continue --continue", "tandem catch panic: --continue once is enough"),
    ("tandem catch nothing", "tandem catch: unknown event `nothing`"),
    ("tandem watch", "tandem watch: watch what?"),
    ("tandem watch stack", "tandem watch: unknown watch `stack`"),
    ("tandem watch canary 1 2", "tandem watch canary: unexpected `2` after `1`"),
    ("tandem nonsense", "tandem: unknown subcommand `nonsense`"),
]


def one_line_error(cmd):
    try:
        out = gdb.execute(cmd, to_string=True)
    except gdb.error as e:
        text = str(e)
        for bad in ("Traceback", "Python Exception", "Error occurred in Python"):
            expect(bad not in text, "`%s` raised a Python error: %s" % (cmd, text))
        expect("\n" not in text.strip(), "`%s`: more than one line: %r" % (cmd, text))
        return text
    raise Fail("`%s` did not fail; it printed:\n%s" % (cmd, out))


@test
def errors_are_one_line_and_extra_words_refused():
    for cmd, want in MISTAKES:
        text = one_line_error(cmd)
        expect(text.startswith(want), "`%s` said %r, expected %r..." % (cmd, text, want))
    # Quotes are GDB's: a quoted name is the name.
    out = run('tandem block "kmain"')
    expect(out.startswith("Block of thread 1 (kmain)"), '`tandem block "kmain"`:\n' + out)


def completions(cmd, prefix):
    """What `cmd prefix<Tab>` offers.  (GDB drops a command line's trailing
    blank before `complete` sees it, so every word is asked by its first
    letter.)"""
    out = gdb.execute("complete %s %s" % (cmd, prefix), to_string=True)
    return sorted(l[len(cmd) + 1:] for l in out.splitlines() if l.startswith(cmd + " "))


def by_first_letter(cmd, words, what):
    for letter in sorted(set(w[0] for w in words)):
        want = sorted(w for w in words if w.startswith(letter))
        expect_eq(completions(cmd, letter), want, "`%s %s<Tab>` (%s)" % (cmd, letter, what))


@test
def ids_and_names_complete():
    threads = kernel_threads()
    words = set([str(T(t, "tid")) for t in threads] +
                [kstring("((struct thread *)%d)->name" % t) for t in threads])
    expect(any(w.startswith("demo") for w in words), "no demo threads to complete")
    for cmd in ("tandem block", "tandem arena", "tandem bt", "tandem watch canary"):
        by_first_letter(cmd, words, "tids and thread names")
    expect_eq(completions("tandem block", "1 d"), [], "a second word offers nothing")
    procs = kernel_processes()
    words = set([str(P(p, "pid")) for p in procs] +
                [kstring("((struct process *)%d)->name" % p) for p in procs])
    by_first_letter("tandem caps", words, "pids and process names")


@test
def ended_thread_says_when_it_ended():
    # The first collider (the canary tests') has exited and been reaped by
    # now; note its exit from a breakpoint of the test's own on the next one.
    run("break *thread_exit if $_streq(g_current->name, \"kfast-collider\")")
    for _ in range(20):         # the suite's collision catchpoint may come first
        go()
        if nm_symbol(val("$pc")) == "thread_exit":
            break
    run("delete")
    expect(nm_symbol(val("$pc")) == "thread_exit", "no kfast-collider exited")
    tid, tick = val("g_current->tid"), val("s_ticks")
    code = val("*(int *)($esp + 4)")
    for _ in range(400):
        if tid not in [T(t, "tid") for t in kernel_threads()]:
            break
        run("tbreak *schedule")
        go()
    else:
        raise Fail("thread %d was never reaped" % tid)
    # A user program's symbols loaded and dropped meanwhile (as at every
    # stop in another process) must not wipe what the helpers noted.
    program = os.path.join(USER_BIN, "init")
    gdb.execute("add-symbol-file %s" % program, to_string=True)
    gdb.execute("remove-symbol-file %s" % program, to_string=True)
    text = one_line_error("tandem block %d" % tid)
    want = ("tandem block: no thread with tid %d now: thread %d (kfast-collider) exited at tick %d"
            % (tid, tid, tick))
    expect(text.startswith(want) and ("with code %d; the reaper has freed it" % code) in text,
           "an ended thread: %r, expected %r ... with code %d" % (text, want, code))
    text = one_line_error("tandem arena %d" % (val("s_next_tid") + 100))
    expect("ended" not in text and "exited" not in text, "a tid never given out: %r" % text)
    try:
        gdb.parse_and_eval("$tandem_thread(%d)" % tid)
        raise Fail("$tandem_thread(%d) of an ended thread gave a value" % tid)
    except gdb.error as e:
        expect("exited at tick %d" % tick in str(e), "$tandem_thread of an ended thread: %s" % e)


@test
def without_symbols_every_word_is_one_line():
    # The kernel's symbols dropped: functions and commands explain, once.
    gdb.execute("symbol-file", to_string=True)
    try:
        for cmd in ("tandem", "tandem threads", "tandem block 1", "tandem bt", "tandem log",
                    "tandem sched", "tandem caps", "tandem watch canary"):
            try:
                out = gdb.execute(cmd, to_string=True)
            except gdb.error as e:
                out = str(e)
            expect("Traceback" not in out and "Python Exception" not in out,
                   "`%s` without symbols:\n%s" % (cmd, out))
            expect(len(out.strip().splitlines()) == 1, "`%s` without symbols, not one line:\n%s"
                   % (cmd, out))
        for expr in ("$tandem_current()", "$tandem_thread(1)"):
            text = one_line_error("print %s" % expr)
            expect(re.search(r"tandem_(current|thread): ", text), "`print %s`: %r" % (expr, text))
    finally:
        gdb.execute("file %s" % ELF, to_string=True)
    expect(val("g_current") != 0, "the kernel's symbols are back")
