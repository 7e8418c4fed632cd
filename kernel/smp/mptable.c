// The Intel MultiProcessor Specification's tables (version 1.4, chapter 4):
// the floating pointer, then the configuration table it points to, or one
// of the default configurations it names.  Used when ACPI gives no MADT.
// Mapped and checked as the ACPI tables are (kernel/smp/acpi.c).
#include <stdarg.h>
#include "smp/tables.h"
#include "lib/format.h"
#include "lib/string.h"

#define MP_FLOATING_LEN   16
#define MP_HEADER_LEN     44
#define MP_FEATURE2_IMCR  0x80
#define MP_DEFAULT_LAPIC  0xFEE00000u
#define MP_DEFAULT_IOAPIC 0xFEC00000u

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IO_INTERRUPT = 3, MP_LOCAL_INTERRUPT = 4 };
#define MP_CPU_ENABLED    0x01
#define MP_CPU_BSP        0x02
#define MP_IOAPIC_ENABLED 0x01
#define MP_INT_VECTORED   0 // interrupt type: an ordinary vectored interrupt

static void PRINTF_LIKE(2, 3) why(struct machine_tables *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(t->mp_why, sizeof(t->mp_why), fmt, ap);
    va_end(ap);
}

// The floating pointer is 16 bytes (its length byte counts 16-byte units)
// whose bytes sum to zero.
static bool
floating_check(const uint8_t *p, uint32_t avail)
{
    return avail >= MP_FLOATING_LEN && p[8] == 1 && tables_checksum(p, MP_FLOATING_LEN) == 0;
}

uint32_t
mp_find_floating(const struct phys_reader *r)
{
    uint32_t pa = 0, ebda = tables_ebda(r), top = tables_base_memory_top(r);
    if (ebda)
        pa = tables_scan(r, ebda, 1024, "_MP_", MP_FLOATING_LEN, floating_check);
    if (!pa && top)
        pa = tables_scan(r, top - 1024, 1024, "_MP_", MP_FLOATING_LEN, floating_check);
    if (!pa)
        pa = tables_scan(r, 0xF0000, 0x10000, "_MP_", MP_FLOATING_LEN, floating_check);
    return pa;
}

// A default configuration (MP spec chapter 5): two CPUs with APIC ids 0
// and 1, the APICs at their standard addresses, the timer's IRQ 0 on the
// I/O APIC's input 2.
static bool
mp_default(struct machine_tables *t, uint8_t config)
{
    if (config > 7) {
        why(t, "the MP floating pointer names default configuration %u (the spec has 1-7)", config);
        return false;
    }
    t->mp_default = config;
    t->lapic_phys = MP_DEFAULT_LAPIC;
    tables_add_cpu(t, 0);
    tables_add_cpu(t, 1);
    tables_add_ioapic(t, 2, MP_DEFAULT_IOAPIC, 0);
    tables_add_override(t, 0, 0, 2, 0);
    return true;
}

// The length of each base-table entry type.
static uint32_t
entry_len(uint8_t type)
{
    return type == MP_PROCESSOR ? 20 : type <= MP_LOCAL_INTERRUPT ? 8 : 0;
}

