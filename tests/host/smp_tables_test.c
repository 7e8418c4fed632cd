// Host tests for the firmware's tables of CPUs (kernel/smp/tables.c,
// acpi.c, mptable.c): ACPI's RSDP, RSDT, XSDT and MADT, and the MP tables,
// built as byte arrays in a fake physical memory.
//
// The fake memory maps like the kernel's reader must be used: every map
// returns a fresh heap copy of exactly the bytes asked for, so a parser that
// reads one byte past what it mapped trips AddressSanitizer, and a range
// that is not all inside the fake memory cannot be mapped.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smp/tables.h"

// ---- The fake physical memory ----------------------------------------------

#define LOW_SIZE  0x100000u   // base memory, the EBDA, the BIOS area
#define HIGH_BASE 0x07FE0000u // where QEMU puts its ACPI tables (128 MiB guest)
#define HIGH_SIZE 0x10000u
#define EBDA      0x9FC00u
#define MAX_MAPS  4096

static uint8_t *s_low, *s_high;
static void *s_maps[MAX_MAPS];
static unsigned s_map_count;

static uint8_t *
at(uint32_t pa)
{
    if (pa < LOW_SIZE)
        return s_low + pa;
    assert_true(pa >= HIGH_BASE && pa < HIGH_BASE + HIGH_SIZE);
    return s_high + (pa - HIGH_BASE);
}

static const void *
fake_map(void *ctx, uint32_t pa, uint32_t len)
{
    (void)ctx;
    uint64_t end = (uint64_t)pa + len;
    const uint8_t *src = NULL;
    if (end <= LOW_SIZE)
        src = s_low + pa;
    else if (pa >= HIGH_BASE && end <= (uint64_t)HIGH_BASE + HIGH_SIZE)
        src = s_high + (pa - HIGH_BASE);
    if (!src || len == 0)
        return NULL;
    assert_true(s_map_count < MAX_MAPS);
    void *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, src, len);
    s_maps[s_map_count++] = copy;
    return copy;
}

static const struct phys_reader s_reader = { fake_map, NULL };

static void
free_maps(void)
{
    for (unsigned i = 0; i < s_map_count; i++)
        free(s_maps[i]);
    s_map_count = 0;
}

static int
setup(void **state)
{
    (void)state;
    s_low = calloc(1, LOW_SIZE);
    s_high = calloc(1, HIGH_SIZE);
    assert_non_null(s_low);
    assert_non_null(s_high);
    // The BIOS data area: the EBDA's segment and 639 KiB of base memory.
    s_low[0x40E] = (EBDA >> 4) & 0xFF;
    s_low[0x40F] = EBDA >> 12;
    s_low[0x413] = 639 & 0xFF;
    s_low[0x414] = 639 >> 8;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    free_maps();
    free(s_low);
    free(s_high);
    return 0;
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)v);
    wr16(p + 2, (uint16_t)(v >> 16));
}

static void
wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

// Sets the byte at sum_at so that the len bytes at p sum to zero.
static void
fix_checksum(uint8_t *p, uint32_t len, uint32_t sum_at)
{
    p[sum_at] = 0;
    p[sum_at] = (uint8_t)(0x100 - tables_checksum(p, len));
}

// ---- ACPI builders ----------------------------------------------------------

static void
put_rsdp(uint32_t pa, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
    uint8_t *p = at(pa);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "TANDEM", 6);
    p[15] = revision;
    wr32(p + 16, rsdt);
    fix_checksum(p, 20, 8);
    if (revision >= 2) {
        wr32(p + 20, 36);
        wr64(p + 24, xsdt);
        fix_checksum(p, 36, 32);
    }
}

// A system description table: the header (length len), then the body.
static uint8_t *
put_sdt(uint32_t pa, const char *sig, uint32_t len)
{
    uint8_t *p = at(pa);
    memcpy(p, sig, 4);
    wr32(p + 4, len);
    p[8] = 1;
    memcpy(p + 10, "TANDEM", 6);
    return p;
}

