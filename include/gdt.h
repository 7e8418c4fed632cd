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
#define GDT_PERCPU      7 // this CPU's area (include/percpu.h): %fs in the kernel
#define GDT_ENTRIES     8

#define KERNEL_CS  (GDT_KERNEL_CODE << 3)
#define KERNEL_DS  (GDT_KERNEL_DATA << 3)
#define USER_CS    ((GDT_USER_CODE << 3) | 3)
#define USER_DS    ((GDT_USER_DATA << 3) | 3)
#define TSS_SEL    (GDT_TSS << 3)
#define DF_TSS_SEL (GDT_DF_TSS << 3)
#define PERCPU_SEL (GDT_PERCPU << 3)

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

// Builds the boot CPU's GDT (in its per-CPU area), reloads every segment
// register and loads its TSS.
void gdt_init(void);
// Another CPU's GDT (kernel/smp/smp.c): a copy of the boot CPU's, whose
// segments every CPU shares (the double-fault task's too, for now), with
// GDT_TSS and GDT_PERCPU describing the calling CPU's own TSS and area
// (include/percpu.h), its ring-0 stack esp0 and no I/O bitmap; then loaded,
// with %fs, on the calling CPU.
void gdt_load_cpu(unsigned index, uint32_t esp0);
// Describes a TSS of size bytes in entry index of gdt (the main one, the
// double-fault task's).
void gdt_set_tss(uint64_t *gdt, int index, void *tss, uint32_t size);
// Describes a flat ring-0 data segment whose base is base (the per-CPU one).
void gdt_set_data(uint64_t *gdt, int index, uint32_t base);
// Makes map (IOMAP_BYTES bytes) the ports ring 3 may use on this CPU, or
// with NULL none.  Copies only when map is not the one copied last; after
// tss_io_forget (the map changed, or its owner went), the next load on
// every CPU copies whatever it is given.
void tss_io_load(const uint8_t *map);
void tss_io_forget(void);

#endif
