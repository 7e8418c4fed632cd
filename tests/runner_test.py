"""Tests for tests/runner.py: the KTAP/TAP parser, the counting rules, and
each job kind end to end with tiny shell commands standing in for QEMU.

    python3 -m unittest tests/runner_test.py -v
"""

import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import redirect_stdout
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402


def counts(text, kind="ktap-qemu", status=33, timed_out=False, name="kernel"):
    """Judges `text` as a job's stdout with the given exit status."""
    job = runner.Job(name, kind, 10, "true")
    finished = runner.Finished(status, timed_out, text.splitlines(), text.splitlines(), 0.0)
    report = runner.judge(job, finished)
    return report


def failures(report):
    out = [(l.name, l.reason) for _, ls in report.suites for l in ls if l.outcome == "fail"]
    return out + [(l.name, l.reason) for l in report.job_failures]


def pfs(report):
    return report.count("pass"), report.count("fail"), report.count("skip")


ALL_PASS = """\
KTAP version 1
1..2
  KTAP version 1
  # Subtest: format
  1..3
  ok 1 decimal
  ok 2 hex
  ok 3 string
ok 1 format
  KTAP version 1
  # Subtest: arena
  1..2
  ok 1 bump
  ok 2 mark_release
ok 2 arena
"""

FAILING_SUBTEST = """\
KTAP version 1
1..1
  KTAP version 1
  # Subtest: arena
  1..3
  ok 1 bump
  # kernel/mm/kfast.c:88: expected used == 16
  #   used = 24 (0x18)
  not ok 2 align # misaligned by 8
  # kernel/mm/kfast.c:95: expected p != NULL
  not ok 3 spill
not ok 1 arena
"""

NESTED = """\
KTAP version 1
1..2
  KTAP version 1
  # Subtest: mm
  1..2
    KTAP version 1
    # Subtest: heap
    1..2
    ok 1 alloc
    ok 2 free
  ok 1 heap
    KTAP version 1
    # Subtest: kfast
    1..3
    ok 1 bump
    not ok 2 spill # chain not freed
    ok 3 scope # SKIP needs strict mode
  not ok 2 kfast
not ok 1 mm
  KTAP version 1
  # Subtest: sched
  1..1
  ok 1 yield
ok 2 sched
"""

CRASH_MID_SUITE = """\
KTAP version 1
1..3
  KTAP version 1
  # Subtest: format
  1..1
  ok 1 decimal
ok 1 format
  KTAP version 1
  # Subtest: arena
  1..5
  ok 1 bump
  ok 2 align
"""

NOISE_AND_PANIC = """\
Tandem 0.1 booting (i686, KSTACK_SIZE 8192)
mm: 127 MiB free
KTAP version 1
1..2
  KTAP version 1
  # Subtest: traps
  1..3
  ok 1 divide_error
timer: tick 100
  ok 2 page_fault_user
Exception 14 (page fault) at eip=0xc0104a2f cr2=0x00000000 err=0x0002
panic: kernel page fault in thread 1 (traps)
  eax=00000000 ebx=c0200000 ecx=00000001 edx=000003f8
"""

CMOCKA_TAP = """\
1..3
ok 1 - plain
not ok 2 - widths
# "0042" != "  42"
# tests/host/format_test.c:61: error: Failure!
not ok 3 # SKIP float
# not ok - format
1..2
ok 1 - bump
ok 2 align
# ok - kfast
"""

CMOCKA_OLD_TAP = """\
\t1..2
\tok 1 - plain
\tnot ok 2 - widths
\t# 0x1 != 0x2
not ok - format
"""


