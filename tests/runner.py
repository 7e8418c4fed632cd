#!/usr/bin/env python3
"""Tandem's host test runner.

Runs every test job it is given, reads the KTAP (or TAP) each one prints,
and reports per suite, ending with the line `N passed, N failed`.

    python3 tests/runner.py [--log-dir DIR] [-v] --job NAME:KIND:TIMEOUT:COMMAND ...

KIND says how the job's ending is read (see KINDS):
  ktap-qemu  COMMAND runs QEMU with the serial port on stdout and an
             isa-debug-exit device at 0xf4. The kernel writes 0x10 there
             when every test passed, 0x11 when one failed (include/qemu.h); QEMU then exits
             with (value << 1) | 1, so 33 means passed and 35 failed (not 1
             and 3: QEMU exits with 1 when it cannot start). Any other
             ending (status 0 after a triple fault under -no-reboot, a
             timeout, a signal) is a crash.
  ktap-bochs COMMAND runs Bochs (tests/bochs/run.sh) with the serial port on
             stdout. Bochs has no isa-debug-exit, so the kernel, still
             running after its write to 0xf4, prints `# tandem-exit 0x10
             (pass)` (0x11: failed) and writes "Shutdown" to port 0x8900,
             which ends Bochs with status 1. That line is the kernel's
             verdict, and Bochs must then have ended with status 1; an
             ending without it (a triple fault or another Bochs panic, a
             timeout, a signal) is a crash.
  tap        COMMAND is a host program printing TAP or KTAP on stdout
             (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, which the runner sets
             unless the environment already does). Status 0 is a pass.

Only leaf tests are counted. A plan that promised more results than
arrived counts each missing one as failed, so a hang or a crash never
passes silently; a job that printed no results at all counts as one
failure, and so does an ending (an exit status, a tandem-exit line) that
contradicts what was printed.

The runner exits 0 when nothing failed, 1 otherwise, 2 on a usage error.
"""

import argparse
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

# Lines of a log shown when a job crashes.
TAIL_LINES = 20
# Diagnostic lines shown under one failing test.
DIAG_LINES = 4
# Seconds between SIGTERM and SIGKILL when a job's time is up.
KILL_GRACE = 2.0

# ---------------------------------------------------------------------------
# KTAP / TAP parsing

HEADER_RE = re.compile(r"K?TAP version (\d+)$")
PLAN_RE = re.compile(r"1\.\.(\d+)\s*(?:#\s*(.*))?$")
RESULT_RE = re.compile(r"(not ok|ok)(?:\s+(\d+))?(\s+-)?(?:\s+(.*))?$")
SUBTEST_RE = re.compile(r"#\s*Subtest:\s*(.*)$")
BAIL_RE = re.compile(r"Bail out!\s*(.*)$")
# cmocka closes each group with "# ok - NAME" / "# not ok - NAME".
GROUP_END_RE = re.compile(r"(?:not ok|ok) - (.+)$")
DIRECTIVE_RE = re.compile(r"(SKIP|TODO)\b\s*(.*)$", re.IGNORECASE)
# Serial output through GRUB or a terminal may carry escape sequences.
ANSI_RE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_])")


def clean_line(raw):
    """A console line without escape sequences or trailing blanks."""
    return ANSI_RE.sub("", raw).rstrip()


@dataclass
class Result:
    """One `ok`/`not ok` line, or a stand-in for one that never came."""
    ok: bool
    number: int
    name: str
    skip: str | None = None         # SKIP/TODO text; None if not skipped
    reason: str = ""                # text after '#' that is no directive
    diag: list = field(default_factory=list)
    subtests: "Document | None" = None
    synthesized: bool = False       # subtests arrived, their result line did not
    diag_after: bool = False        # diag came after the line (cmocka style)


@dataclass
class Document:
    """One (K)TAP document: a header, a plan and results at one indent."""
    indent: int
    name: str = ""
    plan: int | None = None
    plan_skip: str | None = None
    results: list = field(default_factory=list)
    pending_child: "Document | None" = None   # closed, awaiting our result line
    pending_diag: list = field(default_factory=list)

    def has_content(self):
        return self.plan is not None or bool(self.results)