static void
sdt_fix(uint32_t pa)
{
    uint8_t *p = at(pa);
    fix_checksum(p, rd32(p + 4), 9);
}

static void
put_rsdt(uint32_t pa, const uint32_t *tables, unsigned n)
{
    uint8_t *p = put_sdt(pa, "RSDT", 36 + 4 * n);
    for (unsigned i = 0; i < n; i++)
        wr32(p + 36 + 4 * i, tables[i]);
    sdt_fix(pa);
}

static void
put_xsdt(uint32_t pa, const uint64_t *tables, unsigned n)
{
    uint8_t *p = put_sdt(pa, "XSDT", 36 + 8 * n);
    for (unsigned i = 0; i < n; i++)
        wr64(p + 36 + 8 * i, tables[i]);
    sdt_fix(pa);
}

// A MADT built entry by entry.
struct madt {
    uint32_t pa;
    uint32_t len;
};

static struct madt
madt_begin(uint32_t pa, uint32_t lapic, uint32_t flags)
{
    uint8_t *p = put_sdt(pa, "APIC", 44);
    wr32(p + 36, lapic);
    wr32(p + 40, flags);
    return (struct madt){ pa, 44 };
}

static uint8_t *
madt_entry(struct madt *m, uint8_t type, uint8_t len)
{
    uint8_t *e = at(m->pa + m->len);
    memset(e, 0, len);
    e[0] = type;
    e[1] = len;
    m->len += len;
    return e;
}

static void
madt_lapic(struct madt *m, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    uint8_t *e = madt_entry(m, 0, 8);
    e[2] = uid;
    e[3] = apic_id;
    wr32(e + 4, flags);
}

static void
madt_ioapic(struct madt *m, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    uint8_t *e = madt_entry(m, 1, 12);
    e[2] = id;
    wr32(e + 4, addr);
    wr32(e + 8, gsi_base);
}

static void
madt_override(struct madt *m, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t *e = madt_entry(m, 2, 10);
    e[3] = irq;
    wr32(e + 4, gsi);
    wr16(e + 8, flags);
}

static void
madt_end(struct madt *m)
{
    wr32(at(m->pa) + 4, m->len);
    sdt_fix(m->pa);
}

#define RSDP_BIOS 0xF5A40u
#define RSDT_PA   0x07FE1000u
#define XSDT_PA   0x07FE1100u
#define MADT_PA   0x07FE2000u
#define FACP_PA   0x07FE3000u

// What QEMU's pc machine gives a 4-CPU guest: the RSDP in the BIOS area,
// an RSDT with a FACP and the MADT, four enabled CPUs and one listed but
// not present, one I/O APIC and five overrides.
static struct madt
build_qemu_like(void)
{
    put_sdt(FACP_PA, "FACP", 116);
    sdt_fix(FACP_PA);
    struct madt m = madt_begin(MADT_PA, 0xFEE00000u, 1);
    for (uint8_t i = 0; i < 4; i++)
        madt_lapic(&m, i, i, 1);
    madt_lapic(&m, 4, 4, 0);
    madt_ioapic(&m, 0, 0xFEC00000u, 0);
    madt_override(&m, 0, 2, 0);
    madt_override(&m, 5, 5, 0xD);
    madt_override(&m, 9, 9, 0xD);
    madt_end(&m);
    uint32_t tables[] = { FACP_PA, MADT_PA };
    put_rsdt(RSDT_PA, tables, 2);
    put_rsdp(RSDP_BIOS, 0, RSDT_PA, 0);
    return m;
}

static struct machine_tables s_t;

static bool
read_tables(void)
{
    bool ok = machine_tables_read(&s_reader, &s_t);
    free_maps();
    return ok;
}

static void
expect_why(const char *why, const char *part)
{
    if (!strstr(why, part))
        fail_msg("reason '%s' lacks '%s'", why, part);
}

// ---- ACPI -------------------------------------------------------------------