static bool
mp_config(const struct phys_reader *r, struct machine_tables *t, uint32_t pa)
{
    const uint8_t *h =
        pa && pa <= UINT32_MAX - MP_HEADER_LEN ? r->map(r->ctx, pa, MP_HEADER_LEN) : NULL;
    if (!h || memcmp(h, "PCMP", 4) != 0) {
        why(t, "the MP floating pointer leads to %#x, which holds no configuration table", pa);
        return false;
    }
    uint32_t len = rd16(h + 4);
    if (len < MP_HEADER_LEN || len - 1 > UINT32_MAX - pa) {
        why(t, "the MP configuration table at %#x says it is %u bytes long", pa, len);
        return false;
    }
    const uint8_t *c = r->map(r->ctx, pa, len);
    if (!c) {
        why(t, "the MP configuration table at %#x: its %u bytes cannot be mapped", pa, len);
        return false;
    }
    if (tables_checksum(c, len) != 0) {
        why(t, "the MP configuration table at %#x (%u bytes) has a bad checksum", pa, len);
        return false;
    }
    t->table_phys = pa;
    t->lapic_phys = rd32(c + 36);
    uint32_t count = rd16(c + 34);
    bool isa[256] = { false };
    bool first_ioapic_seen = false;
    uint8_t first_ioapic = 0;
    // I/O interrupt entries may come before the buses and I/O APICs they
    // name, so they are read in a second pass.
    for (int pass = 0; pass < 2; pass++) {
        uint32_t off = MP_HEADER_LEN;
        for (uint32_t i = 0; i < count; i++) {
            if (off >= len) {
                why(t,
                    "the MP configuration table at %#x promises %u entries, its %u bytes "
                    "hold %u",
                    pa, count, len, i);
                return false;
            }
            const uint8_t *e = c + off;
            uint32_t elen = entry_len(e[0]);
            if (elen == 0) {
                why(t,
                    "the MP configuration table at %#x: entry %u (offset %u) has the "
                    "unknown type %u",
                    pa, i, off, e[0]);
                return false;
            }
            if (elen > len - off) {
                why(t,
                    "the MP configuration table at %#x: entry %u (type %u, offset %u) runs "
                    "past its %u bytes",
                    pa, i, e[0], off, len);
                return false;
            }
            off += elen;
            if (pass == 0) {
                if (e[0] == MP_PROCESSOR) {
                    if (!(e[3] & MP_CPU_ENABLED)) {
                        t->cpus_disabled++;
                    } else {
                        tables_add_cpu(t, e[1]);
                        if (e[3] & MP_CPU_BSP)
                            t->mp_bsp_apic_id = e[1];
                    }
                } else if (e[0] == MP_BUS) {
                    isa[e[1]] = memcmp(e + 2, "ISA   ", 6) == 0;
                } else if (e[0] == MP_IOAPIC && (e[3] & MP_IOAPIC_ENABLED)) {
                    // The tables give no GSI bases: the first I/O APIC's
                    // inputs are GSIs 0..., the others' are not known.
                    if (!first_ioapic_seen) {
                        first_ioapic_seen = true;
                        first_ioapic = e[1];
                    }
                    tables_add_ioapic(t, e[1], rd32(e + 4), t->ioapic_count ? UINT32_MAX : 0);
                }
            } else if (e[0] == MP_IO_INTERRUPT && e[1] == MP_INT_VECTORED && isa[e[4]]) {
                uint16_t flags = rd16(e + 2);
                uint8_t irq = e[5], dest = e[6], input = e[7];
                if (!first_ioapic_seen || dest != first_ioapic)
                    t->mp_irqs_elsewhere++;
                else if (input != irq || flags != 0)
                    tables_add_override(t, 0, irq, input, flags);
            }
        }
    }
    if (t->cpu_count == 0) {
        why(t, "the MP configuration table at %#x lists no enabled CPU", pa);
        return false;
    }
    if (t->lapic_phys == 0 || (t->lapic_phys & 0xFFF)) {
        why(t, "the MP configuration table at %#x gives the local APIC address %#x", pa,
            t->lapic_phys);
        return false;
    }
    return true;
}

bool
mp_read(const struct phys_reader *r, struct machine_tables *t)
{
    uint32_t fp_pa = mp_find_floating(r);
    const uint8_t *fp = fp_pa ? r->map(r->ctx, fp_pa, MP_FLOATING_LEN) : NULL;
    if (!fp) {
        why(t, "no MP floating pointer with a good checksum in the EBDA, the top KiB of base "
               "memory or 0xF0000-0xFFFFF");
        return false;
    }
    t->root_phys = fp_pa;
    t->imcr = (fp[12] & MP_FEATURE2_IMCR) != 0;
    if (fp[11] != 0)
        return mp_default(t, fp[11]);
    return mp_config(r, t, rd32(fp + 4));
}