class Parser:
    """Builds a tree of Documents from console lines, one line at a time.

    Indentation decides nesting: a (K)TAP line deeper than the current
    document opens a subtest document, a shallower one closes it, and the
    parent's next result line owns it. Lines that are not (K)TAP (boot
    banners, panics, exception reports) are ignored wherever they appear.
    """

    def __init__(self):
        self.root = Document(indent=-1)
        self.stack = [self.root]
        self.subtest_name = ""      # "# Subtest:" seen at the parent's indent
        self.bail = None

    def feed(self, raw):
        line = clean_line(raw)
        body = line.lstrip()
        if not body:
            return
        indent = len(line[: len(line) - len(body)].expandtabs(8))

        if body.startswith("#"):
            m = SUBTEST_RE.match(body)
            if m:
                self._subtest(indent, m.group(1).strip())
            else:
                # Keep the diagnostic's own alignment ("#   a = 1").
                text = body[1:]
                self._diag(indent, (text[1:] if text.startswith(" ") else text).rstrip())
            return
        m = HEADER_RE.match(body)
        if m:
            doc = self._doc_at(indent)
            if doc.has_content():
                self._restart(doc)
            return
        m = PLAN_RE.match(body)
        if m:
            doc = self._doc_at(indent)
            if doc.has_content():
                doc = self._restart(doc)
            doc.plan = int(m.group(1))
            d = DIRECTIVE_RE.match(m.group(2) or "")
            if d and d.group(1).upper() == "SKIP":
                doc.plan_skip = d.group(2)
            return
        m = RESULT_RE.match(body)
        if m and (m.group(2) or m.group(3)):
            self._result(indent, m)
            return
        m = BAIL_RE.match(body)
        if m:
            self.bail = m.group(1) or "no reason given"
            return
        # Anything else is console noise: kept in the log, not parsed.

    def finish(self):
        """Closes every open document; returns the root, whose results are
        stand-ins holding the top-level documents."""
        while len(self.stack) > 1:
            doc = self.stack.pop()
            self._close(doc)
            adopt(self.stack[-1], doc)
        return self.root

    def _doc_at(self, indent):
        """Returns the document a (K)TAP line at `indent` belongs to,
        closing deeper documents and opening a new one as needed."""
        popped = None
        while self.stack[-1].indent > indent:
            doc = self.stack.pop()
            self._close(doc)
            if popped is not None:
                adopt(doc, popped)  # its own result line never came
            popped = doc
        top = self.stack[-1]
        if top.indent < indent:
            if top.pending_child is not None:
                adopt(top, top.pending_child)
                top.pending_child = None
            top = Document(indent=indent, name=self.subtest_name)
            self.subtest_name = ""
            self.stack.append(top)
        if popped is not None:
            if top.pending_child is not None:
                adopt(top, top.pending_child)
            top.pending_child = popped
        return top

    def _close(self, doc):
        if doc.pending_child is not None:
            adopt(doc, doc.pending_child)
            doc.pending_child = None

    def _restart(self, doc):
        """A new header or plan where a document already has content
        starts a sibling document (cmocka prints one plan per group)."""
        self.stack.pop()
        self._close(doc)
        adopt(self.stack[-1], doc)
        new = Document(indent=doc.indent, name=self.subtest_name)
        self.subtest_name = ""
        self.stack.append(new)
        return new

    def _subtest(self, indent, name):
        top = self.stack[-1]
        if indent > top.indent or not top.has_content():
            doc = self._doc_at(indent)
            if not doc.has_content():
                doc.name = name
                return
        # At the parent's indent: names the next subtest document.
        self.subtest_name = name

    def _diag(self, indent, text):
        doc = self._innermost(indent)
        if doc is self.root:
            return
        m = GROUP_END_RE.match(text.strip())
        if m and doc.plan is not None and not doc.name and doc.pending_child is None:
            doc.name = m.group(1).strip()
            return
        last = doc.results[-1] if doc.results else None
        # KTAP puts a failure's diagnostics before its result line, cmocka
        # after it: lines follow a failure only if none came before it.
        if (last is not None and not last.ok and last.skip is None
                and not last.reason and doc.pending_child is None
                and (not last.diag or last.diag_after)):
            last.diag.append(text)
            last.diag_after = True
        else:
            doc.pending_diag.append(text)

    def _innermost(self, indent):
        for doc in reversed(self.stack):
            if doc.indent <= indent:
                return doc
        return self.root

    def _result(self, indent, m):
        doc = self._doc_at(indent)
        number = int(m.group(2)) if m.group(2) else len(doc.results) + 1
        text = m.group(4) or ""
        name, _, comment = text.partition("#")
        name, comment = name.strip(), comment.strip()
        skip = None
        d = DIRECTIVE_RE.match(comment)
        if d:
            skip = d.group(2)
            if not name:            # cmocka: "not ok 3 # SKIP test_name"
                name, skip = skip, ""
            if d.group(1).upper() == "TODO":
                skip = ("TODO " + skip).strip()
            comment = ""
        res = Result(ok=m.group(1) == "ok", number=number, name=name, skip=skip,
                     reason=comment, diag=doc.pending_diag)
        doc.pending_diag = []
        if doc.pending_child is not None:
            res.subtests = doc.pending_child
            doc.pending_child = None
        doc.results.append(res)


