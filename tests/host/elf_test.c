// Host tests for kernel/thread/elf.c: one valid image built field by field,
// then one change per test that each check must refuse, with its message.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "thread/elf.h"
#include "uapi/errno.h"

#define USER_LO  0x00400000u
#define USER_HI  0xC0000000u
#define STACK_LO 0xBFEF0000u // the kernel's: USER_STACK_TOP - USER_STACK_MAX
#define STACK_HI 0xBFFF0000u // USER_STACK_TOP

static const struct elf_limits s_limits = { USER_LO, USER_HI, STACK_LO, STACK_HI };

#define FILE_SIZE    0x3000u
#define PHOFF        52u
#define PT_LOAD      1u
#define PT_NOTE      4u
#define PT_INTERP    3u
#define PT_GNU_STACK 0x6474E551u
#define PF_RX        5u
#define PF_RW        6u

// The image under test; every test starts from good_image()'s contents.
static uint8_t s_file[FILE_SIZE + 1];

static void
put16(uint32_t off, uint32_t v)
{
    s_file[off] = (uint8_t)v;
    s_file[off + 1] = (uint8_t)(v >> 8);
}

static void
put32(uint32_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        s_file[off + i] = (uint8_t)(v >> (8 * i));
}

// Writes program header i.
static void
put_phdr(unsigned i, uint32_t type, uint32_t offset, uint32_t vaddr, uint32_t filesz,
         uint32_t memsz, uint32_t flags)
{
    uint32_t ph = PHOFF + i * 32;
    put32(ph + 0, type);
    put32(ph + 4, offset);
    put32(ph + 8, vaddr);
    put32(ph + 12, vaddr);
    put32(ph + 16, filesz);
    put32(ph + 20, memsz);
    put32(ph + 24, flags);
    put32(ph + 28, 0x1000);
}

// A valid executable: text (R X) at 0x400000 from file offset 0x1000, data
// and bss (R W) at 0x401000 from 0x2000, and a PT_GNU_STACK to be ignored.
static void
good_image(void)
{
    memset(s_file, 0, sizeof s_file);
    memcpy(s_file, "\177ELF", 4);
    s_file[4] = 1;         // ELFCLASS32
    s_file[5] = 1;         // ELFDATA2LSB
    s_file[6] = 1;         // EV_CURRENT
    put16(16, 2);          // ET_EXEC
    put16(18, 3);          // EM_386
    put32(20, 1);          // e_version
    put32(24, 0x00400010); // e_entry
    put32(28, PHOFF);      // e_phoff
    put16(40, 52);         // e_ehsize
    put16(42, 32);         // e_phentsize
    put16(44, 3);          // e_phnum
    put_phdr(0, PT_LOAD, 0x1000, 0x00400000, 0x100, 0x100, PF_RX);
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0x3000, PF_RW);
    put_phdr(2, PT_GNU_STACK, 0, 0, 0, 0, PF_RW);
}

static int
setup(void **state)
{
    (void)state;
    good_image();
    return 0;
}

// Parses s_file[0, size) and returns the message, or "ok".
static const char *
parse_size(size_t size)
{
    struct elf_image img;
    const char *why = "not set";
    int r = elf_parse(s_file, size, &s_limits, &img, &why);
    if (r == 0)
        return "ok";
    assert_int_equal(r, -ENOEXEC);
    return why;
}

static const char *
parse(void)
{
    return parse_size(FILE_SIZE);
}

static void
test_valid(void **state)
{
    struct elf_image img;
    const char *why = NULL;

    (void)state;
    assert_int_equal(elf_parse(s_file, FILE_SIZE, &s_limits, &img, &why), 0);
    assert_null(why);
    assert_int_equal(img.entry, 0x00400010);
    assert_int_equal(img.segment_count, 2);
    assert_int_equal(img.segments[0].vaddr, 0x00400000);
    assert_int_equal(img.segments[0].memsz, 0x100);
    assert_int_equal(img.segments[0].filesz, 0x100);
    assert_int_equal(img.segments[0].offset, 0x1000);
    assert_true(img.segments[0].executable);
    assert_false(img.segments[0].writable);
    assert_int_equal(img.segments[1].vaddr, 0x00401000);
    assert_int_equal(img.segments[1].memsz, 0x3000);
    assert_int_equal(img.segments[1].filesz, 0x80);
    assert_int_equal(img.segments[1].offset, 0x2000);
    assert_false(img.segments[1].executable);
    assert_true(img.segments[1].writable);
}

