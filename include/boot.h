/* What the boot loader told us, copied out of the Multiboot structures. */
#ifndef TANDEM_BOOT_H
#define TANDEM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_MAX_REGIONS  32
#define BOOT_MAX_MODULES  64
#define BOOT_CMDLINE_MAX  256
#define BOOT_NAME_MAX     64
// The boot loader's command line is read this far, at most, for its words
// and its length; cmdline keeps only its first BOOT_CMDLINE_MAX - 1 bytes.
#define BOOT_CMDLINE_SCAN 65536

struct boot_region {
    uint64_t base, length;
    uint32_t type; // 1 = usable RAM (Multiboot's "available")
};

struct boot_module {
    uint32_t start, end;      // physical, end exclusive
    char name[BOOT_NAME_MAX]; // the module's command line (its name)
};

struct boot_info {
    char cmdline[BOOT_CMDLINE_MAX]; // the first BOOT_CMDLINE_MAX - 1 bytes of it
    uint32_t cmdline_length;        // the whole command line's length (capped at BOOT_CMDLINE_SCAN)
    bool cmdline_cut;               // longer than cmdline holds: the boot summary says so
    struct boot_region regions[BOOT_MAX_REGIONS];
    unsigned region_count;
    struct boot_module modules[BOOT_MAX_MODULES];
    unsigned module_count;
    unsigned modules_dropped; // modules past BOOT_MAX_MODULES, said in the boot summary
    uint32_t mem_lower_kb, mem_upper_kb;
    uint32_t info_phys_start, info_phys_end; // span of the Multiboot structures
    bool test_mode;                          // `test` or `test=SUITE` on the command line
    bool bench_mode;                         // `bench`: run the benchmarks (make bench)
    bool bench_cpus;                         // `bench=cpus`: only the throughput on several CPUs
    bool kfast_strict;                       // `kfast=strict`: arenas refuse instead of spilling
    bool noioapic;                           // `noioapic`: the 8259 delivers the device IRQs
    char test_suite[BOOT_NAME_MAX];          // empty: every suite
};

extern struct boot_info g_boot;

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

// Parses a Multiboot memory map (the raw entries as GRUB lays them out) into
// regions; returns how many were stored.  Entries past max are dropped.
unsigned multiboot_parse_mmap(const void *mmap, uint32_t length, struct boot_region *regions,
                              unsigned max);
// Copies what Tandem needs from the Multiboot info at physical address phys.
void multiboot_read(uint32_t phys);
// Sets test_mode and test_suite from the command line's words.
void boot_parse_cmdline(struct boot_info *b);
// Takes the boot loader's command line full (NUL-terminated): keeps its
// first BOOT_CMDLINE_MAX - 1 bytes in cmdline, notes its length and whether
// it was cut, and reads the words from all of it (up to BOOT_CMDLINE_SCAN
// bytes), so a word past the cut - a trailing `test` - still counts.
void boot_take_cmdline(struct boot_info *b, const char *full);

// The first C the kernel runs (boot/multiboot.asm calls it, on the boot
// thread's block): the init order, in kernel/main.c.
void kmain(uint32_t magic, uint32_t multiboot_phys);

#endif
