// ELF32 executable validation (see include/thread/elf.h).
//
// Every field is read byte by byte as little-endian, so the image may sit at
// any alignment, and every sum of two file-supplied values is formed in 64
// bits, so no check can be defeated by 32-bit wrap-around.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "thread/elf.h"
#include "uapi/errno.h"

// The parts of the ELF32 format this file reads (System V ABI, i386 supplement).
#define EHDR_SIZE 52
#define PHDR_SIZE 32

#define EH_IDENT_CLASS   4
#define EH_IDENT_DATA    5
#define EH_IDENT_VERSION 6
#define EH_TYPE          16 // uint16
#define EH_MACHINE       18 // uint16
#define EH_VERSION       20 // uint32
#define EH_ENTRY         24 // uint32
#define EH_PHOFF         28 // uint32
#define EH_PHENTSIZE     42 // uint16
#define EH_PHNUM         44 // uint16

#define PH_TYPE   0
#define PH_OFFSET 4
#define PH_VADDR  8
#define PH_FILESZ 16
#define PH_MEMSZ  20
#define PH_FLAGS  24

#define ELFCLASS32  1
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define EM_386      3

#define PT_LOAD    1
#define PT_DYNAMIC 2
#define PT_INTERP  3

#define PF_X 1
#define PF_W 2

// Messages that name a segment, one per segment number, so that *why stays
// a static string.  A braced-initializer macro: see include/lib/list.h.
// clang-format off
#define PER_SEGMENT(text) {                                                   \
    "segment 0 " text, "segment 1 " text, "segment 2 " text, "segment 3 " text, \
    "segment 4 " text, "segment 5 " text, "segment 6 " text, "segment 7 " text }
// clang-format on

_Static_assert(ELF_MAX_SEGMENTS == 8, "PER_SEGMENT and the messages name 8 segments");

enum seg_error {
    SEG_FILESZ,
    SEG_FILE_WRAP,
    SEG_PAST_EOF,
    SEG_ADDR_WRAP,
    SEG_OUTSIDE,
    SEG_STACK,
    SEG_WX,
    SEG_CONGRUENCE,
    SEG_OVERLAP,
    SEG_ERROR_COUNT
};

static const char *const s_seg_why[SEG_ERROR_COUNT][ELF_MAX_SEGMENTS] = {
    [SEG_FILESZ] = PER_SEGMENT("file size larger than memory size"),
    [SEG_FILE_WRAP] = PER_SEGMENT("file offset + size wraps"),
    [SEG_PAST_EOF] = PER_SEGMENT("data past end of file"),
    [SEG_ADDR_WRAP] = PER_SEGMENT("vaddr + memsz wraps"),
    [SEG_OUTSIDE] = PER_SEGMENT("outside user space"),
    [SEG_STACK] = PER_SEGMENT("overlaps the stack region"),
    [SEG_WX] = PER_SEGMENT("writable and executable"),
    [SEG_CONGRUENCE] = PER_SEGMENT("vaddr and offset not congruent modulo the page size"),
    [SEG_OVERLAP] = PER_SEGMENT("shares a page with an earlier segment"),
};

#define TWO_TO_32 ((uint64_t)1 << 32)

// Reads the little-endian 16-bit field at p.
static uint32_t
rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

// Reads the little-endian 32-bit field at p.
static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// Stores msg for the caller and returns the one error elf_parse reports.
static int
reject(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return -ENOEXEC;
}

// Returns the first page-aligned address at or above x (x <= 2^32).
static uint64_t
page_up(uint64_t x)
{
    return (x + ELF_PAGE_SIZE - 1) & ~(uint64_t)(ELF_PAGE_SIZE - 1);
}

// Whether the pages of a and b have any page in common.  Both are non-empty.
static bool
share_a_page(const struct elf_segment *a, const struct elf_segment *b)
{
    uint64_t a_lo = ALIGN_DOWN(a->vaddr, ELF_PAGE_SIZE),
             a_hi = page_up((uint64_t)a->vaddr + a->memsz);
    uint64_t b_lo = ALIGN_DOWN(b->vaddr, ELF_PAGE_SIZE),
             b_hi = page_up((uint64_t)b->vaddr + b->memsz);
    return a_lo < b_hi && b_lo < a_hi;
}

// Whether the pages of seg reach into [lo, hi); a segment of memsz 0 is
// taken as the one address it names.
static bool
touches(const struct elf_segment *seg, uint32_t lo, uint32_t hi)
{
    if (seg->memsz == 0)
        return seg->vaddr >= lo && seg->vaddr < hi;
    uint64_t seg_lo = ALIGN_DOWN(seg->vaddr, ELF_PAGE_SIZE);
    uint64_t seg_hi = page_up((uint64_t)seg->vaddr + seg->memsz);
    return seg_lo < hi && lo < seg_hi;
}