// Fields are read byte by byte, so an odd address is no problem (UBSan
// would report a misaligned load otherwise).
static void
test_valid_unaligned(void **state)
{
    static uint8_t shifted[FILE_SIZE + 1];
    struct elf_image img;

    (void)state;
    memcpy(shifted + 1, s_file, FILE_SIZE);
    assert_int_equal(elf_parse(shifted + 1, FILE_SIZE, &s_limits, &img, NULL), 0);
    assert_int_equal(img.segment_count, 2);
}

// The file may end exactly where the last segment's data ends.
static void
test_valid_exact_end(void **state)
{
    (void)state;
    assert_string_equal(parse_size(0x2080), "ok");
    assert_string_equal(parse_size(0x207F), "segment 1 data past end of file");
}

// A segment may end exactly at user_hi, and start exactly at user_lo.
static void
test_valid_at_user_bounds(void **state)
{
    (void)state;
    put_phdr(1, PT_LOAD, 0x2000, 0xBFFFD000, 0x80, 0x3000, PF_RW);
    assert_string_equal(parse(), "ok");
}

static void
test_why_may_be_null(void **state)
{
    struct elf_image img;

    (void)state;
    s_file[0] = 0;
    assert_int_equal(elf_parse(s_file, FILE_SIZE, &s_limits, &img, NULL), -ENOEXEC);
}

static void
test_too_small(void **state)
{
    struct elf_image img;
    const char *why = NULL;

    (void)state;
    assert_string_equal(parse_size(51), "file smaller than the ELF header");
    assert_string_equal(parse_size(0), "file smaller than the ELF header");
    assert_int_equal(elf_parse(NULL, FILE_SIZE, &s_limits, &img, &why), -ENOEXEC);
    assert_string_equal(why, "file smaller than the ELF header");
}

static void
test_bad_magic(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        good_image();
        s_file[i] ^= 0x20;
        assert_string_equal(parse(), "bad magic");
    }
}

static void
test_not_32_bit(void **state)
{
    (void)state;
    s_file[4] = 2;
    assert_string_equal(parse(), "not 32-bit");
    s_file[4] = 0;
    assert_string_equal(parse(), "not 32-bit");
}

static void
test_not_little_endian(void **state)
{
    (void)state;
    s_file[5] = 2;
    assert_string_equal(parse(), "not little-endian");
}

static void
test_bad_version(void **state)
{
    (void)state;
    s_file[6] = 0;
    assert_string_equal(parse(), "unknown ELF version");
    good_image();
    put32(20, 2);
    assert_string_equal(parse(), "unknown ELF version");
}

static void
test_not_exec(void **state)
{
    (void)state;
    put16(16, 3); // ET_DYN
    assert_string_equal(parse(), "not an executable (ET_EXEC)");
    put16(16, 1); // ET_REL
    assert_string_equal(parse(), "not an executable (ET_EXEC)");
}

static void
test_not_i386(void **state)
{
    (void)state;
    put16(18, 62); // EM_X86_64
    assert_string_equal(parse(), "not i386");
}

static void
test_no_program_headers(void **state)
{
    (void)state;
    put16(44, 0);
    assert_string_equal(parse(), "no program headers");
}

static void
test_bad_phentsize(void **state)
{
    (void)state;
    put16(42, 56);
    assert_string_equal(parse(), "program header size is not 32");
    put16(42, 0);
    assert_string_equal(parse(), "program header size is not 32");
}

static void
test_phdrs_past_end(void **state)
{
    (void)state;
    put32(28, FILE_SIZE - 3 * 32 + 1);
    assert_string_equal(parse(), "program headers past end of file");
    put32(28, PHOFF);
    put16(44, 0xFFFF);
    assert_string_equal(parse(), "program headers past end of file");
}

