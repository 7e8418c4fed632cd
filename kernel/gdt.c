// Global descriptor table: flat kernel and user segments plus the TSS.
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
#define ACC_SEGMENT   0x10      // code/data (not system)
#define ACC_CODE      0x0A      // execute/read
#define ACC_DATA      0x02      // read/write
#define ACC_TSS32     0x09      // available 32-bit TSS
#define FLAG_4K_32BIT 0xC0      // granularity 4 KiB, 32-bit operands

_Static_assert(sizeof(struct gdt_entry) == sizeof(uint64_t), "a descriptor is 8 bytes");

static struct gdt_entry s_gdt[GDT_ENTRIES];
struct tss g_tss;

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
gdt_set_tss(int index, struct tss *tss)
{
    gdt_set(index, (uint32_t)tss, sizeof(*tss) - 1, ACC_PRESENT | ACC_TSS32, 0);
}

void
gdt_init(void)
{
    gdt_set(0, 0, 0, 0, 0);
    gdt_set(GDT_KERNEL_CODE, 0, 0xFFFFF, ACC_PRESENT | ACC_SEGMENT | ACC_CODE, FLAG_4K_32BIT);
    gdt_set(GDT_KERNEL_DATA, 0, 0xFFFFF, ACC_PRESENT | ACC_SEGMENT | ACC_DATA, FLAG_4K_32BIT);
    gdt_set(GDT_USER_CODE, 0, 0xFFFFF, ACC_PRESENT | ACC_DPL3 | ACC_SEGMENT | ACC_CODE, FLAG_4K_32BIT);
    gdt_set(GDT_USER_DATA, 0, 0xFFFFF, ACC_PRESENT | ACC_DPL3 | ACC_SEGMENT | ACC_DATA, FLAG_4K_32BIT);

    memset(&g_tss, 0, sizeof(g_tss));
    g_tss.ss0 = KERNEL_DS;
    g_tss.iomap_base = sizeof(g_tss);   // no I/O bitmap: ring 3 gets no ports
    gdt_set_tss(GDT_TSS, &g_tss);

    struct gdt_pointer p = { sizeof(s_gdt) - 1, (uint32_t)s_gdt };
    gdt_flush(&p, KERNEL_CS, KERNEL_DS);
    __asm__ volatile("ltr %w0" :: "r"(TSS_SEL));
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
    __asm__ volatile("ltr %w0" :: "r"(TSS_SEL));
}