// Checks one PT_LOAD header (number n) against the file, the limits and the
// segments accepted so far; returns NULL or the reason it is refused.
static const char *
check_segment(const uint8_t *ph, unsigned n, size_t size, const struct elf_limits *lim,
              const struct elf_image *img, struct elf_segment *seg)
{
    uint32_t flags = rd32(ph + PH_FLAGS);

    seg->offset = rd32(ph + PH_OFFSET);
    seg->vaddr = rd32(ph + PH_VADDR);
    seg->filesz = rd32(ph + PH_FILESZ);
    seg->memsz = rd32(ph + PH_MEMSZ);
    seg->writable = (flags & PF_W) != 0;
    seg->executable = (flags & PF_X) != 0;

    uint64_t file_end = (uint64_t)seg->offset + seg->filesz;
    uint64_t mem_end = (uint64_t)seg->vaddr + seg->memsz;

    if (seg->filesz > seg->memsz)
        return s_seg_why[SEG_FILESZ][n];
    if (file_end > TWO_TO_32)
        return s_seg_why[SEG_FILE_WRAP][n];
    if (file_end > size)
        return s_seg_why[SEG_PAST_EOF][n];
    if (mem_end > TWO_TO_32)
        return s_seg_why[SEG_ADDR_WRAP][n];
    // At or past user_hi is outside even with nothing to load: a loader
    // must never be handed an address in the kernel's half.
    if (seg->vaddr < lim->user_lo || seg->vaddr >= lim->user_hi || mem_end > lim->user_hi)
        return s_seg_why[SEG_OUTSIDE][n];
    // The stack's pages are the kernel's to map as it grows; an image there
    // would take them over (and the growth window is checked whole, not
    // just the part mapped at the start).
    if (touches(seg, lim->stack_lo, lim->stack_hi))
        return s_seg_why[SEG_STACK][n];
    // Memory that can be written and then run is a gift to any overflow;
    // the paging hardware cannot forbid it (no NX without PAE), so the
    // loader does.
    if (seg->writable && seg->executable)
        return s_seg_why[SEG_WX][n];
    if ((seg->vaddr ^ seg->offset) & (ELF_PAGE_SIZE - 1))
        return s_seg_why[SEG_CONGRUENCE][n];
    if (seg->memsz == 0)
        return NULL;
    for (unsigned i = 0; i < img->segment_count; i++)
        if (share_a_page(&img->segments[i], seg))
            return s_seg_why[SEG_OVERLAP][n];
    return NULL;
}

// Whether entry lies inside an executable segment of img.
static bool
entry_is_executable(const struct elf_image *img)
{
    for (unsigned i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        if (s->executable && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
            return true;
    }
    return false;
}

int
elf_parse(const void *image, size_t size, const struct elf_limits *lim, struct elf_image *out,
          const char **why)
{
    const uint8_t *p = image;

    if (!p || size < EHDR_SIZE)
        return reject(why, "file smaller than the ELF header");
    if (p[0] != 0x7F || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
        return reject(why, "bad magic");
    if (p[EH_IDENT_CLASS] != ELFCLASS32)
        return reject(why, "not 32-bit");
    if (p[EH_IDENT_DATA] != ELFDATA2LSB)
        return reject(why, "not little-endian");
    if (p[EH_IDENT_VERSION] != EV_CURRENT || rd32(p + EH_VERSION) != EV_CURRENT)
        return reject(why, "unknown ELF version");
    if (rd16(p + EH_TYPE) != ET_EXEC)
        return reject(why, "not an executable (ET_EXEC)");
    if (rd16(p + EH_MACHINE) != EM_386)
        return reject(why, "not i386");

    uint32_t phoff = rd32(p + EH_PHOFF);
    uint32_t phnum = rd16(p + EH_PHNUM);
    if (phnum == 0)
        return reject(why, "no program headers");
    if (rd16(p + EH_PHENTSIZE) != PHDR_SIZE)
        return reject(why, "program header size is not 32");
    if ((uint64_t)phoff + (uint64_t)phnum * PHDR_SIZE > size)
        return reject(why, "program headers past end of file");

    struct elf_image img = { .entry = rd32(p + EH_ENTRY), .segment_count = 0 };
    unsigned loads = 0;
    for (uint32_t i = 0; i < phnum; i++) {
        const uint8_t *ph = p + phoff + i * PHDR_SIZE;
        uint32_t type = rd32(ph + PH_TYPE);
        if (type == PT_INTERP || type == PT_DYNAMIC)
            return reject(why, "dynamically linked");
        if (type != PT_LOAD)
            continue;
        if (loads == ELF_MAX_SEGMENTS)
            return reject(why, "more than 8 loadable segments");
        struct elf_segment seg;
        const char *bad = check_segment(ph, loads, size, lim, &img, &seg);
        if (bad)
            return reject(why, bad);
        loads++;
        if (seg.memsz != 0)
            img.segments[img.segment_count++] = seg;
    }
    if (img.segment_count == 0)
        return reject(why, "no loadable segment");
    if (!entry_is_executable(&img))
        return reject(why, "entry point outside every executable segment");
    *out = img;
    return 0;
}
