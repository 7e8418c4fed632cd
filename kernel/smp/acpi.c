// ACPI's tables, as far as bring-up needs them: the RSDP, the RSDT or XSDT,
// and the MADT (ACPI 6.5, 5.2.5-5.2.12).  Every table is mapped through the
// reader before it is read - first its 36-byte header, then the length the
// header claims - and used only if that length is plausible, the whole of
// it can be mapped and its checksum is right.
#include <stdarg.h>
#include "smp/tables.h"
#include "lib/format.h"
#include "lib/string.h"

#define RSDP_V1_LEN      20
#define RSDP_V2_LEN      36
#define RSDP_MAX_LEN     4096u
#define SDT_HEADER_LEN   36
#define MADT_FIXED_LEN   44 // the header, the local APIC address and the flags
#define MADT_PCAT_COMPAT 1u // flags: dual 8259s are present

// MADT entry types, and the shortest each may be.
enum {
    MADT_LAPIC = 0,
    MADT_IOAPIC = 1,
    MADT_OVERRIDE = 2,
    MADT_NMI_SOURCE = 3,
    MADT_LAPIC_NMI = 4,
    MADT_LAPIC_ADDRESS = 5,
    MADT_X2APIC = 9,
    MADT_X2APIC_NMI = 10,
};
#define MADT_CPU_ENABLED 1u

static void PRINTF_LIKE(2, 3) why(struct machine_tables *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(t->acpi_why, sizeof(t->acpi_why), fmt, ap);
    va_end(ap);
}

// A signature as text when it is printable, else its bytes in hex.
static const char *
sig_text(const uint8_t *p, char out[12])
{
    bool printable = true;
    for (int i = 0; i < 4; i++)
        printable &= p[i] >= 0x20 && p[i] < 0x7F;
    if (printable)
        ksnprintf(out, 12, "'%c%c%c%c'", p[0], p[1], p[2], p[3]);
    else
        ksnprintf(out, 12, "%02x%02x%02x%02x", p[0], p[1], p[2], p[3]);
    return out;
}

static bool
rsdp_check(const uint8_t *p, uint32_t avail)
{
    return avail >= RSDP_V1_LEN && tables_checksum(p, RSDP_V1_LEN) == 0;
}

uint32_t
acpi_find_rsdp(const struct phys_reader *r)
{
    uint32_t ebda = tables_ebda(r), pa = 0;
    if (ebda)
        pa = tables_scan(r, ebda, 1024, "RSD PTR ", RSDP_V1_LEN, rsdp_check);
    if (!pa)
        pa = tables_scan(r, 0xE0000, 0x20000, "RSD PTR ", RSDP_V1_LEN, rsdp_check);
    return pa;
}

// The system description table sig at pa, mapped whole and checked; NULL
// (and the reason) if it is not one.
static const uint8_t *
sdt_get(const struct phys_reader *r, struct machine_tables *t, uint32_t pa, const char *sig,
        uint32_t *len_out)
{
    char text[12];
    const uint8_t *h = NULL;
    if (pa != 0 && pa <= UINT32_MAX - SDT_HEADER_LEN)
        h = r->map(r->ctx, pa, SDT_HEADER_LEN);
    if (!h) {
        why(t, "the %s's header at %#x cannot be mapped", sig, pa);
        return NULL;
    }
    if (memcmp(h, sig, 4) != 0) {
        why(t, "%#x should hold the %s but holds %s", pa, sig, sig_text(h, text));
        return NULL;
    }
    uint32_t len = rd32(h + 4);
    if (len < SDT_HEADER_LEN || len > ACPI_TABLE_MAX || len - 1 > UINT32_MAX - pa) {
        why(t, "the %s at %#x says it is %u bytes long (believed: %u to %u)", sig, pa, len,
            SDT_HEADER_LEN, ACPI_TABLE_MAX);
        return NULL;
    }
    const uint8_t *p = r->map(r->ctx, pa, len);
    if (!p) {
        why(t, "the %s at %#x: its %u bytes cannot be mapped", sig, pa, len);
        return NULL;
    }
    if (tables_checksum(p, len) != 0) {
        why(t, "the %s at %#x (%u bytes) has a bad checksum", sig, pa, len);
        return NULL;
    }
    *len_out = len;
    return p;
}

// The MADT among the tables the RSDT (4-byte entries) or XSDT (8-byte) at pa lists.
static bool
madt_from_root(const struct phys_reader *r, struct machine_tables *t, uint32_t pa, const char *sig,
               uint32_t entry_size)
{
    uint32_t len;
    const uint8_t *root = sdt_get(r, t, pa, sig, &len);
    if (!root)
        return false;
    uint32_t n = (len - SDT_HEADER_LEN) / entry_size;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = root + SDT_HEADER_LEN + i * entry_size;
        uint64_t table = entry_size == 8 ? rd64(e) : rd32(e);
        if (table == 0 || table > UINT32_MAX - SDT_HEADER_LEN)
            continue; // nothing, or above 4 GiB: no MADT Tandem could map
        const uint8_t *h = r->map(r->ctx, (uint32_t)table, 4);
        if (!h || memcmp(h, "APIC", 4) != 0)
            continue;
        uint32_t madt_len;
        const uint8_t *madt = sdt_get(r, t, (uint32_t)table, "APIC", &madt_len);
        if (!madt)
            return false;
        t->root_phys = pa;
        t->table_phys = (uint32_t)table;
        return acpi_parse_madt(madt, madt_len, t);
    }
    why(t, "the %s at %#x lists %u tables, none of them a MADT", sig, pa, n);
    return false;
}

