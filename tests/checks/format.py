#!/usr/bin/env python3
"""Every tracked C source and header is laid out as clang-format lays it out
with the repository's style (.clang-format; bench/.clang-format for
bench/).  Prints TAP for tests/runner.py: one `ok` per file that clang-format
would leave as it is, one `not ok` per file it would change, with the first
changed lines as diagnostics.  `--fix` formats those files in place instead
(`make format`).

    python3 tests/checks/format.py [--fix] [--clang-format PROGRAM] [FILE...]

With no FILE, the files are `git ls-files '*.c' '*.h'` less EXCLUDE below.
A region of a file that must keep its hand layout sits between the lines
`// clang-format off` and `// clang-format on`.  The style is written for
Debian 12's clang-format (version 14); another version may lay some lines
out differently, so the check names the version it ran.
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import subprocess
import sys

# Files the check and `make format` leave alone, each with the reason.
# A file belongs here only when no `// clang-format off` region can save
# it (a generated file, a file copied in from elsewhere and kept verbatim).
EXCLUDE = {
    # "path/to/file.c": "why clang-format must not touch it",
}

WANT_MAJOR = 14     # Debian 12's clang-format
DIAG_LINES = 12     # changed lines shown for a file that is not formatted


def tracked_sources(root):
    out = subprocess.run(["git", "ls-files", "--cached", "--", "*.c", "*.h"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return sorted(f for f in out.split() if os.path.isfile(os.path.join(root, f)))


def version(program):
    out = subprocess.run([program, "--version"], capture_output=True, text=True,
                         check=True).stdout.strip()
    m = re.search(r"version (\d+)\.", out)
    return out, int(m.group(1)) if m else None


def formatted(program, path):
    """clang-format's layout of path (style from the .clang-format nearest
    to it), or raises CalledProcessError."""
    return subprocess.run([program, "--style=file", path], capture_output=True, text=True,
                          check=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fix", action="store_true", help="format the files in place")
    ap.add_argument("--clang-format", default=os.environ.get("CLANG_FORMAT", "clang-format"),
                    help="the clang-format program (default: $CLANG_FORMAT or clang-format)")
    ap.add_argument("--root", default=".", help="the repository (default: .)")
    ap.add_argument("files", nargs="*", help="these files instead of every tracked one")
    args = ap.parse_args()
    os.chdir(args.root)

    try:
        banner, major = version(args.clang_format)
    except (OSError, subprocess.CalledProcessError) as e:
        print("TAP version 13\n1..1")
        print(f"not ok 1 - {args.clang_format} runs # {e}")
        print("# install it with: apt-get install clang-format (make format does)")
        return 1

    files = args.files or [f for f in tracked_sources(".") if f not in EXCLUDE]

    if args.fix:
        for i in range(0, len(files), 50):
            subprocess.run([args.clang_format, "--style=file", "-i"] + files[i:i + 50],
                           check=True)
        print(f"formatted {len(files)} files with {banner}")
        return 0

    print("TAP version 13")
    print(f"1..{len(files)}")
    print(f"# {banner}")
    if major != WANT_MAJOR:
        print(f"# .clang-format is written for clang-format {WANT_MAJOR}: "
              "another version may disagree on some lines")
    for path, why in sorted(EXCLUDE.items()):
        print(f"# not checked: {path}: {why}")
    def both(path):
        try:
            with open(path, encoding="utf-8", newline="") as f:
                return f.read(), formatted(args.clang_format, path), None
        except (OSError, UnicodeDecodeError, subprocess.CalledProcessError) as e:
            return None, None, (getattr(e, "stderr", "") or str(e)).strip()

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        results = pool.map(both, files)
    bad = 0
    for n, (path, (have, want, error)) in enumerate(zip(files, results), 1):
        if error is not None:
            bad += 1
            print(f"not ok {n} - {path} # clang-format failed: {error}")
            continue
        if have == want:
            print(f"ok {n} - {path}")
            continue
        bad += 1
        diff = list(difflib.unified_diff(have.splitlines(), want.splitlines(),
                                         f"{path} (as it is)", f"{path} (formatted)", n=0,
                                         lineterm=""))
        changed = sum(1 for l in diff if l[:1] in "+-" and l[:3] not in ("+++", "---"))
        print(f"not ok {n} - {path} # {changed} lines would change: make format")
        for line in diff[2:2 + DIAG_LINES]:
            print(f"#   {line}")
        if len(diff) > 2 + DIAG_LINES:
            print("#   ...")
    print(f"# {len(files)} files, {bad} not formatted")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
