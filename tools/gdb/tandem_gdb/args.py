"""The arguments of the tandem commands: words, a thread or a process named
by number, name or expression, completion on Tab, and the one-line errors
when an argument is wrong.

A TID is a thread id, a thread name or a GDB expression (a tid, a struct
thread pointer or a struct thread); a PID the same for processes.  Quotes
are GDB's (`tandem block "kmain"` is the thread kmain).  A number or a name
followed by more words is refused rather than half-read; an expression may
have spaces (`(struct thread *) 0xf0000250`).
"""

import gdb

from . import history
from . import kernel as k


def fail(command, text):
    return gdb.GdbError("%s: %s" % (command, text))


def split(arg, command):
    try:
        return gdb.string_to_argv(arg)
    except (gdb.error, ValueError) as e:
        raise fail(command, "cannot split the arguments: %s" % e)


def no_words(arg, command):
    """For commands that take nothing."""
    words = split(arg, command)
    if words:
        raise fail(command, "takes no argument; `%s` is too much (try `help %s`)" % (
            " ".join(words), command))


def flags(arg, command, allowed, usage):
    """The words of arg, each of which must be in allowed."""
    words = split(arg, command)
    for w in words:
        if w not in allowed:
            raise fail(command, "unexpected `%s` (usage: %s)" % (w, usage))
    return words


def _number(text):
    try:
        return int(text, 0)
    except ValueError:
        return None


def _evaluate(text, command, what):
    try:
        return gdb.parse_and_eval(text)
    except gdb.error as e:
        raise fail(command, "`%s` is neither %s nor an expression: %s" % (text, what, e))
    except RuntimeError as e:
        raise fail(command, "`%s`: %s" % (text, e))


def _as_number_or_address(v, command, text, type_name):
    """(address, None) for a pointer or an object of type_name, else
    (None, the integer value)."""
    t = v.type.strip_typedefs()
    try:
        if t.code == gdb.TYPE_CODE_PTR:
            return int(v), None
        if t.code == gdb.TYPE_CODE_STRUCT:
            if str(t) != type_name or v.address is None:
                raise fail(command, "`%s` is a %s, not a %s" % (text, t, type_name))
            return int(v.address), None
        if t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_BOOL,
                      gdb.TYPE_CODE_CHAR):
            return None, int(v)
    except gdb.error as e:
        raise fail(command, "`%s`: %s" % (text, e))
    raise fail(command, "`%s` is a %s: give a number, a name or a %s pointer" % (
        text, t, type_name))


def _one_spec(arg, command, usage):
    """The text that names one object: a single word (quotes removed), or
    the whole argument when it is an expression with spaces.  A number or a
    plain name followed by more words is an error."""
    words = split(arg, command)
    if not words:
        return None
    if len(words) == 1:
        return words[0]
    first = words[0]
    if _number(first) is not None or first.replace("_", "").replace("-", "").isalnum():
        raise fail(command, "unexpected `%s` after `%s` (usage: %s)" % (
            " ".join(words[1:]), first, usage))
    return arg.strip()


def _lookup(items, text, command, kind):
    """The one of items (threads or processes) text names: its number
    (kind.number: tid, pid), its name, or an expression for its address or
    object.  Returns (item, number): item None with the number it gave when
    no item has that number, for the caller to say why."""
    number = _number(text)
    if number is None:
        named = [x for x in items if x.name == text]
        if len(named) == 1:
            return named[0], None
        if len(named) > 1:
            raise fail(command, "%d %s are named %s: give a %s (%s)" % (
                len(named), kind.plural, text, kind.number,
                ", ".join(str(getattr(x, kind.number)) for x in named)))
        if kind.gone_named:
            ended = kind.gone_named(text)
            if ended and text.replace("_", "").replace("-", "").isalnum():
                raise fail(command, "no %s named %s now: %s" % (kind.noun, text, "; ".join(ended)))
        addr, number = _as_number_or_address(
            _evaluate(text, command, "a %s, a %s name" % (kind.number, kind.noun)),
            command, text, "struct " + kind.noun)
        if addr is not None:
            for x in items:
                if x.addr == addr:
                    return x, None
            raise fail(command, "%08x is not a %s on %s" % (addr, kind.noun, kind.list_name))
    for x in items:
        if getattr(x, kind.number) == number:
            return x, number
    return None, number


class _Kind:
    """What _lookup looks for: its noun, the field that numbers it, the
    kernel list it is on, and where ended ones are remembered by name."""

    def __init__(self, noun, plural, number, list_name, gone_named=None):
        self.noun, self.plural, self.number = noun, plural, number
        self.list_name, self.gone_named = list_name, gone_named


def thread_spec(view, arg, command, usage):
    """The thread arg names (a View's own object), or None when arg is empty."""
    text = _one_spec(arg, command, usage)
    if text is None:
        return None
    t, tid = _lookup(view.threads, text, command,
                     _Kind("thread", "threads", "tid", "g_all_threads", history.gone_named))
    if t is not None:
        return t
    gone = history.gone(tid)
    if gone:
        raise fail(command, "no thread with tid %d now: %s" % (tid, gone))
    raise fail(command, "no thread with tid %d (tandem threads lists them)" % tid)


def process_spec(processes, arg, command, usage):
    """The process arg names, or None when arg is empty."""
    text = _one_spec(arg, command, usage)
    if text is None:
        return None
    p, pid = _lookup(processes, text, command, _Kind("process", "processes", "pid", "s_processes"))
    if p is not None:
        return p
    raise fail(command, "no process with pid %d (`tandem caps` lists them all)" % pid)


# ---------------------------------------------------------------------------
# Completion: never an error, at worst nothing to offer.

def _candidates(pairs, word):
    out = []
    for number, name in pairs:
        for text in (str(number), name):
            if text.startswith(word) and text not in out:
                out.append(text)
    return sorted(out, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))


def complete_threads(text, word):
    if len(split_quiet(text)) > (0 if text.endswith(" ") or not text else 1):
        return []
    try:
        k.stage()
        return _candidates([(t.tid, t.name) for t in k.all_threads()], word or "")
    except Exception:       # completion must never fail: nothing to offer
        return []


def complete_processes(text, word):
    if len(split_quiet(text)) > (0 if text.endswith(" ") or not text else 1):
        return []
    try:
        from . import caps
        k.stage()
        return _candidates([(p.pid, p.name) for p in caps.all_processes()], word or "")
    except Exception:       # completion must never fail: nothing to offer
        return []


def split_quiet(text):
    try:
        return gdb.string_to_argv(text)
    except Exception:       # an unfinished quote while typing
        return text.split()