static void
test_acpi_qemu_like(void **state)
{
    (void)state;
    build_qemu_like();
    assert_true(read_tables());
    assert_int_equal(s_t.source, TABLES_ACPI);
    assert_int_equal(s_t.root_phys, RSDT_PA);
    assert_int_equal(s_t.table_phys, MADT_PA);
    assert_false(s_t.via_xsdt);
    assert_int_equal(s_t.lapic_phys, 0xFEE00000u);
    assert_true(s_t.pcat_compat);
    assert_int_equal(s_t.cpu_count, 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(s_t.cpu_apic_ids[i], i);
    assert_int_equal(s_t.cpus_disabled, 1);
    assert_int_equal(s_t.ioapic_count, 1);
    assert_int_equal(s_t.ioapics[0].phys, 0xFEC00000u);
    assert_int_equal(s_t.ioapics[0].gsi_base, 0);
    assert_int_equal(s_t.override_count, 3);
    assert_int_equal(s_t.overrides[0].irq, 0);
    assert_int_equal(s_t.overrides[0].gsi, 2);
    assert_int_equal(s_t.overrides[1].irq, 5);
    assert_int_equal(s_t.overrides[1].flags, 0xD);
    assert_string_equal(s_t.acpi_why, "");
}

// Two reads of the same memory give the same bytes (the kernel's live test
// compares its second read with the boot's).
static void
test_read_is_repeatable(void **state)
{
    (void)state;
    build_qemu_like();
    struct machine_tables first;
    assert_true(read_tables());
    memcpy(&first, &s_t, sizeof(first));
    memset(&s_t, 0xA5, sizeof(s_t));
    assert_true(read_tables());
    assert_memory_equal(&first, &s_t, sizeof(first));
}

// The EBDA's first KiB is searched before the BIOS area.
static void
test_rsdp_in_the_ebda_first(void **state)
{
    (void)state;
    build_qemu_like();
    struct madt m = madt_begin(0x07FE4000u, 0xFEE00000u, 0);
    madt_lapic(&m, 0, 7, 1);
    madt_end(&m);
    uint32_t tables[] = { 0x07FE4000u };
    put_rsdt(0x07FE5000u, tables, 1);
    put_rsdp(EBDA + 0x10, 0, 0x07FE5000u, 0);
    assert_int_equal(acpi_find_rsdp(&s_reader), EBDA + 0x10);
    assert_true(read_tables());
    assert_int_equal(s_t.cpu_count, 1);
    assert_int_equal(s_t.cpu_apic_ids[0], 7);
}

// A signature with a bad checksum is passed over; the search goes on.
static void
test_rsdp_bad_checksum_is_skipped(void **state)
{
    (void)state;
    build_qemu_like();
    put_rsdp(0xE0000, 0, 0x07FE5000u, 0);
    at(0xE0000)[8] ^= 1;
    assert_int_equal(acpi_find_rsdp(&s_reader), RSDP_BIOS);
    assert_true(read_tables());
    assert_int_equal(s_t.cpu_count, 4);
    // The only one bad: no RSDP at all.
    at(RSDP_BIOS)[16] ^= 1;
    assert_int_equal(acpi_find_rsdp(&s_reader), 0);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "no RSDP");
}

// ACPI 2.0: the XSDT is preferred; if it or the RSDP's longer form fails,
// the RSDT serves.
static void
test_xsdt(void **state)
{
    (void)state;
    build_qemu_like();
    struct madt m = madt_begin(0x07FE4000u, 0xFEE00000u, 0);
    madt_lapic(&m, 0, 9, 1);
    madt_end(&m);
    uint64_t xtables[] = { 0x123456789000ull, FACP_PA, 0x07FE4000u };
    put_xsdt(XSDT_PA, xtables, 3);
    put_rsdp(RSDP_BIOS, 2, RSDT_PA, XSDT_PA);
    assert_true(read_tables());
    assert_true(s_t.via_xsdt);
    assert_int_equal(s_t.root_phys, XSDT_PA);
    assert_int_equal(s_t.cpu_apic_ids[0], 9);

    at(XSDT_PA)[20] ^= 0x40; // the XSDT's checksum breaks
    assert_true(read_tables());
    assert_false(s_t.via_xsdt);
    assert_int_equal(s_t.cpu_count, 4);

    sdt_fix(XSDT_PA);
    at(RSDP_BIOS)[32] ^= 1; // the RSDP's extended checksum breaks
    assert_true(read_tables());
    assert_false(s_t.via_xsdt);

    put_rsdp(RSDP_BIOS, 2, RSDT_PA, 0x100000000ull); // an XSDT above 4 GiB
    assert_true(read_tables());
    assert_false(s_t.via_xsdt);
}