class ParserTest(unittest.TestCase):
    def test_all_pass(self):
        r = counts(ALL_PASS)
        self.assertEqual(pfs(r), (5, 0, 0))
        self.assertEqual([(n, len(ls)) for n, ls in r.suites], [("format", 3), ("arena", 2)])
        self.assertEqual(r.job_failures, [])

    def test_failing_subtest_with_reason(self):
        r = counts(FAILING_SUBTEST, status=35)
        self.assertEqual(pfs(r), (1, 2, 0))
        self.assertEqual(failures(r), [("arena.align", "misaligned by 8"), ("arena.spill", "")])
        leaves = dict((l.name, l) for l in r.suites[0][1])
        # Diagnostics before a KTAP result belong to it, not to the one above.
        self.assertEqual(leaves["arena.align"].diag,
                         ["kernel/mm/kfast.c:88: expected used == 16", "  used = 24 (0x18)"])
        self.assertEqual(leaves["arena.spill"].diag, ["kernel/mm/kfast.c:95: expected p != NULL"])
        text = "\n".join(runner.format_report(r))
        self.assertIn("arena", text)
        self.assertIn("1/3 FAILED", text)
        self.assertIn("FAIL align: misaligned by 8", text)

    def test_nested_two_levels(self):
        r = counts(NESTED, status=35)
        self.assertEqual(pfs(r), (4, 1, 1))
        self.assertEqual(failures(r), [("mm.kfast.spill", "chain not freed")])
        self.assertEqual([n for n, _ in r.suites], ["mm", "sched"])
        skipped = [l for l in r.suites[0][1] if l.outcome == "skip"]
        self.assertEqual([(l.name, l.reason) for l in skipped], [("mm.kfast.scope", "needs strict mode")])

    def test_plan_larger_than_results(self):
        r = counts(CRASH_MID_SUITE, status=0)
        self.assertEqual(pfs(r), (3, 4, 0))
        self.assertEqual(failures(r), [
            ("arena #3", "missing: crashed"), ("arena #4", "missing: crashed"),
            ("arena #5", "missing: crashed"), ("kernel #3", "missing: crashed")])
        text = "\n".join(runner.format_report(r))
        self.assertIn("FAIL arena #3..#5 (missing: crashed)", text)
        self.assertIn("triple fault", text)
        self.assertTrue(r.tail)

    def test_timeout_names_missing_as_timeout(self):
        r = counts(CRASH_MID_SUITE, status=-15, timed_out=True)
        self.assertEqual(pfs(r), (3, 4, 0))
        self.assertTrue(all(reason == "missing: timeout" for _, reason in failures(r)))

    def test_no_output(self):
        # 33 and 35 are the kernel's pass and fail (include/qemu.h); 1 is
        # QEMU's own failure to start.
        for status in (0, 1, 33, 35):
            r = counts("", status=status)
            self.assertEqual(pfs(r), (0, 1, 0), status)
            self.assertEqual(failures(r)[0][0], "kernel")

    def test_qemu_statuses(self):
        # Only 33 passes: 1 is QEMU failing to start, even after output.
        self.assertEqual(runner.qemu_verdict(33).status, "pass")
        self.assertEqual(runner.qemu_verdict(35).status, "fail")
        for status in (0, 1, 3, 2, 127, 137):
            self.assertEqual(runner.qemu_verdict(status).status, "crash", status)
        r = counts(ALL_PASS, status=1)
        self.assertEqual(pfs(r), (5, 1, 0))

    def test_header_without_plan_is_one_failure(self):
        r = counts("Tandem booting\nKTAP version 1\npanic: no memory\n", status=0)
        self.assertEqual(pfs(r), (0, 1, 0))

    def test_console_noise_and_panic(self):
        r = counts(NOISE_AND_PANIC, status=0)
        self.assertEqual(pfs(r), (2, 2, 0))
        self.assertEqual(failures(r), [("traps #3", "missing: crashed"),
                                       ("kernel #2", "missing: crashed")])

    def test_cmocka_tap(self):
        r = counts(CMOCKA_TAP, kind="tap", status=1, name="host")
        self.assertEqual(pfs(r), (3, 1, 1))
        self.assertEqual([n for n, _ in r.suites], ["format", "kfast"])
        widths = [l for l in r.suites[0][1] if l.name == "widths"][0]
        self.assertEqual(widths.diag[0], '"0042" != "  42"')
        self.assertEqual([l.name for l in r.suites[0][1] if l.outcome == "skip"], ["float"])

    def test_cmocka_old_tab_indented_tap(self):
        r = counts(CMOCKA_OLD_TAP, kind="tap", status=1, name="host")
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(failures(r), [("format.widths", "")])

    def test_result_without_dash_and_plain_tap(self):
        r = counts("TAP version 13\n1..2\nok 1 one\nok 2 - two\n", kind="tap", status=0)
        self.assertEqual(pfs(r), (2, 0, 0))
        self.assertEqual([l.name for l in r.suites[0][1]], ["one", "two"])

    def test_suite_failed_without_failing_test(self):
        text = "KTAP version 1\n1..1\n  # Subtest: s\n  1..1\n  ok 1 t\nnot ok 1 s # teardown leaked\n"
        r = counts(text, status=35)
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(failures(r), [("s", "teardown leaked")])

    def test_subtest_without_result_line(self):
        # The suite printed all its results, then the kernel died before
        # the parent's "ok 2 arena": the leaves count, the crash fails.
        text = ALL_PASS.replace("ok 2 arena\n", "")
        r = counts(text, status=0)
        self.assertEqual(pfs(r), (5, 1, 0))
        self.assertEqual(failures(r)[0][0], "kernel")

    def test_exit_status_contradicts_output(self):
        r = counts(ALL_PASS, status=35)
        self.assertEqual(pfs(r), (5, 1, 0))
        self.assertIn("no test did", failures(r)[0][1])
        r = counts(FAILING_SUBTEST, status=33)
        self.assertEqual(pfs(r), (1, 2, 0))
        self.assertTrue(r.notes)

    def test_skipped_plan(self):
        r = counts("KTAP version 1\n1..0 # SKIP no sysenter\n", status=33)
        self.assertEqual(pfs(r), (0, 1, 0))   # nothing ran at all: not a pass

    def test_bail_out(self):
        r = counts("KTAP version 1\n1..3\nok 1 a\nBail out! heap corrupt\n", status=35)
        self.assertEqual(pfs(r), (1, 2, 0))
        self.assertIn("bail out: heap corrupt", failures(r)[0][1])

    def test_escape_sequences_and_crlf(self):
        r = counts("\x1b[0mKTAP version 1\r\n1..1\r\n\x1b[2Jok 1 a\r\n", status=33)
        self.assertEqual(pfs(r), (1, 0, 0))

    def test_job_spec(self):
        job = runner.parse_job("kernel:ktap-qemu:60:qemu-system-i386 -append test=a:b")
        self.assertEqual((job.name, job.kind, job.timeout), ("kernel", "ktap-qemu", 60.0))
        self.assertEqual(job.command, "qemu-system-i386 -append test=a:b")
        for bad in ("kernel:ktap-qemu:60", "kernel:nope:60:true", "kernel:tap:0:true",
                    "ker nel:tap:1:true", "kernel:tap:x:true"):
            with self.assertRaises(Exception, msg=bad):
                runner.parse_job(bad)


