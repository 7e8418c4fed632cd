#!/usr/bin/env python3
"""Runs Python unittest modules and prints TAP for tests/runner.py: one
result per test method, a failure's traceback as diagnostics, skips as
SKIP.  Exits 0 when nothing failed.

    python3 tests/checks/unittest_tap.py tests/runner_test.py [...]
"""

import importlib.util
import os
import sys
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.lines = []

    def _emit(self, ok, test, directive="", diag=""):
        name = test.id().replace("#", "")
        self.lines.append(("ok" if ok else "not ok", name, directive, diag))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._emit(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._emit(False, test, diag=self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._emit(False, test, diag=self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._emit(True, test, directive=f" # SKIP {reason}")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._emit(True, test, directive=" # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._emit(False, test, diag="unexpected success")


def load(path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return unittest.defaultTestLoader.loadTestsFromModule(module)


def main(paths):
    sys.dont_write_bytecode = True
    suite = unittest.TestSuite(load(p) for p in paths)
    result = TapResult()
    print("TAP version 13")
    print(f"1..{suite.countTestCases()}", flush=True)
    suite.run(result)
    for n, (status, name, directive, diag) in enumerate(result.lines, 1):
        for d in diag.rstrip("\n").split("\n") if diag else []:
            print(f"# {d}")
        print(f"{status} {n} - {name}{directive}")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
