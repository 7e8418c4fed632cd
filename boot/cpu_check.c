// The first C Tandem runs: is this CPU one Tandem can run on?
//
// The rest of the kernel is compiled for i686 and the boot code uses 4 MiB
// pages and rdtsc, so on an older CPU the first missing instruction would
// fault before the IDT exists: a triple fault, a reset, no word said.  This
// file runs first, before paging, from _start (boot/multiboot.asm), and is
// compiled for the i386 (Makefile: BOOT_CFLAGS) so that it runs anywhere a
// Multiboot loader can start it.  It is linked into .boot at its physical
// address (linker.ld) and touches nothing but its own stack, the Multiboot
// command line, COM1 and the VGA text buffer.  When something is missing it
// names every missing feature on one line, leaves QEMU with the failure
// status when booted with `test`, and halts.
#include <stdbool.h>
#include <stdint.h>
#include "cpuid.h"
#include "qemu.h"

#define COM1            0x3F8
#define VGA_TEXT        ((volatile uint16_t *)0xB8000)
#define VGA_ATTR        0x4F00 // white on red
#define MB_INFO_CMDLINE (1u << 2)

struct line {
    char text[160];
    unsigned len;
};

static inline void
out8(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
in8(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void
add(struct line *l, const char *s)
{
    while (*s && l->len < sizeof(l->text) - 1)
        l->text[l->len++] = *s++;
}

// The line on COM1 (115200 8N1, polled) and on the first row of the screen.
static void
say(const struct line *l)
{
    out8(COM1 + 1, 0x00);
    out8(COM1 + 3, 0x80);
    out8(COM1 + 0, 1);
    out8(COM1 + 1, 0);
    out8(COM1 + 3, 0x03);
    for (unsigned i = 0; i <= l->len; i++) {
        char c = i < l->len ? l->text[i] : '\n';
        if (c == '\n') {
            while (!(in8(COM1 + 5) & 0x20))
                ;
            out8(COM1, '\r');
        }
        while (!(in8(COM1 + 5) & 0x20))
            ;
        out8(COM1, (uint8_t)c);
    }
    for (unsigned i = 0; i < 80; i++)
        VGA_TEXT[i] = (uint16_t)(VGA_ATTR | (uint8_t)(i < l->len ? l->text[i] : ' '));
}

// Whether the command line has the word `test` or `test=...`.
static bool
test_mode(uint32_t magic, const uint32_t *mbi)
{
    if (magic != 0x2BADB002 || !(mbi[0] & MB_INFO_CMDLINE))
        return false;
    const char *s = (const char *)mbi[4];
    for (const char *w = s; *w; w++) {
        if ((w == s || w[-1] == ' ') && w[0] == 't' && w[1] == 'e' && w[2] == 's' && w[3] == 't' &&
            (w[4] == '\0' || w[4] == ' ' || w[4] == '='))
            return true;
    }
    return false;
}

void
cpu_check(uint32_t magic, const uint32_t *mbi)
{
    struct line l; // no initialiser: nothing may become a call to memset
    l.len = 0;
    add(&l, "Tandem cannot run on this CPU; it lacks:");
    if (!cpuid_present()) {
        add(&l, " the CPUID instruction (a 486 or older; Tandem needs an i686 with PSE and TSC)");
    } else {
        uint32_t edx = cpuid(0, 0).eax >= 1 ? cpuid(1, 0).edx : 0;
        if (!(edx & CPUID_1_EDX_CMOV))
            add(&l, " CMOV (i686 instructions)");
        if (!(edx & CPUID_1_EDX_PSE))
            add(&l, " PSE (4 MiB pages)");
        if (!(edx & CPUID_1_EDX_TSC))
            add(&l, " TSC (rdtsc)");
        if ((edx & CPUID_1_EDX_REQUIRED) == CPUID_1_EDX_REQUIRED)
            return;
    }
    say(&l);
    if (test_mode(magic, mbi))
        out8(QEMU_EXIT_PORT, QEMU_EXIT_FAIL);
    for (;;)
        __asm__ volatile("cli; hlt");
}