class JobTest(unittest.TestCase):
    """Runs real (tiny) commands through run() and judge()."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runner_test.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def job(self, kind, command, timeout=10, name="job"):
        job = runner.Job(name, kind, timeout, command)
        log = os.path.join(self.dir, name + ".log")
        return runner.judge(job, runner.run(job, log), log), log

    def test_fake_qemu_pass(self):
        r, log = self.job("ktap-qemu", """sh -c 'printf "boot\\nKTAP version 1\\n1..1\\nok 1 a\\n"; exit 33'""")
        self.assertEqual(pfs(r), (1, 0, 0))
        self.assertEqual(r.verdict.status, "pass")
        with open(log) as f:
            self.assertEqual(f.read(), "boot\nKTAP version 1\n1..1\nok 1 a\n")

    def test_fake_qemu_reported_failure(self):
        r, _ = self.job("ktap-qemu", """printf 'KTAP version 1\\n1..2\\nok 1 a\\nnot ok 2 b # 2 != 3\\n'; exit 35""")
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(failures(r), [("b", "2 != 3")])

    def test_fake_qemu_triple_fault(self):
        r, _ = self.job("ktap-qemu", """printf 'KTAP version 1\\n1..2\\nok 1 a\\n'; exit 0""")
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(r.verdict.status, "crash")
        self.assertIn("ok 1 a", r.tail)

    def test_timeout_kills_process_group(self):
        start = time.monotonic()
        r, _ = self.job("ktap-qemu", "printf 'KTAP version 1\\n1..3\\nok 1 a\\n'; sleep 10; sleep 10",
                        timeout=1)
        self.assertLess(time.monotonic() - start, 6)
        self.assertEqual(pfs(r), (1, 2, 0))
        self.assertIn("timeout after 1 s", r.verdict.text)
        self.assertEqual(failures(r)[0], ("job #2", "missing: timeout"))

    def test_sleep_timeout_without_output(self):
        r, _ = self.job("ktap-qemu", "sleep 10", timeout=1)
        self.assertEqual(pfs(r), (0, 1, 0))
        self.assertEqual(failures(r), [("job", "no test results")])
        self.assertIn("timeout", r.verdict.text)

    def test_tap_nonzero_without_failures(self):
        r, _ = self.job("tap", "printf '1..1\\nok 1 - a\\n'; exit 2", name="leaky")
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(failures(r)[0][0], "leaky")

    def test_tap_sets_cmocka_output(self):
        # `make test` runs this file as a tap job, which has the variable
        # set already: take it away, so the runner must set it itself.
        env = {k: v for k, v in os.environ.items() if k != "CMOCKA_MESSAGE_OUTPUT"}
        with mock.patch.dict(os.environ, env, clear=True):
            r, _ = self.job("tap", 'printf "1..1\\nok 1 - %s\\n" "$CMOCKA_MESSAGE_OUTPUT"')
        self.assertEqual([l.name for l in r.suites[0][1]], ["TAP"])
        # ... and keeps the caller's value when there is one.
        with mock.patch.dict(os.environ, {"CMOCKA_MESSAGE_OUTPUT": "XML"}):
            r, _ = self.job("tap", 'printf "1..1\\nok 1 - %s\\n" "$CMOCKA_MESSAGE_OUTPUT"')
        self.assertEqual([l.name for l in r.suites[0][1]], ["XML"])

    def test_tap_killed_by_signal(self):
        r, _ = self.job("tap", "printf '1..2\\nok 1 - a\\n'; kill -SEGV $$")
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertIn("SIGSEGV", r.verdict.text)

    def test_fake_bochs_pass(self):
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..1\\nok 1 a\\n"
                                      "# tandem-exit 0x10 (pass)\\n'; exit 1")
        self.assertEqual((r.verdict.status, pfs(r)), ("pass", (1, 0, 0)), r.verdict.text)

    def test_fake_bochs_reported_failure(self):
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..2\\nok 1 a\\nnot ok 2 b\\n"
                                      "# tandem-exit 0x11 (fail)\\n'; exit 1")
        self.assertEqual((r.verdict.status, pfs(r)), ("fail", (1, 1, 0)))
        self.assertEqual(failures(r), [("b", "")])

    def test_fake_bochs_failure_only_the_kernel_saw(self):
        # Every result ok, but the kernel says failed (init's own status).
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..1\\nok 1 a\\n"
                                      "# tandem-exit 0x11 (fail)\\n'; exit 1", name="bx")
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(failures(r), [("bx", "the ending says failed, no test did")])

    def test_fake_bochs_ends_without_the_exit_line(self):
        # A triple fault or a Bochs panic: status 1 like the shutdown port,
        # but no tandem-exit line, so even a complete plan does not pass.
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..1\\nok 1 a\\n'; exit 1", name="bx")
        self.assertEqual(r.verdict.status, "crash")
        self.assertIn("before the kernel's tandem-exit line", r.verdict.text)
        self.assertEqual(pfs(r), (1, 1, 0))
        self.assertEqual(failures(r), [("bx", "crashed after its last result")])
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..3\\nok 1 a\\n'; exit 1")
        self.assertEqual(pfs(r), (1, 2, 0))
        self.assertEqual(failures(r)[0], ("job #2", "missing: crashed"))

    def test_fake_bochs_pass_line_but_wrong_status(self):
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..1\\nok 1 a\\n"
                                      "# tandem-exit 0x10 (pass)\\n'; exit 0")
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (1, 1, 0)))
        self.assertIn("status 0, not 1", r.verdict.text)

    def test_fake_bochs_unknown_exit_code(self):
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..1\\nok 1 a\\n"
                                      "# tandem-exit 0x42 (?)\\n'; exit 1")
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (1, 1, 0)))
        self.assertIn("0x42", r.verdict.text)

    def test_fake_bochs_killed_midway(self):
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..2\\nok 1 a\\n'; kill -KILL $$")
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (1, 1, 0)))
        self.assertIn("SIGKILL", r.verdict.text)

    def test_fake_bochs_timeout_after_the_pass_line(self):
        # The line came but Bochs never stopped: a timeout, not a pass.
        r, _ = self.job("ktap-bochs", "printf 'KTAP version 1\\n1..1\\nok 1 a\\n"
                                      "# tandem-exit 0x10 (pass)\\n'; sleep 10", timeout=1)
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (1, 1, 0)))
        self.assertIn("timeout", r.verdict.text)

    def test_fake_bochs_missing_command(self):
        r, _ = self.job("ktap-bochs", "exit 127")
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (0, 1, 0)))
        self.assertIn("command not found", r.verdict.text)

    def test_main_final_line_and_status(self):
        fake_pass = """kernel:ktap-qemu:10:printf 'KTAP version 1\\n1..1\\n  # Subtest: s\\n  1..2\\n  ok 1 a\\n  ok 2 b # SKIP no fpu\\nok 1 s\\n'; exit 33"""
        out = io.StringIO()
        with redirect_stdout(out):
            rc = runner.main(["--log-dir", self.dir, "--job", fake_pass])
        lines = out.getvalue().splitlines()
        self.assertEqual(rc, 0)
        self.assertEqual(lines[-1], "1 passed, 0 failed")
        self.assertEqual(lines[-2], "1 skipped")
        self.assertTrue(lines[0].startswith("kernel [ktap-qemu] $ printf"))
        out = io.StringIO()
        with redirect_stdout(out):
            rc = runner.main(["--log-dir", self.dir, "--job", fake_pass, "--job", "host:tap:5:exit 1"])
        self.assertEqual(rc, 1)
        self.assertEqual(out.getvalue().splitlines()[-1], "1 passed, 1 failed")


def multiboot_image(path, value, text, shutdown=False):
    """Writes a Multiboot (a.out kludge) kernel that prints `text` on COM1
    and writes `value` to port 0xf4, or triple-faults if value is None.
    With `shutdown`, it first writes "Shutdown" to Bochs' port 0x8900."""
    base = 0x100000
    magic, flags = 0x1BADB002, 0x00010000
    header = struct.pack("<8I", magic, flags, (-(magic + flags)) & 0xFFFFFFFF,
                         base, base, 0, 0, base + 32)
    # puts: each byte of [esi] to port dx once bit 5 (THR empty) of port
    # dx + 5 is set: the UART's line status (unmapped ports read 0xff).
    puts = (b"\xAC\x84\xC0\x74\x14"                   # lodsb; test al, al; jz done
            b"\x88\xC4\x66\x83\xC2\x05"               # mov ah, al; add dx, 5
            b"\xEC\xA8\x20\x74\xFB"                   # wait: in al, dx; test al, 0x20; jz wait
            b"\x66\x83\xEA\x05\x88\xE0\xEE\xEB\xE7")   # sub dx, 5; mov al, ah; out; jmp
    code_len = 5 + 4 + len(puts) + 5 + 4 + len(puts) + 10
    msg = base + 32 + code_len
    word = msg + len(text) + 1 if shutdown else msg + len(text)   # "Shutdown" or ""
    code = b"\xBE" + struct.pack("<I", msg)           # mov esi, msg
    code += b"\x66\xBA\xF8\x03" + puts                # mov dx, 0x3f8; puts
    code += b"\xBE" + struct.pack("<I", word)         # mov esi, word
    code += b"\x66\xBA\x00\x89" + puts                # mov dx, 0x8900; puts
    if value is None:
        code += b"\x0F\x01\x1D" + struct.pack("<I", word + 9)  # lidt [zeros]
        code += b"\xCC\xEB\xFE"                       # int3 -> triple fault
    else:
        code += b"\x66\xBA\xF4\x00\xB0" + bytes([value]) + b"\xEE\xF4\xEB\xFD"
    assert len(code) == code_len
    with open(path, "wb") as f:
        f.write(header + code + text.encode() + b"\0" + b"Shutdown\0" + b"\0" * 8)


