// Reads the Multiboot 1 information structure (Multiboot spec 0.6.96, 3.3).
#include "boot.h"
#include "compiler.h"
#include "config.h"
#include "lib/string.h"

struct mb_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} PACKED;

struct mb_module {
    uint32_t mod_start, mod_end, string, reserved;
} PACKED;

struct mb_mmap_entry {
    uint32_t size; // of the rest of the entry: the next is at +size+4
    uint64_t base, length;
    uint32_t type;
} PACKED;

#define MB_INFO_MEMORY  (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS    (1u << 3)
#define MB_INFO_MMAP    (1u << 6)

struct boot_info g_boot;

unsigned
multiboot_parse_mmap(const void *mmap, uint32_t length, struct boot_region *regions, unsigned max)
{
    const uint8_t *p = mmap, *end = p + length;
    unsigned n = 0;
    // Each entry must fit entirely: a truncated or zero-sized one ends the walk.
    while (p + sizeof(struct mb_mmap_entry) <= end && n < max) {
        const struct mb_mmap_entry *e = (const void *)p;
        if (e->size < sizeof(*e) - sizeof(e->size))
            break;
        regions[n++] = (struct boot_region){ e->base, e->length, e->type };
        p += e->size + sizeof(e->size);
    }
    return n;
}

// Sets the modes from the words of s[0, len).
static void
parse_words(struct boot_info *b, const char *s, size_t len)
{
    b->test_mode = false;
    b->bench_mode = false;
    b->bench_cpus = false;
    b->kfast_strict = false;
    b->noioapic = false;
    b->test_suite[0] = '\0';
    const char *end = s + len;
    while (s < end) {
        while (s < end && *s == ' ')
            s++;
        const char *word = s;
        while (s < end && *s != ' ')
            s++;
        size_t len = (size_t)(s - word);
        if (len == 12 && strncmp(word, "kfast=strict", 12) == 0) {
            b->kfast_strict = true;
        } else if (len == 8 && strncmp(word, "noioapic", 8) == 0) {
            b->noioapic = true;
        } else if (len == 5 && strncmp(word, "bench", 5) == 0) {
            b->bench_mode = true;
        } else if (len == 10 && strncmp(word, "bench=cpus", 10) == 0) {
            b->bench_mode = b->bench_cpus = true;
        } else if (len == 4 && strncmp(word, "test", 4) == 0) {
            b->test_mode = true;
        } else if (len > 5 && strncmp(word, "test=", 5) == 0) {
            b->test_mode = true;
            size_t n = len - 5 < sizeof(b->test_suite) - 1 ? len - 5 : sizeof(b->test_suite) - 1;
            memcpy(b->test_suite, word + 5, n);
            b->test_suite[n] = '\0';
        }
    }
}

void
boot_parse_cmdline(struct boot_info *b)
{
    parse_words(b, b->cmdline, strlen(b->cmdline));
}

void
boot_take_cmdline(struct boot_info *b, const char *full)
{
    size_t len = strnlen(full, BOOT_CMDLINE_SCAN);
    size_t kept = len < sizeof(b->cmdline) - 1 ? len : sizeof(b->cmdline) - 1;
    memcpy(b->cmdline, full, kept);
    b->cmdline[kept] = '\0';
    b->cmdline_length = (uint32_t)len;
    b->cmdline_cut = kept < len;
    parse_words(b, full, len);
}

// A module's name is the last path component of the last word of its
// command line: GRUB gives "init" for `module /boot/init init`, QEMU's
// -initrd gives "build/user/bin/init init" or just the path.
static void
module_name(char *dst, const char *cmdline)
{
    const char *word = cmdline, *end = cmdline + strlen(cmdline);
    while (end > cmdline && end[-1] == ' ')
        end--;
    for (const char *p = cmdline; p < end; p++)
        if (*p == ' ' || *p == '/')
            word = p + 1;
    size_t n = (size_t)(end - word) < BOOT_NAME_MAX - 1 ? (size_t)(end - word) : BOOT_NAME_MAX - 1;
    memcpy(dst, word, n);
    dst[n] = '\0';
}

static void
span_add(uint32_t start, uint32_t len)
{
    if (start < g_boot.info_phys_start)
        g_boot.info_phys_start = start;
    if (start + len > g_boot.info_phys_end)
        g_boot.info_phys_end = start + len;
}

// Everything here is read through the early boot mapping (first 16 MiB at
// KERNEL_VMA), where boot loaders place these structures.
void
multiboot_read(uint32_t phys)
{
    const struct mb_info *mb = P2V(phys);
    g_boot.info_phys_start = phys;
    g_boot.info_phys_end = phys + sizeof(*mb);
    if (mb->flags & MB_INFO_MEMORY) {
        g_boot.mem_lower_kb = mb->mem_lower;
        g_boot.mem_upper_kb = mb->mem_upper;
    }
    if (mb->flags & MB_INFO_CMDLINE) {
        boot_take_cmdline(&g_boot, P2V(mb->cmdline));
        span_add(mb->cmdline, g_boot.cmdline_length + 1);
    } else {
        boot_take_cmdline(&g_boot, "");
    }
    if (mb->flags & MB_INFO_MMAP) {
        g_boot.region_count = multiboot_parse_mmap(P2V(mb->mmap_addr), mb->mmap_length,
                                                   g_boot.regions, BOOT_MAX_REGIONS);
        span_add(mb->mmap_addr, mb->mmap_length);
    }
    if (mb->flags & MB_INFO_MODS) {
        const struct mb_module *mods = P2V(mb->mods_addr);
        uint32_t count = mb->mods_count < BOOT_MAX_MODULES ? mb->mods_count : BOOT_MAX_MODULES;
        span_add(mb->mods_addr, mb->mods_count * sizeof(*mods));
        for (uint32_t i = 0; i < count; i++) {
            struct boot_module *m = &g_boot.modules[i];
            m->start = mods[i].mod_start;
            m->end = mods[i].mod_end;
            module_name(m->name, mods[i].string ? P2V(mods[i].string) : "");
        }
        g_boot.module_count = count;
        g_boot.modules_dropped = mb->mods_count - count;
    }
}
