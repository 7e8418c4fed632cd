/* Segments and the task state segment.
 *
 * The order is fixed by sysenter: IA32_SYSENTER_CS = KERNEL_CS implies
 * kernel SS = CS+8, user CS = CS+16, user SS = CS+24. */
#ifndef TANDEM_GDT_H
#define TANDEM_GDT_H

#include <stdint.h>
#include "compiler.h"

#define GDT_KERNEL_CODE 1
#define GDT_KERNEL_DATA 2
#define GDT_USER_CODE   3
#define GDT_USER_DATA   4
#define GDT_TSS         5
#define GDT_DF_TSS      6 // double-fault task (its own stack)
#define GDT_ENTRIES     7

#define KERNEL_CS  (GDT_KERNEL_CODE << 3)
#define KERNEL_DS  (GDT_KERNEL_DATA << 3)
#define USER_CS    ((GDT_USER_CODE << 3) | 3)
#define USER_DS    ((GDT_USER_DATA << 3) | 3)
#define TSS_SEL    (GDT_TSS << 3)
#define DF_TSS_SEL (GDT_DF_TSS << 3)

// The 32-bit TSS (Intel SDM vol. 3A, 8.2.1).
struct tss {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap_base;
} PACKED;

// The I/O permission bitmap covers the first IOMAP_PORTS ports (every
// legacy PC device lives there); a port above it is never allowed.
#define IOMAP_PORTS 1024
#define IOMAP_BYTES (IOMAP_PORTS / 8)

// The main TSS and its I/O permission bitmap, which must lie inside the
// TSS segment (Intel SDM vol. 1, 19.5.2).
struct tss_io {
    struct tss tss;
    uint8_t iomap[IOMAP_BYTES]; // a clear bit allows its port
    uint8_t iomap_end;          // 0xFF: the CPU may read a byte past the map
} PACKED;

extern struct tss_io g_tss_io;
#define g_tss (g_tss_io.tss)

// Installs the GDT, reloads every segment register and loads the TSS.
void gdt_init(void);
// Another CPU's own GDT and TSS (kernel/smp/smp.c): gdt becomes a copy of
// the boot CPU's, whose segments every CPU shares, with GDT_TSS describing
// tss (ring-0 stack esp0, no I/O bitmap); then both are loaded on the
// calling CPU.  The double-fault task's descriptor is copied too: its TSS
// is still the one of kernel/thread/double_fault.c.
void gdt_load_cpu(uint64_t gdt[GDT_ENTRIES], struct tss *tss, uint32_t esp0);
// Describes a TSS of size bytes in GDT entry index (the main one, the
// double-fault task's).
void gdt_set_tss(int index, void *tss, uint32_t size);
// Points the ring-0 stack used on entry from ring 3 at esp0.
static inline void
tss_set_esp0(uint32_t esp0)
{
    g_tss.esp0 = esp0;
}

// Makes map (IOMAP_BYTES bytes) the ports ring 3 may use, or with NULL
// none.  Copies only when map is not the one copied last; after
// tss_io_forget (the map changed, or its owner went), the next load copies
// whatever it is given.
void tss_io_load(const uint8_t *map);
void tss_io_forget(void);

#endif