// phoff + phnum * 32 wraps to a small number in 32-bit arithmetic.
static void
test_phoff_overflow(void **state)
{
    (void)state;
    put32(28, 0xFFFFFFF0);
    assert_string_equal(parse(), "program headers past end of file");
    put32(28, 0xFFFFFFFF);
    put16(44, 1);
    assert_string_equal(parse(), "program headers past end of file");
}

static void
test_filesz_over_memsz(void **state)
{
    (void)state;
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x3001, 0x3000, PF_RW);
    assert_string_equal(parse(), "segment 1 file size larger than memory size");
}

static void
test_data_past_end(void **state)
{
    (void)state;
    put_phdr(0, PT_LOAD, 0x2F80, 0x00400F80, 0x100, 0x100, PF_RX);
    assert_string_equal(parse(), "segment 0 data past end of file");
}

static void
test_file_range_wraps(void **state)
{
    (void)state;
    put_phdr(0, PT_LOAD, 0xFFFFF000, 0x00400000, 0x2000, 0x2000, PF_RX);
    assert_string_equal(parse(), "segment 0 file offset + size wraps");
}

static void
test_memsz_wraps(void **state)
{
    (void)state;
    put_phdr(1, PT_LOAD, 0x2000, 0xFFFFF000, 0x80, 0x2000, PF_RW);
    assert_string_equal(parse(), "segment 1 vaddr + memsz wraps");
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0xFFFFFFFF, PF_RW);
    assert_string_equal(parse(), "segment 1 vaddr + memsz wraps");
}

static void
test_outside_user_space(void **state)
{
    (void)state;
    // Starts in user space, ends in the kernel half.
    put_phdr(1, PT_LOAD, 0x2000, 0xBFFFF000, 0x80, 0x2000, PF_RW);
    assert_string_equal(parse(), "segment 1 outside user space");
    put_phdr(1, PT_LOAD, 0x2000, 0xC0000000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 outside user space");
    put_phdr(1, PT_LOAD, 0x2000, 0x00001000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 outside user space");
    // Ends exactly at user_lo: still below it.
    put_phdr(1, PT_LOAD, 0x2000, 0x003FF000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 outside user space");
}

static void
test_not_congruent(void **state)
{
    (void)state;
    put_phdr(1, PT_LOAD, 0x2004, 0x00401000, 0x80, 0x3000, PF_RW);
    assert_string_equal(parse(), "segment 1 vaddr and offset not congruent modulo the page size");
}

static void
test_overlap(void **state)
{
    (void)state;
    put_phdr(1, PT_LOAD, 0x2000, 0x00400000, 0x80, 0x3000, PF_RW);
    assert_string_equal(parse(), "segment 1 shares a page with an earlier segment");
    // Disjoint bytes, but the same page: it could not have two permissions.
    put_phdr(1, PT_LOAD, 0x2800, 0x00400800, 0x80, 0x100, PF_RW);
    assert_string_equal(parse(), "segment 1 shares a page with an earlier segment");
    // The later one below the earlier one, reaching into its first page.
    put_phdr(0, PT_LOAD, 0x1000, 0x00402000, 0x100, 0x100, PF_RX);
    put32(24, 0x00402010);
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0x1001, PF_RW);
    assert_string_equal(parse(), "segment 1 shares a page with an earlier segment");
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "ok");
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0x1001, PF_RW);
    assert_string_equal(parse(), "segment 1 shares a page with an earlier segment");
}

static void
test_no_loadable_segment(void **state)
{
    (void)state;
    put_phdr(0, PT_NOTE, 0x1000, 0x00400000, 0x100, 0x100, PF_RX);
    put_phdr(1, PT_NOTE, 0x2000, 0x00401000, 0x80, 0x3000, PF_RW);
    assert_string_equal(parse(), "no loadable segment");
    // Empty PT_LOADs are checked but load nothing.
    put_phdr(0, PT_LOAD, 0x1000, 0x00400000, 0, 0, PF_RX);
    assert_string_equal(parse(), "no loadable segment");
}

