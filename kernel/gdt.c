// Global descriptor tables, one per CPU: flat kernel and user segments, the
// CPU's TSS, the double-fault task and the CPU's own area (include/percpu.h).
#include <stdbool.h>
#include <stddef.h>
#include "gdt.h"
#include "lib/string.h"
#include "percpu.h"

struct gdt_entry {
    uint16_t limit_lo, base_lo;
    uint8_t base_mid, access, flags_limit_hi, base_hi;
} PACKED;

struct gdt_pointer {
    uint16_t limit;
    uint32_t base;
} PACKED;

#define ACC_PRESENT   0x80
#define ACC_DPL3      0x60
#define ACC_SEGMENT   0x10 // code/data (not system)
#define ACC_CODE      0x0A // execute/read
#define ACC_DATA      0x02 // read/write
#define ACC_TSS32     0x09 // available 32-bit TSS
#define FLAG_4K_32BIT 0xC0 // granularity 4 KiB, 32-bit operands

_Static_assert(sizeof(struct gdt_entry) == sizeof(uint64_t), "a descriptor is 8 bytes");

// iomap_base past the segment's limit: no bitmap, every port is #GP in ring 3.
#define IOMAP_NONE sizeof(struct tss_io)

extern void gdt_flush(const struct gdt_pointer *p, uint32_t code_sel, uint32_t data_sel);

static void
gdt_set(uint64_t *gdt, int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    ((struct gdt_entry *)gdt)[i] = (struct gdt_entry){
        .limit_lo = limit & 0xFFFF,
        .base_lo = base & 0xFFFF,
        .base_mid = (base >> 16) & 0xFF,
        .access = access,
        .flags_limit_hi = (uint8_t)(flags | ((limit >> 16) & 0x0F)),
        .base_hi = (base >> 24) & 0xFF,
    };
}

void
gdt_set_tss(uint64_t *gdt, int index, void *tss, uint32_t size)
{
    gdt_set(gdt, index, (uint32_t)tss, size - 1, ACC_PRESENT | ACC_TSS32, 0);
}

void
gdt_set_data(uint64_t *gdt, int index, uint32_t base)
{
    gdt_set(gdt, index, base, 0xFFFFF, ACC_PRESENT | ACC_SEGMENT | ACC_DATA, FLAG_4K_32BIT);
}

void
tss_io_load(const uint8_t *map)
{
    struct percpu *p = this_cpu();
    if (!map) {
        p->tss_io.tss.iomap_base = IOMAP_NONE; // the map stays, unused, for its owner's return
        return;
    }
    if (map != p->io_loaded || p->io_stale) {
        memcpy(p->tss_io.iomap, map, IOMAP_BYTES);
        p->io_loaded = map;
        p->io_stale = false;
    }
    p->tss_io.tss.iomap_base = offsetof(struct tss_io, iomap);
}

void
tss_io_forget(void)
{
    for (unsigned i = 0; i < SMP_MAX_CPUS; i++)
        g_percpu[i].io_stale = true;
}

// Loads gdt (GDT_ENTRIES) on the calling CPU with its TSS and its area in %fs.
static void
gdt_load(uint64_t *gdt)
{
    struct gdt_pointer ptr = { GDT_ENTRIES * sizeof(uint64_t) - 1, (uint32_t)gdt };
    gdt_flush(&ptr, KERNEL_CS, KERNEL_DS);
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
    percpu_load();
}

// Fills p's TSS (ring-0 stack esp0, no ports) and describes it in its GDT.
static void
tss_setup(struct percpu *p, uint32_t esp0)
{
    memset(&p->tss_io, 0, sizeof(p->tss_io));
    memset(p->tss_io.iomap, 0xFF, sizeof(p->tss_io.iomap));
    p->tss_io.iomap_end = 0xFF;
    p->tss_io.tss.ss0 = KERNEL_DS;
    p->tss_io.tss.esp0 = esp0;
    p->tss_io.tss.iomap_base = IOMAP_NONE; // ring 3 gets no ports until a process holds some
    gdt_set_tss(p->gdt, GDT_TSS, &p->tss_io, sizeof(p->tss_io));
}

void
gdt_init(void)
{
    struct percpu *boot = &g_percpu[0];
    uint64_t *gdt = boot->gdt;
    gdt_set(gdt, 0, 0, 0, 0, 0);
    gdt_set(gdt, GDT_KERNEL_CODE, 0, 0xFFFFF, ACC_PRESENT | ACC_SEGMENT | ACC_CODE, FLAG_4K_32BIT);
    gdt_set_data(gdt, GDT_KERNEL_DATA, 0);
    gdt_set(gdt, GDT_USER_CODE, 0, 0xFFFFF, ACC_PRESENT | ACC_DPL3 | ACC_SEGMENT | ACC_CODE,
            FLAG_4K_32BIT);
    gdt_set(gdt, GDT_USER_DATA, 0, 0xFFFFF, ACC_PRESENT | ACC_DPL3 | ACC_SEGMENT | ACC_DATA,
            FLAG_4K_32BIT);
    percpu_setup(0);
    tss_setup(boot, 0);
    gdt_load(gdt);
}

void
gdt_load_cpu(unsigned index, uint32_t esp0)
{
    struct percpu *p = &g_percpu[index];
    memcpy(p->gdt, g_percpu[0].gdt, sizeof(p->gdt));
    percpu_setup(index);
    tss_setup(p, esp0);
    gdt_load(p->gdt);
}
