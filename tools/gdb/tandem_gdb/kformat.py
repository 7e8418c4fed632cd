"""The kernel's printf (lib/format.c), done in Python on the target's
arguments: how `tandem catch panic` gives a panic's message before the
kernel has printed it.

On i386 a va_list is a pointer to the next argument on the stack; each
argument takes 4 bytes (8 for long long).  The conversions are the ones
format_v knows: d i u x X p s c %, with the flags - 0 #, a width and a
precision (either may be *), and the lengths hh h l ll z.  Anything else is
printed as written, as format_v does.
"""

import re

SPEC = re.compile(r"%([-0#]*)(\*|\d+)?(?:\.(\*|\d*))?(hh|h|ll|l|z)?(.?)", re.S)
PTR_DIGITS = 8


class Args:
    """Reads successive arguments from a va_list (a stack address)."""

    def __init__(self, read_u32, read_string, at):
        self.read_u32, self.read_string, self.at = read_u32, read_string, at

    def word(self):
        v = self.read_u32(self.at)
        self.at += 4
        return v

    def wide(self):
        lo = self.word()
        return lo | (self.word() << 32)


def _signed(v, bits):
    return v - (1 << bits) if v & (1 << (bits - 1)) else v


def _fetch(args, length, signed):
    if length == "ll":
        v, bits = args.wide(), 64
    else:
        v, bits = args.word(), 32
        if length == "h":
            v, bits = v & 0xFFFF, 16
        elif length == "hh":
            v, bits = v & 0xFF, 8
    return _signed(v, bits) if signed else v


def _pad(text, width, left, fill=" "):
    if len(text) >= width:
        return text
    return text + " " * (width - len(text)) if left else fill * (width - len(text)) + text


def _number(mag, negative, base, upper, prefix, width, prec, left, zero):
    digits = format(mag, "X" if upper else "x") if base == 16 else str(mag)
    if prec >= 0:
        digits = "" if prec == 0 and mag == 0 else digits.rjust(prec, "0")
    head = ("-" if negative else "") + prefix
    if zero and not left and prec < 0:
        return head + digits.rjust(max(width - len(head), 0), "0")
    return _pad(head + digits, width, left)


def format_kernel(fmt, args):
    """fmt formatted with the arguments args reads, as the kernel would."""
    out = []
    pos = 0
    while pos < len(fmt):
        i = fmt.find("%", pos)
        if i < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:i])
        m = SPEC.match(fmt, i)
        flags, width, prec, length, conv = m.groups()
        left, zero, alt = "-" in flags, "0" in flags, "#" in flags
        if width == "*":
            w = _signed(args.word(), 32)
            left, width = left or w < 0, abs(w)
        else:
            width = int(width) if width else 0
        if prec == "*":
            p = _signed(args.word(), 32)
            prec = p if p >= 0 else -1
        elif prec is None:
            prec = -1
        else:
            prec = int(prec) if prec else 0
        if conv in ("d", "i"):
            v = _fetch(args, length, True)
            out.append(_number(abs(v), v < 0, 10, False, "", width, prec, left, zero))
        elif conv == "u":
            out.append(_number(_fetch(args, length, False), False, 10, False, "", width, prec,
                               left, zero))
        elif conv in ("x", "X"):
            v = _fetch(args, length, False)
            prefix = "" if not alt or v == 0 else ("0X" if conv == "X" else "0x")
            out.append(_number(v, False, 16, conv == "X", prefix, width, prec, left, zero))
        elif conv == "p":
            out.append(_number(args.word(), False, 16, False, "0x", width, PTR_DIGITS, left, zero))
        elif conv == "s":
            addr = args.word()
            s = "(null)" if addr == 0 else args.read_string(addr)
            out.append(_pad(s[:prec] if prec >= 0 else s, width, left))
        elif conv == "c":
            out.append(_pad(chr(args.word() & 0xFF), width, left))
        elif conv == "%":
            out.append("%")
        elif conv == "":
            out.append(fmt[i:])            # the format ends inside a conversion
        else:
            out.append(m.group(0))         # unknown: as written, so the mistake shows
        pos = m.end()
    return "".join(out)
