// The firmware's tables of CPUs and interrupt controllers: ACPI first, the
// MP tables as the fallback, and what both parsers share
// (include/smp/tables.h).
#include "smp/tables.h"
#include "lib/format.h"
#include "lib/string.h"

#define BDA_EBDA_SEGMENT   0x40E // word: the EBDA's real-mode segment
#define BDA_BASE_MEMORY_KB 0x413 // word: KiB of base memory
#define BASE_MEMORY_END    0xA0000u

uint8_t
tables_checksum(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

void
tables_add_cpu(struct machine_tables *t, uint8_t apic_id)
{
    for (unsigned i = 0; i < t->cpu_count; i++) {
        if (t->cpu_apic_ids[i] == apic_id) {
            t->cpus_duplicate++;
            return;
        }
    }
    if (t->cpu_count == SMP_MAX_CPUS) {
        t->cpus_dropped++;
        return;
    }
    t->cpu_apic_ids[t->cpu_count++] = apic_id;
}

void
tables_add_ioapic(struct machine_tables *t, uint8_t id, uint32_t phys, uint32_t gsi_base)
{
    if (t->ioapic_count == SMP_MAX_IOAPICS) {
        t->ioapics_dropped++;
        return;
    }
    // Field by field: a struct assignment may copy a temporary's padding,
    // and two reads of the same tables must compare equal byte for byte.
    struct ioapic_info *io = &t->ioapics[t->ioapic_count++];
    io->id = id;
    io->phys = phys;
    io->gsi_base = gsi_base;
}

void
tables_add_override(struct machine_tables *t, uint8_t bus, uint8_t irq, uint32_t gsi,
                    uint16_t flags)
{
    if (t->override_count == SMP_MAX_OVERRIDES) {
        t->overrides_dropped++;
        return;
    }
    struct irq_override *o = &t->overrides[t->override_count++];
    o->bus = bus;
    o->irq = irq;
    o->gsi = gsi;
    o->flags = flags;
}

void
tables_clear_found(struct machine_tables *t)
{
    char acpi_why[TABLES_WHY_MAX], mp_why[TABLES_WHY_MAX];
    memcpy(acpi_why, t->acpi_why, sizeof(acpi_why));
    memcpy(mp_why, t->mp_why, sizeof(mp_why));
    memset(t, 0, sizeof(*t));
    t->mp_bsp_apic_id = -1;
    memcpy(t->acpi_why, acpi_why, sizeof(acpi_why));
    memcpy(t->mp_why, mp_why, sizeof(mp_why));
}

uint32_t
tables_scan(const struct phys_reader *r, uint32_t pa, uint32_t len, const char *sig, uint32_t size,
            bool (*check)(const uint8_t *p, uint32_t avail))
{
    const uint8_t *area = r->map(r->ctx, pa, len);
    if (!area)
        return 0;
    size_t sig_len = strlen(sig);
    for (uint32_t off = 0; off + size <= len; off += 16)
        if (memcmp(area + off, sig, sig_len) == 0 && check(area + off, len - off))
            return pa + off;
    return 0;
}

uint32_t
tables_ebda(const struct phys_reader *r)
{
    const uint8_t *bda = r->map(r->ctx, BDA_EBDA_SEGMENT, 2);
    if (!bda)
        return 0;
    uint32_t base = (uint32_t)rd16(bda) << 4;
    // An EBDA lies in base memory, above the BIOS data area, with room for
    // the KiB that is searched.
    if (base < 0x500 || base + 1024 > BASE_MEMORY_END)
        return 0;
    return base;
}

uint32_t
tables_base_memory_top(const struct phys_reader *r)
{
    const uint8_t *bda = r->map(r->ctx, BDA_BASE_MEMORY_KB, 2);
    if (!bda)
        return 0;
    uint32_t top = (uint32_t)rd16(bda) << 10;
    return top >= 2048 && top <= BASE_MEMORY_END ? top : 0;
}

bool
machine_tables_read(const struct phys_reader *r, struct machine_tables *t)
{
    memset(t, 0, sizeof(*t));
    t->mp_bsp_apic_id = -1;
    if (acpi_read(r, t)) {
        t->source = TABLES_ACPI;
        return true;
    }
    tables_clear_found(t);
    if (mp_read(r, t)) {
        t->source = TABLES_MP;
        return true;
    }
    tables_clear_found(t);
    return false;
}
