/* The firmware's description of the CPUs and interrupt controllers: ACPI's
 * MADT, or the Intel MultiProcessor Specification's tables when there is no
 * usable MADT (docs/design.md, "Bring-up").
 *
 * The parsers (kernel/smp/tables.c, acpi.c, mptable.c) read physical memory
 * only through a struct phys_reader, which maps a range before anything in
 * it is read: the kernel's maps through the direct map or a window
 * (phys_map, include/mm/paging.h), the host tests' copies each range into a
 * buffer of exactly that size, so that a read past what was mapped is an
 * AddressSanitizer error.  Nothing is trusted: every checksum is checked,
 * every length is checked against what holds it, and a table that fails is
 * not used, with the reason kept in acpi_why or mp_why. */
#ifndef TANDEM_SMP_TABLES_H
#define TANDEM_SMP_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMP_MAX_CPUS      32 // CPUs Tandem keeps; more are counted in cpus_dropped
#define SMP_MAX_IOAPICS   8
#define SMP_MAX_OVERRIDES 24
#define ACPI_TABLE_MAX    65536u // longest RSDT, XSDT or MADT believed
#define TABLES_WHY_MAX    112

// Maps len bytes of physical memory at pa for reading; NULL if it cannot.
struct phys_reader {
    const void *(*map)(void *ctx, uint32_t pa, uint32_t len);
    void *ctx;
};

enum tables_source { TABLES_NONE, TABLES_ACPI, TABLES_MP };

struct ioapic_info {
    uint8_t id;
    uint32_t phys;     // its registers
    uint32_t gsi_base; // the global system interrupt of its input 0
};

// An ISA IRQ that does not arrive on the global system interrupt of the
// same number, or not edge-triggered active-high (MADT type 2; from the MP
// tables, an ISA bus's I/O interrupt entry that says so).
struct irq_override {
    uint8_t bus; // 0: ISA
    uint8_t irq; // the bus's IRQ
    uint32_t gsi;
    uint16_t flags; // MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3
};

struct machine_tables {
    enum tables_source source;
    uint32_t root_phys;  // ACPI: the RSDT or XSDT; MP: the floating pointer
    uint32_t table_phys; // the MADT, or the MP configuration table (0: MP default)
    bool via_xsdt;       // ACPI: the MADT was found through the XSDT
    uint8_t mp_default;  // MP: the default configuration's number (feature byte 1), or 0
    bool imcr;           // MP: the IMCR is present (the PIC mode of MP spec 3.6.2.1)
    bool pcat_compat;    // ACPI: the MADT says dual 8259s are present
    uint32_t lapic_phys; // the local APICs' registers, as the table says
    uint8_t cpu_apic_ids[SMP_MAX_CPUS]; // the enabled CPUs, in table order
    unsigned cpu_count;
    int mp_bsp_apic_id;      // MP: the CPU flagged as the boot processor; -1: not said
    unsigned cpus_disabled;  // listed but not enabled (not present)
    unsigned cpus_x2apic;    // enabled, with an x2APIC id above 254 (xAPIC cannot reach)
    unsigned cpus_dropped;   // enabled, past SMP_MAX_CPUS
    unsigned cpus_duplicate; // an APIC id listed twice
    struct ioapic_info ioapics[SMP_MAX_IOAPICS];
    unsigned ioapic_count, ioapics_dropped;
    struct irq_override overrides[SMP_MAX_OVERRIDES];
    unsigned override_count, overrides_dropped;
    unsigned mp_irqs_elsewhere;    // MP: ISA IRQs on an I/O APIC but the first (not recorded)
    char acpi_why[TABLES_WHY_MAX]; // why ACPI gave nothing ("" if it was used or not looked at)
    char mp_why[TABLES_WHY_MAX];   // why the MP tables gave nothing
};

// Fills t from ACPI's MADT, else from the MP tables; false (t->source ==
// TABLES_NONE, the reasons in acpi_why and mp_why) if neither is usable.
// t is cleared first, so two reads of the same memory compare equal.
bool machine_tables_read(const struct phys_reader *r, struct machine_tables *t);

// ACPI (kernel/smp/acpi.c).  acpi_find_rsdp returns the RSDP's physical
// address (the first with a good checksum in the EBDA's first KiB, then
// 0xE0000-0xFFFFF), or 0.  acpi_read fills t from the MADT (false: the
// reason is in t->acpi_why).  acpi_parse_madt reads one MADT, already
// mapped and checksummed, of len bytes.
uint32_t acpi_find_rsdp(const struct phys_reader *r);
bool acpi_read(const struct phys_reader *r, struct machine_tables *t);
bool acpi_parse_madt(const uint8_t *madt, uint32_t len, struct machine_tables *t);

// The MP tables (kernel/smp/mptable.c): the floating pointer's address
// (EBDA's first KiB, the last KiB of base memory, 0xF0000-0xFFFFF), or 0;
// mp_read fills t (false: the reason is in t->mp_why).
uint32_t mp_find_floating(const struct phys_reader *r);
bool mp_read(const struct phys_reader *r, struct machine_tables *t);

// Helpers the parsers share (kernel/smp/tables.c).
uint8_t tables_checksum(const uint8_t *p, uint32_t len);

static inline uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

// Records an enabled CPU (counting duplicates and those past SMP_MAX_CPUS),
// an I/O APIC and an override.
void tables_add_cpu(struct machine_tables *t, uint8_t apic_id);
void tables_add_ioapic(struct machine_tables *t, uint8_t id, uint32_t phys, uint32_t gsi_base);
void tables_add_override(struct machine_tables *t, uint8_t bus, uint8_t irq, uint32_t gsi,
                         uint16_t flags);
// Empties what a parser fills (the lists and addresses), keeping the reasons.
void tables_clear_found(struct machine_tables *t);
// Scans [pa, pa + len) in 16-byte steps for a structure of size bytes whose
// first bytes are sig and that check() accepts; returns its address or 0.
uint32_t tables_scan(const struct phys_reader *r, uint32_t pa, uint32_t len, const char *sig,
                     uint32_t size, bool (*check)(const uint8_t *p, uint32_t avail));
// The EBDA's base from the BIOS data area (0x40E), or 0 if implausible;
// the base memory's top from 0x413.
uint32_t tables_ebda(const struct phys_reader *r);
uint32_t tables_base_memory_top(const struct phys_reader *r);

#endif
