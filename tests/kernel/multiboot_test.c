// Multiboot parsing: synthetic memory maps, the command line, and the real boot.
#include "boot.h"
#include "ktest.h"
#include "lib/string.h"

struct raw_entry {
    uint32_t size;
    uint64_t base, length;
    uint32_t type;
} PACKED;

KTEST(multiboot, parses_well_formed_map)
{
    struct raw_entry map[3] = {
        { 20, 0x0, 0x9FC00, 1 },
        { 20, 0x100000, 0x7EE0000, 1 },
        { 20, 0xFFFC0000, 0x40000, 2 },
    };
    struct boot_region r[4];
    KASSERT_EQ(multiboot_parse_mmap(map, sizeof(map), r, 4), 3);
    KEXPECT_UEQ(r[1].base, 0x100000);
    KEXPECT_UEQ(r[1].length, 0x7EE0000);
    KEXPECT_EQ(r[1].type, 1);
    KEXPECT_UEQ(r[2].base, 0xFFFC0000ull);
    KEXPECT_EQ(r[2].type, 2);
}

KTEST(multiboot, honours_entry_size_and_limits)
{
    // An entry may be longer than the fields we read: `size` says where the next starts.
    uint8_t buf[2 * 28] = { 0 };
    struct raw_entry e = { 24, 0x1000, 0x2000, 1 };
    memcpy(buf, &e, sizeof(e));
    e.base = 0x5000;
    memcpy(buf + 28, &e, sizeof(e));
    struct boot_region r[2];
    KASSERT_EQ(multiboot_parse_mmap(buf, sizeof(buf), r, 2), 2);
    KEXPECT_UEQ(r[1].base, 0x5000);
    KEXPECT_EQ(multiboot_parse_mmap(buf, sizeof(buf), r, 1), 1); // capped at max
}

KTEST(multiboot, stops_at_truncated_or_zero_sized_entries)
{
    struct raw_entry map[2] = { { 20, 0x0, 0x1000, 1 }, { 0, 0x2000, 0x1000, 1 } };
    struct boot_region r[2];
    KEXPECT_EQ(multiboot_parse_mmap(map, sizeof(map), r, 2), 1);        // size 0 ends it
    KEXPECT_EQ(multiboot_parse_mmap(map, sizeof(map[0]) - 1, r, 2), 0); // cut short
}

KTEST(multiboot, command_line_words)
{
    // Static: a struct boot_info is larger than a whole 4 KiB block.
    static struct boot_info b;
    memset(&b, 0, sizeof(b));
    strlcpy(b.cmdline, "/boot/tandem.elf test=heap quiet", sizeof(b.cmdline));
    boot_parse_cmdline(&b);
    KEXPECT_TRUE(b.test_mode);
    KEXPECT_STREQ(b.test_suite, "heap");
    strlcpy(b.cmdline, "tandem.elf testing", sizeof(b.cmdline));
    boot_parse_cmdline(&b);
    KEXPECT_FALSE(b.test_mode);
}

KTEST(multiboot, real_boot_information)
{
    KEXPECT_GT(g_boot.region_count, 0);
    // Every module the loader gave is kept: a dropped test_* would be a
    // suite that silently never runs.
    KEXPECT_EQ(g_boot.modules_dropped, 0);
    uint64_t usable_above_1m = 0;
    for (unsigned i = 0; i < g_boot.region_count; i++)
        if (g_boot.regions[i].type == 1 && g_boot.regions[i].base >= 0x100000)
            usable_above_1m += g_boot.regions[i].length;
    // mem_upper is the usable memory above 1 MiB up to the first hole.
    KEXPECT_UGE(usable_above_1m, (uint64_t)g_boot.mem_upper_kb * 1024);
}
