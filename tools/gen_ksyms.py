#!/usr/bin/env python3
"""Turns `nm -n` output of the first link into build/ksyms.c.

The table goes into the .ksyms section, which linker.ld places last in its
own segment, so the second link keeps every other address unchanged.
Only text symbols are kept: the table is for naming EIPs in reports.
"""
import sys


def main():
    syms = []
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "Tt":
            continue
        addr, name = int(parts[0], 16), parts[2]
        if addr < 0xC0000000 or name.startswith(".") or name.startswith("__x86."):
            continue
        syms.append((addr, name))
    syms.sort()
    out = ['#include <stdint.h>',
           '#define KSYMS __attribute__((section(".ksyms"), used))',
           'struct ksym { uint32_t addr, name; };',
           f'KSYMS const uint32_t g_ksym_count = {len(syms)};']
    names, offsets, off = [], [], 0
    for _, name in syms:
        offsets.append(off)
        names.append(name)
        off += len(name) + 1
    out.append('KSYMS const struct ksym g_ksyms[] = {')
    out += [f'    {{ 0x{a:08x}u, {o} }},' for (a, _), o in zip(syms, offsets)]
    out.append('    { 0, 0 }\n};')
    blob = ''.join(n + '\\0' for n in names)
    out.append(f'KSYMS const char g_ksym_names[] = "{blob}";')
    sys.stdout.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