static void
test_bad_table_checksums(void **state)
{
    (void)state;
    build_qemu_like();
    at(RSDT_PA)[40] ^= 0x10;
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "RSDT at 0x7fe1000 (44 bytes) has a bad checksum");
    expect_why(s_t.mp_why, "no MP floating pointer");

    build_qemu_like();
    at(MADT_PA + 50)[0] ^= 0x10;
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "APIC at 0x7fe2000");
    expect_why(s_t.acpi_why, "bad checksum");
}

// Lengths in headers that lie.
static void
test_table_lengths_that_lie(void **state)
{
    (void)state;
    struct madt m = build_qemu_like();

    // Longer than the memory that holds it.
    wr32(at(MADT_PA) + 4, HIGH_BASE + HIGH_SIZE - MADT_PA + 1);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "cannot be mapped");

    // Longer than any MADT, and long enough to wrap past 4 GiB.
    wr32(at(MADT_PA) + 4, 0xFFFFFFF0u);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "says it is 4294967280 bytes long");

    // Shorter than its own header.
    wr32(at(MADT_PA) + 4, 20);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "says it is 20 bytes long");

    // A header and fixed part only: nothing listed.
    wr32(at(MADT_PA) + 4, 44);
    sdt_fix(MADT_PA);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "lists no enabled CPU");

    // Shorter than the MADT's fixed part.
    wr32(at(MADT_PA) + 4, 40);
    sdt_fix(MADT_PA);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "shorter than its fixed part");

    // Cut in the middle of an entry: the entry runs past the table's end.
    wr32(at(MADT_PA) + 4, m.len - 3);
    sdt_fix(MADT_PA);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "with 7 left in the table");

    // An RSDT longer than believed.
    build_qemu_like();
    wr32(at(RSDT_PA) + 4, ACPI_TABLE_MAX + 1);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "RSDT at 0x7fe1000 says it is 65537 bytes long");
}

// Entry lengths that lie.
static void
test_entry_lengths_that_lie(void **state)
{
    (void)state;
    uint32_t first = MADT_PA + 44;
    build_qemu_like();
    at(first)[1] = 0;
    sdt_fix(MADT_PA);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "entry 0 (type 0, offset 44) says it is 0 bytes");

    build_qemu_like();
    at(first)[1] = 6; // a local APIC entry needs 8
    sdt_fix(MADT_PA);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "shorter than the 8 of its type");

    build_qemu_like();
    at(first)[1] = 255;
    sdt_fix(MADT_PA);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "says it is 255 bytes");

    // A stray byte after the last entry.
    struct madt m = build_qemu_like();
    m.len += 1;
    madt_end(&m);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "stray byte");
}

// Every value of every entry's length byte, with the checksum made right:
// the parse succeeds or says why, and never reads outside what it mapped
// (AddressSanitizer would stop it).
static void
test_every_entry_length(void **state)
{
    (void)state;
    struct madt m = build_qemu_like();
    for (uint32_t off = 44; off < m.len; off += at(MADT_PA + off)[1]) {
        uint8_t saved = at(MADT_PA + off)[1];
        for (unsigned len = 0; len < 256; len++) {
            at(MADT_PA + off)[1] = (uint8_t)len;
            sdt_fix(MADT_PA);
            if (!read_tables())
                assert_true(s_t.acpi_why[0] != '\0');
            else
                assert_true(s_t.cpu_count >= 1 && s_t.cpu_count <= SMP_MAX_CPUS);
        }
        at(MADT_PA + off)[1] = saved;
    }
}