def adopt(parent, child):
    """Gives `child` to `parent` under a stand-in result line."""
    res = Result(ok=False, number=len(parent.results) + 1, name=child.name,
                 subtests=child, synthesized=True)
    parent.results.append(res)


def parse(lines):
    parser = Parser()
    for line in lines:
        parser.feed(line)
    return parser.finish(), parser.bail


# ---------------------------------------------------------------------------
# Counting

@dataclass
class Leaf:
    name: str
    outcome: str                    # "pass", "fail" or "skip"
    reason: str = ""
    diag: list = field(default_factory=list)
    missing: int | None = None      # the plan number, for a missing result


def missing_leaves(doc, label, cause):
    """One failing leaf, `label #K`, per result the plan promised and the
    document lacks."""
    if doc.plan is None or doc.plan_skip is not None:
        return []
    seen = {r.number for r in doc.results}
    return [Leaf(f"{label} #{k}", "fail", f"missing: {cause}", missing=k)
            for k in range(1, doc.plan + 1) if k not in seen]


def doc_leaves(doc, prefix, label, cause):
    out = []
    for res in doc.results:
        out += result_leaves(res, prefix, cause)
    return out + missing_leaves(doc, label, cause)


def result_name(res):
    sub = res.subtests
    return (sub.name if sub is not None and sub.name else res.name) or f"#{res.number}"


def result_leaves(res, prefix, cause):
    """Leaves under one result line: its subtests' if it has any, else itself."""
    path = prefix + result_name(res)
    sub = res.subtests
    if sub is not None and sub.has_content():
        out = doc_leaves(sub, path + ".", path, cause)
        if (not res.ok and res.skip is None and not res.synthesized
                and not any(l.outcome == "fail" for l in out)):
            out.append(Leaf(path, "fail", res.reason or "suite failed, no test in it did",
                            res.diag))
        return out
    if res.synthesized:
        return [Leaf(path, "fail", f"missing: {cause}")]
    if res.skip is not None:
        return [Leaf(path, "skip", res.skip)]
    return [Leaf(path, "pass" if res.ok else "fail", res.reason, res.diag)]


def suites_of(root, job_name, cause):
    """Groups leaves into (suite name, leaves) for display: each result with
    subtests is a suite; flat results form a suite named after their
    document, or after the job."""
    suites = []
    for top in root.results:
        doc = top.subtests
        label = doc.name or job_name
        if any(r.subtests is not None for r in doc.results):
            flat = []
            for res in doc.results:
                if res.subtests is not None:
                    suites.append((result_name(res), result_leaves(res, "", cause)))
                else:
                    flat += result_leaves(res, "", cause)
            flat += missing_leaves(doc, label, cause)
            if flat:
                suites.append((label, flat))
        else:
            suites.append((label, doc_leaves(doc, "", label, cause)))
    merged = []
    for name, leaves in suites:
        if merged and merged[-1][0] == name:
            merged[-1][1].extend(leaves)
        else:
            merged.append((name, list(leaves)))
    return merged


# ---------------------------------------------------------------------------
# Job kinds: each reads how its kind of program ends (its exit status; for
# Bochs, the kernel's last line too).

@dataclass
class Verdict:
    status: str                     # "pass", "fail" or "crash"
    text: str


def signal_hint(status):
    if status > 128:
        try:
            return f" (a shell reporting {signal.Signals(status - 128).name}?)"
        except ValueError:
            pass
    return ""


