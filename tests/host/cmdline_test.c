// Host tests for the kernel command line (kernel/multiboot.c): the words
// that set the boot modes, and a line longer than struct boot_info keeps.
// A line past BOOT_CMDLINE_MAX - 1 bytes is cut in cmdline, but its words
// are read from the whole line, so a trailing `test` still counts.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"
#include "lib/string.h"

static struct boot_info s_b;

// A line of n bytes: padding words, then tail (which ends it).
static char *
long_line(size_t n, const char *tail)
{
    size_t t = strlen(tail);
    assert_true(n > t);
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n - t; i++)
        s[i] = (i % 10 == 9) ? ' ' : (char)('a' + i % 10);
    s[n - t - 1] = ' ';
    memcpy(s + n - t, tail, t + 1);
    return s;
}

static void
test_words(void **state)
{
    (void)state;
    memset(&s_b, 0, sizeof(s_b));
    boot_take_cmdline(&s_b, "/boot/tandem.elf test=heap kfast=strict");
    assert_true(s_b.test_mode);
    assert_true(s_b.kfast_strict);
    assert_false(s_b.bench_mode);
    assert_string_equal(s_b.test_suite, "heap");
    assert_false(s_b.cmdline_cut);
    assert_int_equal(s_b.cmdline_length, 39);
    assert_string_equal(s_b.cmdline, "/boot/tandem.elf test=heap kfast=strict");

    boot_take_cmdline(&s_b, "tandem.elf testing bench  ");
    assert_false(s_b.test_mode);
    assert_false(s_b.kfast_strict);
    assert_true(s_b.bench_mode);
    assert_false(s_b.bench_cpus);

    boot_take_cmdline(&s_b, "tandem.elf bench=cpus");
    assert_true(s_b.bench_mode);
    assert_true(s_b.bench_cpus);
    boot_take_cmdline(&s_b, "tandem.elf bench=cpusx");
    assert_false(s_b.bench_mode);

    boot_take_cmdline(&s_b, "");
    assert_false(s_b.test_mode);
    assert_int_equal(s_b.cmdline_length, 0);
    assert_string_equal(s_b.cmdline, "");
}

// Exactly what fits is not cut; one byte more is.
static void
test_cut_at_the_limit(void **state)
{
    (void)state;
    char *fits = long_line(BOOT_CMDLINE_MAX - 1, "test");
    boot_take_cmdline(&s_b, fits);
    assert_false(s_b.cmdline_cut);
    assert_int_equal(s_b.cmdline_length, BOOT_CMDLINE_MAX - 1);
    assert_string_equal(s_b.cmdline, fits);
    assert_true(s_b.test_mode);
    free(fits);

    char *over = long_line(BOOT_CMDLINE_MAX, "test");
    boot_take_cmdline(&s_b, over);
    assert_true(s_b.cmdline_cut);
    assert_int_equal(s_b.cmdline_length, BOOT_CMDLINE_MAX);
    assert_int_equal(strlen(s_b.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_memory_equal(s_b.cmdline, over, BOOT_CMDLINE_MAX - 1);
    assert_true(s_b.test_mode); // "tes" was kept, the word is read whole
    free(over);
}

// A 300-byte line ending in `test` (what tests/boot/boot_words.py boots):
// cut, and still in test mode; so are the other words past the cut.
static void
test_words_past_the_cut(void **state)
{
    (void)state;
    char *line = long_line(300, "kfast=strict test=kfast");
    boot_take_cmdline(&s_b, line);
    assert_true(s_b.cmdline_cut);
    assert_int_equal(s_b.cmdline_length, 300);
    assert_int_equal(strlen(s_b.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_true(s_b.test_mode);
    assert_true(s_b.kfast_strict);
    assert_string_equal(s_b.test_suite, "kfast");
    free(line);

    line = long_line(300, "test");
    boot_take_cmdline(&s_b, line);
    assert_true(s_b.test_mode);
    assert_string_equal(s_b.test_suite, "");
    free(line);
}

// boot_parse_cmdline reads the kept copy only (what the kernel's own
// multiboot suite feeds it).
static void
test_parse_kept_copy(void **state)
{
    (void)state;
    memset(&s_b, 0, sizeof(s_b));
    strlcpy(s_b.cmdline, "x test=sched", sizeof(s_b.cmdline));
    boot_parse_cmdline(&s_b);
    assert_true(s_b.test_mode);
    assert_string_equal(s_b.test_suite, "sched");
}

// A line with no NUL within BOOT_CMDLINE_SCAN bytes is read that far.
static void
test_scan_is_bounded(void **state)
{
    (void)state;
    char *line = malloc(BOOT_CMDLINE_SCAN + 16);
    assert_non_null(line);
    memset(line, 'a', BOOT_CMDLINE_SCAN + 16);
    memcpy(line, "test ", 5);
    line[BOOT_CMDLINE_SCAN + 15] = '\0';
    boot_take_cmdline(&s_b, line);
    assert_int_equal(s_b.cmdline_length, BOOT_CMDLINE_SCAN);
    assert_true(s_b.cmdline_cut);
    assert_true(s_b.test_mode);
    free(line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_cut_at_the_limit),
        cmocka_unit_test(test_words_past_the_cut),
        cmocka_unit_test(test_parse_kept_copy),
        cmocka_unit_test(test_scan_is_bounded),
    };
    return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