// And every MADT length from nothing to past its end: a MADT cut at an
// entry's end is a shorter MADT (valid once it holds a CPU), cut anywhere
// else it is refused, and past its end the zeros that follow are an entry
// of length 0.
static void
test_every_table_length(void **state)
{
    (void)state;
    struct madt m = build_qemu_like();
    bool boundary[512] = { false };
    unsigned cpus_before[512] = { 0 };
    unsigned cpus = 0;
    for (uint32_t off = 44; off < m.len; off += at(MADT_PA + off)[1]) {
        const uint8_t *e = at(MADT_PA + off);
        cpus += e[0] == 0 && (e[4] & 1);
        boundary[off + e[1]] = true;
        cpus_before[off + e[1]] = cpus;
    }
    for (uint32_t len = 0; len < m.len + 64; len++) {
        wr32(at(MADT_PA) + 4, len);
        if (len >= 10)
            sdt_fix(MADT_PA);
        bool ok = read_tables();
        if (!ok)
            assert_true(s_t.acpi_why[0] != '\0');
        assert_true(ok == (boundary[len] && cpus_before[len] > 0));
        if (ok)
            assert_int_equal(s_t.cpu_count, cpus_before[len]);
    }
}

// Table addresses in the RSDT that cannot be mapped, or would wrap.
static void
test_rsdt_entries_out_of_reach(void **state)
{
    (void)state;
    build_qemu_like();
    uint32_t tables[] = { 0, 0xFFFFFFF0u, 0x20000000u, FACP_PA, MADT_PA };
    put_rsdt(RSDT_PA, tables, 5);
    assert_true(read_tables());
    assert_int_equal(s_t.cpu_count, 4);

    uint32_t none[] = { 0xFFFFFFF0u, FACP_PA };
    put_rsdt(RSDT_PA, none, 2);
    assert_false(read_tables());
    expect_why(s_t.acpi_why, "lists 2 tables, none of them a MADT");
}

// x2APIC entries, disabled CPUs, duplicates, and more CPUs than Tandem keeps.
static void
test_cpu_lists(void **state)
{
    (void)state;
    put_rsdp(RSDP_BIOS, 0, RSDT_PA, 0);
    uint32_t tables[] = { MADT_PA };
    put_rsdt(RSDT_PA, tables, 1);
    struct madt m = madt_begin(MADT_PA, 0xFEE00000u, 0);
    madt_lapic(&m, 0, 0, 1);
    madt_lapic(&m, 1, 0, 1);            // a duplicate
    madt_lapic(&m, 2, 2, 0);            // not enabled
    uint8_t *x = madt_entry(&m, 9, 16); // x2APIC id 5: reachable
    wr32(x + 4, 5);
    wr32(x + 8, 1);
    x = madt_entry(&m, 9, 16); // x2APIC id 300: not
    wr32(x + 4, 300);
    wr32(x + 8, 1);
    madt_entry(&m, 4, 6);    // a local APIC NMI: skipped
    madt_entry(&m, 0x7F, 3); // an unknown type: skipped
    for (unsigned i = 0; i < SMP_MAX_CPUS + 3; i++)
        madt_lapic(&m, (uint8_t)(10 + i), (uint8_t)(10 + i), 1);
    madt_end(&m);
    assert_true(read_tables());
    assert_int_equal(s_t.cpu_count, SMP_MAX_CPUS);
    assert_int_equal(s_t.cpu_apic_ids[0], 0);
    assert_int_equal(s_t.cpu_apic_ids[1], 5);
    assert_int_equal(s_t.cpus_duplicate, 1);
    assert_int_equal(s_t.cpus_disabled, 1);
    assert_int_equal(s_t.cpus_x2apic, 1);
    assert_int_equal(s_t.cpus_dropped, 5);
}