def qemu_verdict(status):
    """QEMU's isa-debug-exit: the kernel writes v, QEMU exits (v << 1) | 1."""
    # Pass and fail are 0x10 and 0x11 (include/qemu.h), not 0 and 1: QEMU
    # itself exits with 1 when it cannot start, which must not read as a pass.
    if status == 33:
        return Verdict("pass", "kernel reported pass (isa-debug-exit 0x10, QEMU status 33)")
    if status == 35:
        return Verdict("fail", "kernel reported failure (isa-debug-exit 0x11, QEMU status 35)")
    if status == 0:
        return Verdict("crash", "QEMU status 0 without isa-debug-exit "
                                "(triple fault under -no-reboot, or shutdown)")
    if status in (126, 127):
        return Verdict("crash", f"shell status {status}: command not found or not executable")
    if status & 1:
        return Verdict("crash", f"kernel wrote {status >> 1:#x} to isa-debug-exit "
                                f"(expected 0x10 or 0x11; QEMU status {status})" + signal_hint(status))
    return Verdict("crash", f"QEMU failed with status {status}" + signal_hint(status))


# The line the kernel prints when isa-debug-exit did not end the machine.
TANDEM_EXIT_RE = re.compile(r"# tandem-exit (0x[0-9a-fA-F]+)\b")
# Bochs' status after a panic, the shutdown port's included.
BOCHS_SHUTDOWN_STATUS = 1


def bochs_verdict(status, stdout):
    """Bochs: the kernel's `# tandem-exit CODE` line, then Bochs' exit
    through its shutdown port (status 1)."""
    codes = [m.group(1) for m in map(TANDEM_EXIT_RE.match, map(clean_line, stdout)) if m]
    if status in (126, 127):
        return Verdict("crash", f"shell status {status}: command not found or not executable")
    if not codes:
        return Verdict("crash", f"Bochs ended with status {status} before the kernel's "
                                "tandem-exit line (a triple fault or a Bochs panic: see "
                                "its log)" + signal_hint(status))
    code = int(codes[-1], 16)
    if status != BOCHS_SHUTDOWN_STATUS:
        return Verdict("crash", f"kernel printed tandem-exit {code:#x}, then Bochs ended with "
                                f"status {status}, not {BOCHS_SHUTDOWN_STATUS} (its shutdown "
                                "port)" + signal_hint(status))
    if code == 0x10:
        return Verdict("pass", "kernel reported pass (tandem-exit 0x10, then Bochs' shutdown port)")
    if code == 0x11:
        return Verdict("fail", "kernel reported failure (tandem-exit 0x11, then Bochs' shutdown port)")
    return Verdict("crash", f"kernel printed tandem-exit {code:#x} (expected 0x10 or 0x11)")


def host_verdict(status):
    """An ordinary program: 0 passes, anything else failed."""
    if status == 0:
        return Verdict("pass", "exit status 0")
    if status > 125:
        return Verdict("crash", f"exit status {status}" + signal_hint(status))
    return Verdict("fail", f"exit status {status}")


@dataclass
class Kind:
    verdict: object                 # function: exit status -> Verdict
    env: dict = field(default_factory=dict)   # defaults the environment lacks
    reads_output: bool = False      # verdict(status, stdout lines) instead

    def judge(self, status, stdout):
        return self.verdict(status, stdout) if self.reads_output else self.verdict(status)


KINDS = {
    "ktap-qemu": Kind(qemu_verdict),
    "ktap-bochs": Kind(bochs_verdict, reads_output=True),
    "tap": Kind(host_verdict, {"CMOCKA_MESSAGE_OUTPUT": "TAP"}),
}


# ---------------------------------------------------------------------------
# Running

@dataclass
class Job:
    name: str
    kind: str
    timeout: float
    command: str


def parse_job(spec):
    """NAME:KIND:TIMEOUT:COMMAND; COMMAND may itself contain colons."""
    parts = spec.split(":", 3)
    if len(parts) != 4 or not parts[3].strip():
        raise argparse.ArgumentTypeError(f"want NAME:KIND:TIMEOUT:COMMAND, got {spec!r}")
    name, kind, timeout, command = parts
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        raise argparse.ArgumentTypeError(f"job name {name!r}: use letters, digits, _ . + -")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"job {name}: unknown kind {kind!r} "
                                         f"(known: {', '.join(KINDS)})")
    try:
        seconds = float(timeout)
    except ValueError:
        seconds = -1
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"job {name}: timeout {timeout!r} is not a positive number")
    return Job(name, kind, seconds, command)