static void
test_empty_segment_skipped(void **state)
{
    struct elf_image img;

    (void)state;
    put_phdr(2, PT_LOAD, 0x1000, 0x00400000, 0, 0, PF_RW);
    assert_int_equal(elf_parse(s_file, FILE_SIZE, &s_limits, &img, NULL), 0);
    assert_int_equal(img.segment_count, 2);
}

// Writes n one-page PT_LOADs (the first executable) and returns the message.
static const char *
parse_loads(unsigned n)
{
    good_image();
    put16(44, n);
    for (unsigned i = 0; i < n; i++)
        put_phdr(i, PT_LOAD, 0, 0x00400000 + i * 0x1000, 0x40, 0x1000, i == 0 ? PF_RX : PF_RW);
    return parse();
}

static void
test_segment_limit(void **state)
{
    (void)state;
    assert_string_equal(parse_loads(ELF_MAX_SEGMENTS), "ok");
    assert_string_equal(parse_loads(ELF_MAX_SEGMENTS + 1), "more than 8 loadable segments");
}

static void
test_entry_outside_executable(void **state)
{
    (void)state;
    put32(24, 0x00401000); // in the writable segment
    assert_string_equal(parse(), "entry point outside every executable segment");
    put32(24, 0x00400100); // one past the end of the text
    assert_string_equal(parse(), "entry point outside every executable segment");
    put32(24, 0x003FFFFF);
    assert_string_equal(parse(), "entry point outside every executable segment");
    put32(24, 0x004000FF); // the last byte of the text
    assert_string_equal(parse(), "ok");
}

static void
test_dynamic(void **state)
{
    (void)state;
    put_phdr(2, PT_INTERP, 0x100, 0, 0x10, 0x10, 4);
    assert_string_equal(parse(), "dynamically linked");
}

// A user range other than the default is honoured.
static void
test_user_range_argument(void **state)
{
    struct elf_image img;
    const char *why = NULL;
    struct elf_limits lim = s_limits;

    (void)state;
    lim.user_lo = 0x00401000;
    assert_int_equal(elf_parse(s_file, FILE_SIZE, &lim, &img, &why), -ENOEXEC);
    assert_string_equal(why, "segment 0 outside user space");
    lim = s_limits;
    lim.user_hi = 0x00403FFF;
    assert_int_equal(elf_parse(s_file, FILE_SIZE, &lim, &img, &why), -ENOEXEC);
    assert_string_equal(why, "segment 1 outside user space");
    lim = s_limits;
    lim.stack_lo = 0x00403000;
    lim.stack_hi = 0x00404000;
    assert_int_equal(elf_parse(s_file, FILE_SIZE, &lim, &img, &why), -ENOEXEC);
    assert_string_equal(why, "segment 1 overlaps the stack region");
}

