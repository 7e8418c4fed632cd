/* Validation of ELF32 i386 executables before they are loaded.
 *
 * elf_parse reads only the image it is given; it maps nothing and copies
 * nothing, so it compiles for the host too and is tested there.  What it
 * accepts a loader can map page by page without further checks. */
#ifndef TANDEM_THREAD_ELF_H
#define TANDEM_THREAD_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 8     // loadable segments one program may have
#define ELF_PAGE_SIZE    4096u // the granularity segments are mapped at

// One PT_LOAD segment: memsz bytes at vaddr, of which the first filesz come
// from the file at offset and the rest are zero.
struct elf_segment {
    uint32_t vaddr;
    uint32_t memsz;
    uint32_t filesz;
    uint32_t offset;
    bool writable;
    bool executable;
};

// Where segments may go: inside [user_lo, user_hi), on no page of
// [stack_lo, stack_hi) (the stack's whole growth window).
struct elf_limits {
    uint32_t user_lo, user_hi;
    uint32_t stack_lo, stack_hi;
};

// What a loader needs from a validated executable.
struct elf_image {
    uint32_t entry;
    unsigned segment_count;
    struct elf_segment segments[ELF_MAX_SEGMENTS];
};

// Checks that image[0, size) is an ELF32 little-endian i386 ET_EXEC file
// whose loadable segments lie inside the file and inside the limits (see
// struct elf_limits; a segment of memsz 0 must start inside them too), are
// not both writable and executable, have vaddr and offset congruent modulo
// ELF_PAGE_SIZE, share no page with each other (each page gets one
// segment's permissions) and whose entry is in an executable segment.  Returns 0 and fills *out, or -ENOEXEC and
// points *why at a static message naming the first check that failed.
// Segments are the PT_LOAD headers, numbered from 0 in file order; at most
// ELF_MAX_SEGMENTS are accepted, and one of memsz 0 is checked but left out
// of *out.  why may be NULL.
int elf_parse(const void *image, size_t size, const struct elf_limits *lim, struct elf_image *out,
              const char **why);

#endif