@unittest.skipUnless(shutil.which("qemu-system-i386"), "qemu-system-i386 not installed")
class QemuExitTest(unittest.TestCase):
    """Checks the isa-debug-exit conventions against the real QEMU."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runner_qemu.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def qemu(self, value, text):
        image = os.path.join(self.dir, "k.bin")
        multiboot_image(image, value, text)
        cmd = (f"qemu-system-i386 -kernel {image} -serial stdio -display none -no-reboot "
               "-device isa-debug-exit,iobase=0xf4,iosize=0x04")
        job = runner.Job("q", "ktap-qemu", 30, cmd)
        return runner.judge(job, runner.run(job, os.path.join(self.dir, "q.log")))

    def test_pass(self):
        r = self.qemu(0x10, "KTAP version 1\n1..1\nok 1 boot\n")
        self.assertEqual((r.verdict.status, pfs(r)), ("pass", (1, 0, 0)), r.tail)

    def test_fail(self):
        r = self.qemu(0x11, "KTAP version 1\n1..1\nnot ok 1 boot # no\n")
        self.assertEqual((r.verdict.status, pfs(r)), ("fail", (0, 1, 0)), r.tail)

    def test_triple_fault(self):
        r = self.qemu(None, "KTAP version 1\n1..2\nok 1 boot\n")
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (1, 1, 0)), r.tail)
        self.assertIn("status 0", r.verdict.text)


TESTS = os.path.dirname(os.path.abspath(__file__))


@unittest.skipUnless(shutil.which("bochs-bin") and shutil.which("grub-mkrescue"),
                     "Bochs or grub-mkrescue not installed")
class BochsExitTest(unittest.TestCase):
    """Checks how tests/bochs/run.sh and the ktap-bochs kind end, against
    the real Bochs: a tiny kernel booted through GRUB from an ISO."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="runner_bochs.")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def bochs(self, value, text, shutdown=True, sep="sep=1"):
        tree = os.path.join(self.dir, "iso")
        os.makedirs(os.path.join(tree, "boot", "grub"))
        multiboot_image(os.path.join(tree, "boot", "k.bin"), value, text, shutdown)
        with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
            f.write("set timeout=0\nserial --unit=0 --speed=115200\nterminal_output serial\n"
                    "menuentry k { multiboot /boot/k.bin }\n")
        iso = os.path.join(self.dir, "k.iso")
        subprocess.run(["grub-mkrescue", "-o", iso, tree], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cmd = f"{TESTS}/bochs/run.sh {iso} {self.dir}/bochsout.txt {sep}"
        job = runner.Job("b", "ktap-bochs", 120, cmd)
        return runner.judge(job, runner.run(job, os.path.join(self.dir, "b.log")))

    def test_pass(self):
        r = self.bochs(0x10, "KTAP version 1\n1..1\nok 1 boot\n# tandem-exit 0x10 (pass)\n")
        self.assertEqual((r.verdict.status, pfs(r)), ("pass", (1, 0, 0)), r.tail)

    def test_fail_without_sep(self):
        r = self.bochs(0x11, "KTAP version 1\n1..1\nnot ok 1 boot\n# tandem-exit 0x11 (fail)\n",
                       sep="sep=0")
        self.assertEqual((r.verdict.status, pfs(r)), ("fail", (0, 1, 0)), r.tail)

    def test_triple_fault_ends_bochs(self):
        r = self.bochs(None, "KTAP version 1\n1..2\nok 1 boot\n", shutdown=False)
        self.assertEqual((r.verdict.status, pfs(r)), ("crash", (1, 1, 0)), r.tail)
        self.assertIn("before the kernel's tandem-exit line", r.verdict.text)
        self.assertLess(r.seconds, 60)


if __name__ == "__main__":
    unittest.main()
