// Global descriptor table: flat kernel and user segments plus the TSS.
#include <stdbool.h>
#include <stddef.h>
#include "gdt.h"
#include "lib/string.h"

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

static struct gdt_entry s_gdt[GDT_ENTRIES];
struct tss_io g_tss_io;
// Whose map g_tss_io.iomap holds.  Switching to a process without ports
// only moves iomap_base past the limit, so switching back to the one with
// ports costs no copy; stale: that map has changed (or its process may be
// gone and another have its address) - copy it next time.
static const uint8_t *s_io_loaded;
static bool s_io_stale = true;

// iomap_base past the segment's limit: no bitmap, every port is #GP in ring 3.
#define IOMAP_NONE sizeof(struct tss_io)

extern void gdt_flush(const struct gdt_pointer *p, uint32_t code_sel, uint32_t data_sel);

static void
gdt_set(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    s_gdt[i] = (struct gdt_entry){
        .limit_lo = limit & 0xFFFF,
        .base_lo = base & 0xFFFF,
        .base_mid = (base >> 16) & 0xFF,
        .access = access,
        .flags_limit_hi = (uint8_t)(flags | ((limit >> 16) & 0x0F)),
        .base_hi = (base >> 24) & 0xFF,
    };
}

// Describes a TSS in the GDT; used for the main TSS and the double-fault task.
void
gdt_set_tss(int index, void *tss, uint32_t size)
{
    gdt_set(index, (uint32_t)tss, size - 1, ACC_PRESENT | ACC_TSS32, 0);
}

void
tss_io_load(const uint8_t *map)
{
    if (!map) {
        g_tss.iomap_base = IOMAP_NONE; // the map stays, unused, for its owner's return
        return;
    }
    if (map != s_io_loaded || s_io_stale) {
        memcpy(g_tss_io.iomap, map, IOMAP_BYTES);
        s_io_loaded = map;
        s_io_stale = false;
    }
    g_tss.iomap_base = offsetof(struct tss_io, iomap);
}

void
tss_io_forget(void)
{
    s_io_stale = true;
}

void
gdt_init(void)
{
    gdt_set(0, 0, 0, 0, 0);
    gdt_set(GDT_KERNEL_CODE, 0, 0xFFFFF, ACC_PRESENT | ACC_SEGMENT | ACC_CODE, FLAG_4K_32BIT);
    gdt_set(GDT_KERNEL_DATA, 0, 0xFFFFF, ACC_PRESENT | ACC_SEGMENT | ACC_DATA, FLAG_4K_32BIT);
    gdt_set(GDT_USER_CODE, 0, 0xFFFFF, ACC_PRESENT | ACC_DPL3 | ACC_SEGMENT | ACC_CODE,
            FLAG_4K_32BIT);
    gdt_set(GDT_USER_DATA, 0, 0xFFFFF, ACC_PRESENT | ACC_DPL3 | ACC_SEGMENT | ACC_DATA,
            FLAG_4K_32BIT);

    memset(&g_tss_io, 0xFF, sizeof(g_tss_io));
    memset(&g_tss, 0, sizeof(g_tss));
    g_tss.ss0 = KERNEL_DS;
    tss_io_load(NULL); // ring 3 gets no ports until a process holds some
    gdt_set_tss(GDT_TSS, &g_tss_io, sizeof(g_tss_io));

    struct gdt_pointer p = { sizeof(s_gdt) - 1, (uint32_t)s_gdt };
    gdt_flush(&p, KERNEL_CS, KERNEL_DS);
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}

void
gdt_load_cpu(uint64_t gdt[GDT_ENTRIES], struct tss *tss, uint32_t esp0)
{
    memcpy(gdt, s_gdt, sizeof(s_gdt));
    memset(tss, 0, sizeof(*tss));
    tss->ss0 = KERNEL_DS;
    tss->esp0 = esp0;
    tss->iomap_base = sizeof(*tss);
    struct gdt_entry *entries = (struct gdt_entry *)gdt;
    uint32_t base = (uint32_t)tss;
    entries[GDT_TSS] = (struct gdt_entry){
        .limit_lo = sizeof(*tss) - 1,
        .base_lo = base & 0xFFFF,
        .base_mid = (base >> 16) & 0xFF,
        .access = ACC_PRESENT | ACC_TSS32,
        .base_hi = (base >> 24) & 0xFF,
    };
    struct gdt_pointer p = { sizeof(s_gdt) - 1, (uint32_t)gdt };
    gdt_flush(&p, KERNEL_CS, KERNEL_DS);
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));
}
