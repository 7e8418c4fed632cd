#!/usr/bin/env python3
"""Every repository path and function that a comment or a document names
exists, and nothing refers outside the repository.  Prints TAP for
tests/runner.py: one `ok` per file that is clean, one `not ok` per dangling
reference, named FILE:LINE.

    python3 tests/checks/refs.py [--root DIR] [-v]

What is read: the comments of C, NASM, Python (comments and docstrings),
Makefile, linker-script and shell files, and the whole text of the Markdown
documents (README.md, docs/*.md, tools/gdb/README.md).  What is checked:

  paths      a word that starts with one of the repository's top-level
             directories (kernel/mm/heap.c, include/uapi/, tests/kernel/)
             must exist; an upper-case component (NAME, SUITE) or a `*`
             stands for any name.  A Markdown link's target must exist too.
  functions  `name()` written next to a file, as in "kernel/trap.c,
             trap_dispatch()" or "trap_dispatch() in kernel/trap.c", must
             be defined or used in that file; any other `name()` in a
             comment must appear in the code of some source file.
  outside    no `../` that leaves the repository, and none of the words
             that point at material the repository does not hold: a
             DESIGN.md (unless one is added), "the seed thread", "the
             issue".  These are looked for in every file, code included.

build/ is output, not source: paths under it are not checked.
"""

import argparse
import glob
import io
import os
import re
import subprocess
import sys
import tokenize

TOP_DIRS = ("boot", "kernel", "include", "lib", "user", "tests", "tools", "bench",
            "docs", "iso", "mk")
DOCS = ("README.md", "docs/*.md", "tools/gdb/README.md")

PATH_BODY = r"(?:%s)/[\w.*/-]*" % "|".join(TOP_DIRS)
PATH_RE = re.compile(r"(?<![\w./$-])(%s)" % PATH_BODY)
# `name()`, not preceded by `.` or `->` (a method or a field) and not a
# macro's or a keyword's parenthesis.
CALL_RE = re.compile(r"(?<![\w.>$])([A-Za-z_]\w*)\(\)")
MD_LINK_RE = re.compile(r"\]\(([^)\s#]+)")
# "PATH, name()", "PATH's name()", "PATH: name()", "PATH (name())"
PATH_THEN_CALL_RE = re.compile(r"(?<![\w./$-])(%s)`?(?:'s|,|:|\s\()\s*`?([A-Za-z_]\w*)\(\)" % PATH_BODY)
# "name() in PATH", "name() (PATH"
CALL_THEN_PATH_RE = re.compile(r"(?<![\w.>$])([A-Za-z_]\w*)\(\)`?\s+(?:in|of|from|\()\s*`?(%s)" % PATH_BODY)

# Words that point outside the repository.  Built from pieces so that this
# file does not match itself.
OUTSIDE = [
    (re.compile(r"\.\./" + "shared"), "names ../" + "shared, which is outside the repository"),
    (re.compile(r"\b" + "DESIGN" + r"\.md\b"), "names DESIGN" + ".md, which the repository does not hold"),
    (re.compile(r"\bthe " + "seed" + r" thread\b", re.I), "refers to the " + "seed thread, which the repository does not hold"),
    (re.compile(r"\bthe " + "issue" + r"\b", re.I), "refers to the " + "issue, which the repository does not hold"),
]

# Functions a comment may name without the repository defining them: the C
# library, compiler built-ins, GDB's and Python's.
EXTERNAL_CALLS = {
    "malloc", "free", "calloc", "realloc", "printf", "memset", "memcpy", "memmove",
    "strlen", "strcmp", "abort", "exit", "main", "setjmp", "longjmp", "alloca",
    "sizeof", "offsetof", "defined", "__builtin_expect", "__builtin_unreachable",
    "print", "len", "int", "str", "gdb", "execute", "parse_and_eval", "invoke",
    "obstack_free", "apr_pool_clear", "talloc_free", "mi_free", "je_free",
    "posix_memalign", "aligned_alloc", "mmap", "sbrk", "brk", "fork", "rdtsc",
}

# Known dangling references, reported as TODO (the runner shows them as
# skipped, with the reason) instead of failing: (file, text of the line).
# README.md is being rewritten; these go with the rewrite.  An entry that no
# longer matches any line fails, so that the list only ever shrinks.
KNOWN = []
KNOWN_WHY = "README.md is being rewritten (KNOWN in tests/checks/refs.py)"

C_EXT = (".c", ".h")
ASM_EXT = (".asm", ".inc")
PY_EXT = (".py",)
HASH_FILES = ("Makefile", ".mk", ".sh", ".srcs", ".flags", ".in", ".gitignore")
LD_EXT = (".ld",)


