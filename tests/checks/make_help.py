#!/usr/bin/env python3
"""`make help` names every target and every setting: each name in a .PHONY
list and each `NAME ?=` variable of the Makefile and mk/*.mk must appear in
its output.  Prints TAP for tests/runner.py.

    python3 tests/checks/make_help.py
"""

import glob
import re
import subprocess
import sys

# Targets that are machinery, not for people to type.
INTERNAL = {"FORCE"}


def names():
    targets, settings = set(), set()
    for path in ["Makefile"] + sorted(glob.glob("mk/*.mk")):
        with open(path) as f:
            for line in f:
                m = re.match(r"\.PHONY:\s*(.*)", line)
                if m:
                    targets.update(m.group(1).split())
                m = re.match(r"([A-Z][A-Z0-9_]*)\s*\?=", line)
                if m:
                    settings.add(m.group(1))
    return sorted(targets - INTERNAL), sorted(settings)


def main():
    out = subprocess.run(["make", "--no-print-directory", "-s", "help"], capture_output=True,
                         text=True).stdout
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_-]*", out))
    targets, settings = names()
    checks = [("target", t) for t in targets] + [("setting", s) for s in settings]
    print("TAP version 13")
    print(f"1..{len(checks)}")
    failed = 0
    for i, (kind, name) in enumerate(checks, 1):
        ok = name in words
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} {kind} {name}" +
              ("" if ok else " # missing from `make help`"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