// The local APIC address override (type 5), and one Tandem cannot reach.
static void
test_lapic_address_override(void **state)
{
    (void)state;
    put_rsdp(RSDP_BIOS, 0, RSDT_PA, 0);
    uint32_t tables[] = { MADT_PA };
    put_rsdt(RSDT_PA, tables, 1);
    struct madt m = madt_begin(MADT_PA, 0xFEE00000u, 0);
    madt_lapic(&m, 0, 0, 1);
    wr64(madt_entry(&m, 5, 12) + 4, 0xFED00000u);
    madt_end(&m);
    assert_true(read_tables());
    assert_int_equal(s_t.lapic_phys, 0xFED00000u);

    wr64(at(MADT_PA + 52) + 4, 0x1FEE00000ull);
    sdt_fix(MADT_PA);
    assert_true(read_tables());
    assert_int_equal(s_t.lapic_phys, 0xFEE00000u);
}

// ---- MP tables --------------------------------------------------------------

#define MP_CONFIG 0xF6000u

static void
put_floating(uint32_t pa, uint32_t config, uint8_t feature1, uint8_t feature2)
{
    uint8_t *p = at(pa);
    memset(p, 0, 16);
    memcpy(p, "_MP_", 4);
    wr32(p + 4, config);
    p[8] = 1;
    p[9] = 4;
    p[11] = feature1;
    p[12] = feature2;
    fix_checksum(p, 16, 10);
}

struct mpc {
    uint32_t pa, len;
    uint16_t count;
};

static struct mpc
mpc_begin(uint32_t pa, uint32_t lapic)
{
    uint8_t *p = at(pa);
    memset(p, 0, 44);
    memcpy(p, "PCMP", 4);
    p[6] = 4;
    memcpy(p + 8, "TANDEM  ", 8);
    wr32(p + 36, lapic);
    return (struct mpc){ pa, 44, 0 };
}

static uint8_t *
mpc_entry(struct mpc *c, uint8_t type, uint32_t len)
{
    uint8_t *e = at(c->pa + c->len);
    memset(e, 0, len);
    e[0] = type;
    c->len += len;
    c->count++;
    return e;
}

static void
mpc_cpu(struct mpc *c, uint8_t id, uint8_t flags)
{
    uint8_t *e = mpc_entry(c, 0, 20);
    e[1] = id;
    e[2] = 0x14;
    e[3] = flags;
}

static void
mpc_bus(struct mpc *c, uint8_t id, const char *type)
{
    uint8_t *e = mpc_entry(c, 1, 8);
    e[1] = id;
    memcpy(e + 2, type, 6);
}

static void
mpc_ioapic(struct mpc *c, uint8_t id, uint32_t addr)
{
    uint8_t *e = mpc_entry(c, 2, 8);
    e[1] = id;
    e[2] = 0x11;
    e[3] = 1;
    wr32(e + 4, addr);
}

static void
mpc_irq(struct mpc *c, uint16_t flags, uint8_t bus, uint8_t irq, uint8_t ioapic, uint8_t input)
{
    uint8_t *e = mpc_entry(c, 3, 8);
    wr16(e + 2, flags);
    e[4] = bus;
    e[5] = irq;
    e[6] = ioapic;
    e[7] = input;
}

static void
mpc_end(struct mpc *c)
{
    uint8_t *p = at(c->pa);
    wr16(p + 4, (uint16_t)c->len);
    wr16(p + 34, c->count);
    fix_checksum(p, c->len, 7);
}

// What SeaBIOS builds: two CPUs (the second the boot processor), an ISA
// and a PCI bus, an I/O APIC, ISA IRQs 0-3 (0 on input 2, 3 level-triggered)
// and a PCI interrupt.  An I/O interrupt entry comes before its bus.
static struct mpc
build_mp(uint32_t floating)
{
    struct mpc c = mpc_begin(MP_CONFIG, 0xFEE00000u);
    mpc_irq(&c, 0, 1, 1, 4, 1);
    mpc_cpu(&c, 0, 1);
    mpc_cpu(&c, 1, 3);
    mpc_cpu(&c, 2, 0);
    mpc_bus(&c, 0, "PCI   ");
    mpc_bus(&c, 1, "ISA   ");
    mpc_ioapic(&c, 4, 0xFEC00000u);
    mpc_irq(&c, 0, 1, 0, 4, 2);
    mpc_irq(&c, 0xF, 1, 3, 4, 3);
    mpc_irq(&c, 0xF, 0, 8, 4, 16);
    mpc_end(&c);
    put_floating(floating, MP_CONFIG, 0, 0x80);
    return c;
}