def repo_files(root):
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, text=True, check=True).stdout
        files = sorted(set(out.split()))
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith(".") and x != "build"]
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return [f for f in files if not f.startswith((".", "build/")) and os.path.isfile(os.path.join(root, f))]


# ---------------------------------------------------------------------------
# Comments, with their line numbers: [(line, text)]

def c_comments(text):
    """// and /* */ comments, outside string and character literals."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append((line, text[i + 2:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j
            for k, part in enumerate(text[i + 2:j].split("\n")):
                out.append((line + k, part))
            line += text.count("\n", i, j)
            i = j + 2
        else:
            i += 1
    return out


def hash_comments(text, quote_chars=""):
    """`#` (or, for NASM, `;`) to the end of the line, outside quotes."""
    return line_comments(text, "#", quote_chars)


def line_comments(text, marker, quote_chars):
    out = []
    for no, l in enumerate(text.split("\n"), 1):
        q = None
        for k, c in enumerate(l):
            if q:
                if c == q:
                    q = None
            elif c in quote_chars:
                q = c
            elif c == marker and not (k and l[k - 1] == "\\"):
                out.append((no, l[k + 1:]))
                break
    return out


def py_comments(text):
    """Comments and docstrings (every triple-quoted string)."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.string[1:]))
            elif tok.type == tokenize.STRING and re.match(r"[rRbBuUfF]*('''|\"\"\")", tok.string):
                for k, part in enumerate(tok.string.split("\n")):
                    out.append((tok.start[0] + k, part))
    except (tokenize.TokenError, SyntaxError):
        out = hash_comments(text, "'\"")
    return out


def comments_of(path, text):
    base = os.path.basename(path)
    if path.endswith(C_EXT) or path.endswith(LD_EXT):
        return c_comments(text)
    if path.endswith(ASM_EXT):
        return line_comments(text, ";", "'\"`")
    if path.endswith(PY_EXT):
        return py_comments(text)
    if base == "Makefile" or path.endswith(HASH_FILES):
        return hash_comments(text)
    return None


def code_of(path, text):
    """The text with comments blanked out (for the list of known names)."""
    comments = comments_of(path, text)
    if comments is None:
        return ""
    lines = text.split("\n")
    for no, part in comments:
        if part and no - 1 < len(lines):
            lines[no - 1] = lines[no - 1].replace(part, " ", 1)
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Checks