// Every page of the stack's growth window is refused, not just the part
// mapped at the start; so is a segment that starts below and reaches in.
static void
test_in_stack_region(void **state)
{
    (void)state;
    put_phdr(1, PT_LOAD, 0x2000, STACK_LO, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 overlaps the stack region");
    put_phdr(1, PT_LOAD, 0x2000, STACK_HI - 0x1000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 overlaps the stack region");
    put_phdr(1, PT_LOAD, 0x2000, 0xBFF00000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 overlaps the stack region");
    // Ends one byte into the window's first page.
    put_phdr(1, PT_LOAD, 0x2000, STACK_LO - 0x1000, 0x80, 0x1001, PF_RW);
    assert_string_equal(parse(), "segment 1 overlaps the stack region");
    // A huge bss from low memory across the whole window.
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0xBFBF0000, PF_RW); // ends at 0xBFFF1000
    assert_string_equal(parse(), "segment 1 overlaps the stack region");
    // Nothing to load, but it names an address in the window.
    put_phdr(2, PT_LOAD, 0x2000, STACK_LO + 0x10, 0, 0, PF_RW);
    put_phdr(1, PT_LOAD, 0x2000, 0x00401000, 0x80, 0x3000, PF_RW);
    assert_string_equal(parse(), "segment 2 overlaps the stack region");
    // Right below and right above the window is fine.
    good_image();
    put_phdr(1, PT_LOAD, 0x2000, STACK_LO - 0x1000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "ok");
    put_phdr(1, PT_LOAD, 0x2000, STACK_HI, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "ok");
}

// At or above the top of user space, even with nothing to load, and
// across it (the end wrapping or not).
static void
test_at_or_above_user_top(void **state)
{
    (void)state;
    put_phdr(2, PT_LOAD, 0x2000, USER_HI, 0, 0, PF_RW);
    assert_string_equal(parse(), "segment 2 outside user space");
    put_phdr(2, PT_LOAD, 0x2000, 0xFFFFF000, 0, 0, PF_RW);
    assert_string_equal(parse(), "segment 2 outside user space");
    good_image();
    put_phdr(1, PT_LOAD, 0x2000, USER_HI - 0x1000, 0x80, 0x1001, PF_RW);
    assert_string_equal(parse(), "segment 1 outside user space");
    put_phdr(1, PT_LOAD, 0x2000, 0xFFFFF000, 0x80, 0x1001, PF_RW);
    assert_string_equal(parse(), "segment 1 vaddr + memsz wraps");
    put_phdr(1, PT_LOAD, 0x2000, 0xFFFFF000, 0x80, 0x1000, PF_RW);
    assert_string_equal(parse(), "segment 1 outside user space");
}

// Writable and executable at once is refused, whatever else holds.
static void
test_writable_and_executable(void **state)
{
    (void)state;
    put_phdr(0, PT_LOAD, 0x1000, 0x00400000, 0x100, 0x100, 7); // R W X
    assert_string_equal(parse(), "segment 0 writable and executable");
    put_phdr(0, PT_LOAD, 0x1000, 0x00400000, 0x100, 0x100, 3); // W X
    assert_string_equal(parse(), "segment 0 writable and executable");
    good_image();
    put_phdr(2, PT_LOAD, 0x1000, 0x00410000, 0, 0, 7);
    assert_string_equal(parse(), "segment 2 writable and executable");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_valid, setup),
        cmocka_unit_test_setup(test_valid_unaligned, setup),
        cmocka_unit_test_setup(test_valid_exact_end, setup),
        cmocka_unit_test_setup(test_valid_at_user_bounds, setup),
        cmocka_unit_test_setup(test_why_may_be_null, setup),
        cmocka_unit_test_setup(test_too_small, setup),
        cmocka_unit_test_setup(test_bad_magic, setup),
        cmocka_unit_test_setup(test_not_32_bit, setup),
        cmocka_unit_test_setup(test_not_little_endian, setup),
        cmocka_unit_test_setup(test_bad_version, setup),
        cmocka_unit_test_setup(test_not_exec, setup),
        cmocka_unit_test_setup(test_not_i386, setup),
        cmocka_unit_test_setup(test_no_program_headers, setup),
        cmocka_unit_test_setup(test_bad_phentsize, setup),
        cmocka_unit_test_setup(test_phdrs_past_end, setup),
        cmocka_unit_test_setup(test_phoff_overflow, setup),
        cmocka_unit_test_setup(test_filesz_over_memsz, setup),
        cmocka_unit_test_setup(test_data_past_end, setup),
        cmocka_unit_test_setup(test_file_range_wraps, setup),
        cmocka_unit_test_setup(test_memsz_wraps, setup),
        cmocka_unit_test_setup(test_outside_user_space, setup),
        cmocka_unit_test_setup(test_not_congruent, setup),
        cmocka_unit_test_setup(test_overlap, setup),
        cmocka_unit_test_setup(test_no_loadable_segment, setup),
        cmocka_unit_test_setup(test_empty_segment_skipped, setup),
        cmocka_unit_test_setup(test_segment_limit, setup),
        cmocka_unit_test_setup(test_entry_outside_executable, setup),
        cmocka_unit_test_setup(test_dynamic, setup),
        cmocka_unit_test_setup(test_user_range_argument, setup),
        cmocka_unit_test_setup(test_in_stack_region, setup),
        cmocka_unit_test_setup(test_at_or_above_user_top, setup),
        cmocka_unit_test_setup(test_writable_and_executable, setup),
    };
    return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