static void
test_mp_tables(void **state)
{
    (void)state;
    build_mp(0xF5B00);
    assert_int_equal(mp_find_floating(&s_reader), 0xF5B00);
    assert_true(read_tables());
    assert_int_equal(s_t.source, TABLES_MP);
    expect_why(s_t.acpi_why, "no RSDP");
    assert_int_equal(s_t.root_phys, 0xF5B00);
    assert_int_equal(s_t.table_phys, MP_CONFIG);
    assert_true(s_t.imcr);
    assert_int_equal(s_t.lapic_phys, 0xFEE00000u);
    assert_int_equal(s_t.cpu_count, 2);
    assert_int_equal(s_t.cpu_apic_ids[1], 1);
    assert_int_equal(s_t.mp_bsp_apic_id, 1);
    assert_int_equal(s_t.cpus_disabled, 1);
    assert_int_equal(s_t.ioapic_count, 1);
    assert_int_equal(s_t.ioapics[0].id, 4);
    assert_int_equal(s_t.override_count, 2);
    assert_int_equal(s_t.overrides[0].irq, 0);
    assert_int_equal(s_t.overrides[0].gsi, 2);
    assert_int_equal(s_t.overrides[1].irq, 3);
    assert_int_equal(s_t.overrides[1].flags, 0xF);
}

// The floating pointer is looked for in the EBDA, the top KiB of base
// memory and the BIOS area; ACPI wins over it when both are there.
static void
test_mp_search_areas(void **state)
{
    (void)state;
    build_mp(EBDA + 0x20);
    assert_int_equal(mp_find_floating(&s_reader), EBDA + 0x20);
    memset(at(EBDA + 0x20), 0, 16);
    put_floating(639 * 1024 - 1024 + 0x30, MP_CONFIG, 0, 0);
    assert_int_equal(mp_find_floating(&s_reader), 639 * 1024 - 1024 + 0x30);
    build_qemu_like();
    assert_true(read_tables());
    assert_int_equal(s_t.source, TABLES_ACPI);
}

static void
test_mp_default_configuration(void **state)
{
    (void)state;
    put_floating(0xF5B00, 0, 5, 0);
    assert_true(read_tables());
    assert_int_equal(s_t.source, TABLES_MP);
    assert_int_equal(s_t.mp_default, 5);
    assert_int_equal(s_t.table_phys, 0);
    assert_int_equal(s_t.cpu_count, 2);
    assert_int_equal(s_t.lapic_phys, 0xFEE00000u);
    assert_int_equal(s_t.ioapics[0].phys, 0xFEC00000u);
    put_floating(0xF5B00, 0, 9, 0);
    assert_false(read_tables());
    expect_why(s_t.mp_why, "default configuration 9");
}

static void
test_mp_bad_checksums(void **state)
{
    (void)state;
    build_mp(0xF5B00);
    at(0xF5B00)[4] ^= 1; // the floating pointer's
    assert_int_equal(mp_find_floating(&s_reader), 0);
    assert_false(read_tables());
    expect_why(s_t.mp_why, "no MP floating pointer");

    build_mp(0xF5B00);
    at(MP_CONFIG + 50)[0] ^= 1; // the configuration table's
    assert_false(read_tables());
    expect_why(s_t.mp_why, "bad checksum");
}