class Checker:
    def __init__(self, root):
        self.root = root
        self.files = repo_files(root)
        self.texts = {}
        for f in self.files:
            try:
                with open(os.path.join(root, f), encoding="utf-8") as fh:
                    self.texts[f] = fh.read()
            except (UnicodeDecodeError, OSError):
                pass        # binary (the chart)
        words = set()
        for f, t in self.texts.items():
            words.update(re.findall(r"[A-Za-z_]\w*", code_of(f, t)))
        self.code_words = words
        self.has_design_md = any(os.path.basename(f) == "DESIGN" + ".md" for f in self.files)

    def scanned(self):
        """(file, [(line, text)], is a document) for every file read."""
        docs = set()
        for pat in DOCS:
            docs.update(os.path.relpath(p, self.root) for p in glob.glob(os.path.join(self.root, pat)))
        for f in self.files:
            t = self.texts.get(f)
            if t is None:
                continue
            if f in docs:
                yield f, list(enumerate(t.split("\n"), 1)), True
            else:
                c = comments_of(f, t)
                if c is not None:
                    yield f, c, False

    def path_exists(self, p):
        if p.startswith("build/"):
            return True
        pattern = "/".join("*" if re.fullmatch(r"[A-Z][A-Z0-9_]*", part) else part
                           for part in p.rstrip("/").split("/"))
        pattern = re.sub(r"[A-Z][A-Z0-9_]*(?=[_.])", "*", pattern)   # NAME_test.c
        full = os.path.join(self.root, pattern)
        hits = glob.glob(full) if any(ch in pattern for ch in "*?[") else \
            ([full] if os.path.exists(full) else [])
        if p.endswith("/"):
            hits = [h for h in hits if os.path.isdir(h)]
        return bool(hits)

    def file_has_name(self, p, name):
        t = self.texts.get(p.rstrip("/"))
        if t is None:
            return True         # a directory or a pattern: the path check covers it
        return re.search(r"\b%s\b" % re.escape(name), code_of(p, t) or t) is not None

    def check_line(self, f, no, text, is_doc):
        problems = []
        for pat, why in OUTSIDE:
            if pat.search(text) and not (why.startswith("names DESIGN") and self.has_design_md):
                problems.append(why)
        for m in re.finditer(r"(?<![\w.])((?:\.\./)+[\w./-]*)", text):
            target = os.path.normpath(os.path.join(os.path.dirname(f), m.group(1)))
            if target == ".." or target.startswith("../"):
                if "shared" not in m.group(1):       # reported above
                    problems.append(f"names {m.group(1)}, which is outside the repository")
            elif not os.path.exists(os.path.join(self.root, target)):
                problems.append(f"names {m.group(1)}, which does not exist")
        paths = []
        for m in PATH_RE.finditer(text):
            p = m.group(1).rstrip(".")
            if "/" in p.rstrip("/") or p.endswith("/"):
                paths.append(p)
        for p in paths:
            if not self.path_exists(p):
                problems.append(f"names {p}, which does not exist")
        if is_doc:
            for m in MD_LINK_RE.finditer(text):
                target = m.group(1)
                if re.match(r"[a-z]+:", target) or target.startswith("../"):
                    continue
                full = os.path.normpath(os.path.join(os.path.dirname(f), target))
                if not os.path.exists(os.path.join(self.root, full)):
                    problems.append(f"links to {target}, which does not exist")
        located = set()
        for rx, order in ((PATH_THEN_CALL_RE, (0, 1)), (CALL_THEN_PATH_RE, (1, 0))):
            for m in rx.finditer(text):
                p, name = m.group(1 + order[0]).rstrip("."), m.group(1 + order[1])
                if not re.search(r"\.\w+$", p):
                    continue
                located.add(name)
                if self.path_exists(p) and not self.file_has_name(p, name):
                    problems.append(f"names {name}() in {p}, which has no {name}")
        for m in CALL_RE.finditer(text):
            name = m.group(1)
            if name in located or name in EXTERNAL_CALLS or name in self.code_words:
                continue
            problems.append(f"names {name}(), which no source file has")
        return problems

    def outside_in_code(self, f, text, comment_lines):
        """The outside-the-repository words in code as well as comments."""
        problems = []
        if f == os.path.relpath(os.path.abspath(__file__), self.root):
            return problems
        for no, l in enumerate(text.split("\n"), 1):
            if no in comment_lines:
                continue
            for pat, why in OUTSIDE:
                if pat.search(l) and not (why.startswith("names DESIGN") and self.has_design_md):
                    problems.append((no, why))
        return problems

    def run(self):
        """[(file, [(line, problem, known)])] for every file read, and the
        KNOWN entries that matched no line."""
        results, used = [], set()
        me = os.path.relpath(os.path.abspath(__file__), self.root)
        for f, lines, is_doc in self.scanned():
            probs = []
            if f != me:
                for no, text in lines:
                    probs += [(no, p) for p in self.check_line(f, no, text, is_doc)]
                probs += self.outside_in_code(f, self.texts[f], {no for no, _ in lines})
            seen, uniq = set(), []
            for p in sorted(probs):
                if p not in seen:
                    seen.add(p)
                    uniq.append(p)
            lines_of = self.texts[f].split("\n")
            marked = []
            for no, why in uniq:
                line = lines_of[no - 1] if no - 1 < len(lines_of) else ""
                k = next((k for k, (kf, kt) in enumerate(KNOWN) if kf == f and kt in line), None)
                if k is not None:
                    used.add(k)
                marked.append((no, why, k is not None))
            results.append((f, marked))
        stale = [KNOWN[k] for k in range(len(KNOWN)) if k not in used]
        return results, stale


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    args = ap.parse_args(argv)
    results, stale = Checker(args.root).run()
    total = sum(max(1, len(p)) for _, p in results) + len(stale)
    print("TAP version 13")
    print(f"1..{total}")
    n = bad = todo = 0
    for f, probs in results:
        if not probs:
            n += 1
            print(f"ok {n} - {f}")
        for no, why, known in probs:
            n += 1
            if known:
                todo += 1
                print(f"not ok {n} - {f}:{no}: {why} # TODO {KNOWN_WHY}")
            else:
                bad += 1
                print(f"not ok {n} - {f}:{no}: {why}")
    for f, text in stale:
        n += 1
        bad += 1
        print(f"not ok {n} - KNOWN entry for {f} matches no dangling reference: "
              f"remove ({f!r}, {text!r}) from tests/checks/refs.py")
    print(f"# {len(results)} files read, {bad} dangling references, {todo} known")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