bool
acpi_read(const struct phys_reader *r, struct machine_tables *t)
{
    uint32_t rsdp_pa = acpi_find_rsdp(r);
    const uint8_t *rsdp = rsdp_pa ? r->map(r->ctx, rsdp_pa, RSDP_V1_LEN) : NULL;
    if (!rsdp) {
        why(t, "no RSDP with a good checksum in the EBDA or at 0xE0000-0xFFFFF");
        return false;
    }
    uint8_t revision = rsdp[15];
    uint32_t rsdt = rd32(rsdp + 16);
    // ACPI 2.0 and later: the XSDT, if the RSDP's longer form checks out
    // and it lies below 4 GiB.  Else, or if it fails, the RSDT.
    const uint8_t *v2 = revision >= 2 ? r->map(r->ctx, rsdp_pa, RSDP_V2_LEN) : NULL;
    if (v2) {
        uint32_t len = rd32(v2 + 20);
        uint64_t xsdt = rd64(v2 + 24);
        const uint8_t *whole =
            len >= RSDP_V2_LEN && len <= RSDP_MAX_LEN ? r->map(r->ctx, rsdp_pa, len) : NULL;
        if (whole && tables_checksum(whole, len) == 0 && xsdt != 0 && xsdt <= UINT32_MAX) {
            if (madt_from_root(r, t, (uint32_t)xsdt, "XSDT", 8)) {
                t->via_xsdt = true;
                return true;
            }
            tables_clear_found(t);
        }
    }
    if (rsdt == 0) {
        if (!t->acpi_why[0])
            why(t, "the RSDP at %#x points to no RSDT", rsdp_pa);
        return false;
    }
    return madt_from_root(r, t, rsdt, "RSDT", 4);
}

// The shortest length of each entry type Tandem reads; others need 2.
static uint32_t
madt_entry_min(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC: return 8;
    case MADT_IOAPIC: return 12;
    case MADT_OVERRIDE: return 10;
    case MADT_LAPIC_ADDRESS: return 12;
    case MADT_X2APIC: return 16;
    default: return 2;
    }
}

bool
acpi_parse_madt(const uint8_t *m, uint32_t len, struct machine_tables *t)
{
    uint32_t at = t->table_phys;
    if (len < MADT_FIXED_LEN) {
        why(t, "the MADT at %#x is %u bytes, shorter than its fixed part", at, len);
        return false;
    }
    t->lapic_phys = rd32(m + 36);
    t->pcat_compat = (rd32(m + 40) & MADT_PCAT_COMPAT) != 0;
    for (uint32_t off = MADT_FIXED_LEN, index = 0; off < len; index++) {
        if (len - off < 2) {
            why(t, "the MADT at %#x ends in a stray byte at offset %u", at, off);
            return false;
        }
        const uint8_t *e = m + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < 2 || elen > len - off) {
            why(t,
                "the MADT at %#x: entry %u (type %u, offset %u) says it is %u bytes, "
                "with %u left in the table",
                at, index, type, off, elen, len - off);
            return false;
        }
        if (elen < madt_entry_min(type)) {
            why(t,
                "the MADT at %#x: entry %u (type %u, offset %u) is %u bytes, shorter than "
                "the %u of its type",
                at, index, type, off, elen, madt_entry_min(type));
            return false;
        }
        switch (type) {
        case MADT_LAPIC:
            if (rd32(e + 4) & MADT_CPU_ENABLED)
                tables_add_cpu(t, e[3]);
            else
                t->cpus_disabled++;
            break;
        case MADT_X2APIC: {
            uint32_t id = rd32(e + 4);
            if (!(rd32(e + 8) & MADT_CPU_ENABLED))
                t->cpus_disabled++;
            else if (id <= 254)
                tables_add_cpu(t, (uint8_t)id);
            else
                t->cpus_x2apic++;
            break;
        }
        case MADT_IOAPIC: tables_add_ioapic(t, e[2], rd32(e + 4), rd32(e + 8)); break;
        case MADT_OVERRIDE: tables_add_override(t, e[2], e[3], rd32(e + 4), rd16(e + 8)); break;
        case MADT_LAPIC_ADDRESS: {
            uint64_t addr = rd64(e + 4);
            if (addr <= UINT32_MAX - 0xFFF) // above 4 GiB: unreachable without PAE
                t->lapic_phys = (uint32_t)addr;
            break;
        }
        default: break;
        }
        off += elen;
    }
    if (t->cpu_count == 0) {
        why(t, "the MADT at %#x lists no enabled CPU Tandem can start", at);
        return false;
    }
    if (t->lapic_phys == 0 || (t->lapic_phys & 0xFFF)) {
        why(t, "the MADT at %#x gives the local APIC address %#x", at, t->lapic_phys);
        return false;
    }
    return true;
}