static void
test_mp_lengths_that_lie(void **state)
{
    (void)state;
    struct mpc c = build_mp(0xF5B00);
    uint8_t *h = at(MP_CONFIG);

    wr16(h + 4, 40); // shorter than its header
    assert_false(read_tables());
    expect_why(s_t.mp_why, "says it is 40 bytes long");

    wr16(h + 4, 0xFFFF);                       // past the end of memory
    mpc_end(&(struct mpc){ MP_CONFIG, 0, 0 }); // (no valid checksum possible: unmappable first)
    wr16(h + 4, (uint16_t)(LOW_SIZE - MP_CONFIG + 1));
    assert_false(read_tables());
    expect_why(s_t.mp_why, "cannot be mapped");

    c = build_mp(0xF5B00);
    wr16(h + 34, (uint16_t)(c.count + 1)); // one entry more than the bytes hold
    fix_checksum(h, c.len, 7);
    assert_false(read_tables());
    expect_why(s_t.mp_why, "promises 11 entries");

    c = build_mp(0xF5B00);
    wr16(h + 4, (uint16_t)(c.len - 4)); // the last entry cut short
    fix_checksum(h, c.len - 4, 7);
    assert_false(read_tables());
    expect_why(s_t.mp_why, "runs past its");

    c = build_mp(0xF5B00);
    at(MP_CONFIG + 44)[0] = 9; // an entry type the spec does not have
    fix_checksum(h, c.len, 7);
    assert_false(read_tables());
    expect_why(s_t.mp_why, "unknown type 9");
}

// Every value of the configuration table's length and count: a result or a
// reason, and no read outside what was mapped.  Bytes past the counted
// entries are ignored, so any length that holds them all is accepted.
static void
test_mp_every_length(void **state)
{
    (void)state;
    struct mpc c = build_mp(0xF5B00);
    uint8_t *h = at(MP_CONFIG);
    for (uint32_t len = 0; len < c.len + 64; len++) {
        wr16(h + 4, (uint16_t)len);
        if (len > 7)
            fix_checksum(h, len, 7);
        assert_true(read_tables() == (len >= c.len));
    }
    wr16(h + 4, (uint16_t)c.len);
    for (uint32_t count = 0; count < 40; count++) {
        wr16(h + 34, (uint16_t)count);
        fix_checksum(h, c.len, 7);
        bool ok = read_tables();
        assert_true(ok ? s_t.cpu_count >= 1 : s_t.mp_why[0] != '\0');
    }
}

static void
test_nothing_at_all(void **state)
{
    (void)state;
    assert_false(read_tables());
    assert_int_equal(s_t.source, TABLES_NONE);
    assert_int_equal(s_t.cpu_count, 0);
    expect_why(s_t.acpi_why, "no RSDP");
    expect_why(s_t.mp_why, "no MP floating pointer");
}

// An implausible EBDA segment is not searched.
static void
test_ebda_pointer_checked(void **state)
{
    (void)state;
    assert_int_equal(tables_ebda(&s_reader), EBDA);
    s_low[0x40E] = 0xFF;
    s_low[0x40F] = 0xFF; // 0xFFFF0: in the BIOS, not base memory
    assert_int_equal(tables_ebda(&s_reader), 0);
    s_low[0x40E] = 0;
    s_low[0x40F] = 0;
    assert_int_equal(tables_ebda(&s_reader), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_acpi_qemu_like),
        T(test_read_is_repeatable),
        T(test_rsdp_in_the_ebda_first),
        T(test_rsdp_bad_checksum_is_skipped),
        T(test_xsdt),
        T(test_bad_table_checksums),
        T(test_table_lengths_that_lie),
        T(test_entry_lengths_that_lie),
        T(test_every_entry_length),
        T(test_every_table_length),
        T(test_rsdt_entries_out_of_reach),
        T(test_cpu_lists),
        T(test_lapic_address_override),
        T(test_mp_tables),
        T(test_mp_search_areas),
        T(test_mp_default_configuration),
        T(test_mp_bad_checksums),
        T(test_mp_lengths_that_lie),
        T(test_mp_every_length),
        T(test_nothing_at_all),
        T(test_ebda_pointer_checked),
    };
    return cmocka_run_group_tests_name("smp_tables", tests, NULL, NULL);
}