@dataclass
class Finished:
    status: int | None              # exit status; negative: killed by that signal
    timed_out: bool
    stdout: list                    # lines the parser reads
    output: list                    # stdout and stderr lines, in arrival order
    seconds: float


def kill_group(proc):
    """SIGTERM to the job's process group, then SIGKILL to what is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    try:
        proc.wait(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def added_env(job):
    """The variables a job's kind sets because the environment lacks them."""
    return {k: v for k, v in KINDS[job.kind].env.items() if k not in os.environ}


def run(job, log_path, echo=False):
    """Runs one job in its own process group, saving its output to log_path;
    after job.timeout seconds the whole group is killed."""
    env = dict(os.environ, **added_env(job))
    stdout, output = [], []
    lock = threading.Lock()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:

        def pump(stream, is_stdout):
            for raw in iter(stream.readline, b""):
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                with lock:
                    if not log.closed:
                        log.write(text + "\n")
                        log.flush()
                    output.append(text)
                    if is_stdout:
                        stdout.append(text)
                    if echo:
                        print(f"{job.name}| {text}", flush=True)
            stream.close()

        start = time.monotonic()
        proc = subprocess.Popen(job.command, shell=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
        pumps = [threading.Thread(target=pump, args=(proc.stdout, True), daemon=True),
                 threading.Thread(target=pump, args=(proc.stderr, False), daemon=True)]
        for t in pumps:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=job.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except KeyboardInterrupt:
            kill_group(proc)
            raise
        finally:
            # Also ends whatever the command left behind holding the pipes.
            kill_group(proc)
        status = proc.wait()
        seconds = time.monotonic() - start
        for t in pumps:
            t.join(timeout=5)
        with lock:
            log.flush()
    return Finished(status, timed_out, stdout, output, seconds)


# ---------------------------------------------------------------------------
# Judging and reporting

@dataclass
class Report:
    job: Job
    verdict: Verdict
    suites: list                    # [(name, [Leaf])]
    job_failures: list              # [Leaf] not owned by any test
    notes: list
    tail: list                      # log lines to show, empty if none
    seconds: float = 0.0
    log_path: str = ""

    def count(self, outcome):
        n = sum(1 for _, leaves in self.suites for l in leaves if l.outcome == outcome)
        return n + (len(self.job_failures) if outcome == "fail" else 0)


def judge(job, finished, log_path=""):
    """Combines what the job printed with how it ended."""
    if finished.timed_out:
        verdict = Verdict("crash", f"timeout after {job.timeout:g} s; process group killed")
        cause = "timeout"
    elif finished.status is not None and finished.status < 0:
        try:
            signame = signal.Signals(-finished.status).name
        except ValueError:
            signame = f"signal {-finished.status}"
        verdict = Verdict("crash", f"killed by {signame}")
        cause = "crashed"
    else:
        verdict = KINDS[job.kind].judge(finished.status, finished.stdout)
        cause = "crashed" if verdict.status == "crash" else "not reported"

    root, bail = parse(finished.stdout)
    if bail is not None:
        cause = f"bail out: {bail}"
    suites = suites_of(root, job.name, cause)
    leaves = [l for _, ls in suites for l in ls]
    failed = any(l.outcome == "fail" for l in leaves)
    job_failures, notes = [], []
    # Each job-level failure's reason is short: the verdict line follows it.
    if not leaves:
        job_failures.append(Leaf(job.name, "fail", "no test results"))
    elif verdict.status == "fail" and not failed:
        job_failures.append(Leaf(job.name, "fail", "the ending says failed, no test did"))
    elif verdict.status == "crash" and not failed:
        job_failures.append(Leaf(job.name, "fail", f"{cause} after its last result"))
    elif verdict.status == "pass" and failed:
        notes.append("tests failed but the ending says pass")
    shown = verdict.status == "crash" or bool(job_failures)
    tail = finished.output[-TAIL_LINES:] if shown else []
    return Report(job, verdict, suites, job_failures, notes, tail, finished.seconds, log_path)


def dotted(name, width=34):
    return f"{name} {'.' * max(3, width - len(name) - 1)}"


def leaf_label(suite, leaf):
    return leaf.name[len(suite) + 1:] if leaf.name.startswith(suite + ".") else leaf.name


def format_failures(suite, leaves):
    """One line per failing or skipped test; runs of missing results that
    share a reason collapse into one line."""
    lines, i = [], 0
    while i < len(leaves):
        leaf = leaves[i]
        if leaf.outcome == "skip":
            reason = f": {leaf.reason}" if leaf.reason else ""
            lines.append(f"    skip {leaf_label(suite, leaf)}{reason}")
        elif leaf.outcome == "fail" and leaf.missing is not None:
            j = i
            while (j + 1 < len(leaves) and leaves[j + 1].missing == leaves[j].missing + 1
                   and leaves[j + 1].reason == leaf.reason):
                j += 1
            label = leaf_label(suite, leaf)
            if j > i:
                label += f"..#{leaves[j].missing}"
            lines.append(f"    FAIL {label} ({leaf.reason})")
            i = j
        elif leaf.outcome == "fail":
            reason = f": {leaf.reason}" if leaf.reason else ""
            lines.append(f"    FAIL {leaf_label(suite, leaf)}{reason}")
            diag = leaf.diag[:DIAG_LINES]
            lines += [f"      | {d}" for d in diag]
            if len(leaf.diag) > DIAG_LINES:
                lines.append(f"      | ... {len(leaf.diag) - DIAG_LINES} more lines in the log")
        i += 1
    return lines


def format_report(report):
    lines = []
    for name, leaves in report.suites:
        passed = sum(l.outcome == "pass" for l in leaves)
        failed = sum(l.outcome == "fail" for l in leaves)
        skipped = sum(l.outcome == "skip" for l in leaves)
        state = "FAILED" if failed else "ok"
        extra = f", {skipped} skipped" if skipped else ""
        lines.append(f"  {dotted(name)} {passed}/{passed + failed} {state}{extra}")
        lines += format_failures(name, leaves)
    for leaf in report.job_failures:
        lines.append(f"  FAIL {leaf.name}: {leaf.reason}")
    lines += [f"  note: {n}" for n in report.notes]
    if report.tail:
        lines.append(f"  --- last {len(report.tail)} lines of {report.log_path or 'output'} ---")
        lines += [f"  | {t}" for t in report.tail]
    where = f"; log {report.log_path}" if report.log_path else ""
    lines.append(f"  {report.job.name}: {report.verdict.text} in {report.seconds:.1f} s{where}")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="runner.py", description="Run Tandem's test jobs and report KTAP results.",
        epilog=f"Kinds: {', '.join(KINDS)}. The last line of output is 'N passed, N failed'.")
    ap.add_argument("--log-dir", default="build/test", help="where NAME.log goes (default %(default)s)")
    ap.add_argument("--job", action="append", type=parse_job, default=[],
                    metavar="NAME:KIND:TIMEOUT:COMMAND", help="a test job; repeat for more")
    ap.add_argument("-j", "--parallel", type=int, default=1, metavar="N",
                    help="run up to N jobs at once (default %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="stream each job's output as it runs")
    args = ap.parse_args(argv)
    if not args.job:
        ap.error("no --job given")
    names = [j.name for j in args.job]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        ap.error(f"job names must be unique (their logs are NAME.log): {', '.join(sorted(dup))}")
    os.makedirs(args.log_dir, exist_ok=True)

    passed = failed = skipped = 0
    # Jobs run up to --parallel at a time; each one's command line and report
    # are printed in the order given, as soon as it and those before it are done.
    def one(job):
        log_path = os.path.join(args.log_dir, job.name + ".log")
        return judge(job, run(job, log_path, args.verbose and args.parallel == 1), log_path)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = [pool.submit(one, job) for job in args.job]
        for job, future in zip(args.job, futures):
            env = " ".join(f"{k}={v}" for k, v in added_env(job).items())
            print(f"{job.name} [{job.kind}] $ {job.command}" + (f"  # env: {env}" if env else ""),
                  flush=True)
            report = future.result()
            for line in format_report(report):
                print(line)
            sys.stdout.flush()
            passed += report.count("pass")
            failed += report.count("fail")
            skipped += report.count("skip")
    if skipped:
        print(f"{skipped} skipped")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
