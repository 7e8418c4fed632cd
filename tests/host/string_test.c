// Host tests for lib/string.c. Under HOST_TEST, include/lib/string.h
// renames Tandem's functions to tandem_*, so every call below runs Tandem's
// code; the libc_* wrappers, defined before that header, reach glibc's.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

// glibc's versions, for comparison; only the sign of a comparison counts.
static int
sign(int v)
{
    return (v > 0) - (v < 0);
}

static int
libc_memcmp(const void *a, const void *b, size_t n)
{
    return sign(memcmp(a, b, n));
}

static int
libc_strcmp(const char *a, const char *b)
{
    return sign(strcmp(a, b));
}

static int
libc_strncmp(const char *a, const char *b, size_t n)
{
    return sign(strncmp(a, b, n));
}

#include "lib/string.h"

// Room for every size and misalignment the loops below try, plus guards.
#define AREA  160
#define GUARD 0xEE

// Fills buf with a byte pattern that differs at every offset and per seed.
static void
fill_pattern(unsigned char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 7 + seed * 13 + 1);
}

static void
test_memcpy(void **state)
{
    unsigned char src[AREA], dst[AREA], want[AREA];

    (void)state;
    // Every alignment pair and length, so word and byte paths both run.
    for (size_t so = 0; so < 16; so++) {
        for (size_t d_off = 0; d_off < 16; d_off++) {
            for (size_t n = 0; n <= 80; n++) {
                // The reference is built by plain loops, not the code
                // under test.
                fill_pattern(src, sizeof src, 1);
                for (size_t i = 0; i < sizeof dst; i++)
                    dst[i] = want[i] = GUARD;
                for (size_t i = 0; i < n; i++)
                    want[d_off + i] = src[so + i];
                assert_ptr_equal(memcpy(dst + d_off, src + so, n), dst + d_off);
                assert_memory_equal(dst, want, sizeof dst);
            }
        }
    }
}

// Runs memmove(base + d_off, base + s_off, n) inside one buffer and checks
// it against a copy made through a separate scratch buffer.
static void
check_memmove(size_t d_off, size_t s_off, size_t n)
{
    unsigned char area[AREA], want[AREA], scratch[AREA];

    fill_pattern(area, sizeof area, 3);
    for (size_t i = 0; i < sizeof area; i++)
        want[i] = area[i];
    for (size_t i = 0; i < n; i++)
        scratch[i] = area[s_off + i];
    for (size_t i = 0; i < n; i++)
        want[d_off + i] = scratch[i];
    assert_ptr_equal(memmove(area + d_off, area + s_off, n), area + d_off);
    assert_memory_equal(area, want, sizeof area);
}

static void
test_memmove_overlap(void **state)
{
    (void)state;
    // dst above src (must copy downward) and below it (upward), every
    // small distance and misalignment, plus dst == src.
    for (size_t s_off = 0; s_off < 24; s_off++) {
        for (size_t d_off = 0; d_off < 24; d_off++) {
            for (size_t n = 0; n <= 100; n++)
                check_memmove(d_off, s_off, n);
        }
    }
}

static void
test_memmove_examples(void **state)
{
    char fwd[] = "abcdefghij";
    char back[] = "abcdefghij";
    char same[] = "abcdefghij";

    (void)state;
    memmove(fwd + 2, fwd, 6); // dst above src, overlapping
    assert_string_equal(fwd, "ababcdefij");
    memmove(back, back + 2, 6); // dst below src, overlapping
    assert_string_equal(back, "cdefghghij");
    memmove(same, same, 10);
    assert_string_equal(same, "abcdefghij");
}

static void
test_memset(void **state)
{
    unsigned char buf[AREA], want[AREA];

    (void)state;
    for (size_t off = 0; off < 16; off++) {
        for (size_t n = 0; n <= 80; n++) {
            for (size_t i = 0; i < sizeof buf; i++)
                buf[i] = want[i] = GUARD;
            for (size_t i = 0; i < n; i++)
                want[off + i] = 0xA5;
            assert_ptr_equal(memset(buf + off, 0xA5, n), buf + off);
            assert_memory_equal(buf, want, sizeof buf);
        }
    }
    // Only the low byte of c is stored.
    memset(buf, 0x1FF, 9);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(buf[i], 0xFF);
    memset(buf, 0, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0);
}

static void
test_memcmp(void **state)
{
    static const struct {
        const char *a, *b;
        size_t n;
    } cases[] = {
        { "", "", 0 },
        { "abc", "abd", 0 },
        { "abc", "abc", 3 },
        { "abc", "abd", 3 },
        { "abd", "abc", 3 },
        { "xbc", "abc", 3 },
        { "abc", "abd", 2 },
        // Bytes compare unsigned.
        { "\x80", "\x01", 1 },
        { "\x01", "\xff", 1 },
        // NUL is just a byte here.
        { "a\0b", "a\0c", 3 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sign(memcmp(cases[i].a, cases[i].b, cases[i].n)),
                         libc_memcmp(cases[i].a, cases[i].b, cases[i].n));
    }
    assert_true(memcmp("\x80", "\x01", 1) > 0);
    assert_true(memcmp("a\0b", "a\0c", 3) < 0);
}

static void
test_strlen_strnlen(void **state)
{
    static const char unterminated[4] = { 'w', 'x', 'y', 'z' };

    (void)state;
    assert_int_equal(strlen(""), 0);
    assert_int_equal(strlen("a"), 1);
    assert_int_equal(strlen("hello"), 5);
    assert_int_equal(strlen("ab\0cd"), 2);
    assert_int_equal(strnlen("hello", 0), 0);
    assert_int_equal(strnlen("hello", 3), 3);
    assert_int_equal(strnlen("hello", 5), 5);
    assert_int_equal(strnlen("hello", 100), 5);
    // Never reads past max: ASan would catch a byte beyond the array.
    assert_int_equal(strnlen(unterminated, sizeof unterminated), 4);
    assert_int_equal(strnlen(unterminated, 2), 2);
}

static void
test_strcmp(void **state)
{
    static const char *const pairs[][2] = {
        { "", "" },
        { "a", "" },
        { "", "a" },
        { "abc", "abc" },
        { "abc", "abd" },
        { "abd", "abc" },
        { "abc", "abcd" },
        { "abcd", "abc" },
        // Unsigned: 0x80 sorts after 'a', 0xff after it.
        { "\x80", "a" },
        { "a", "\xff" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        assert_int_equal(sign(strcmp(pairs[i][0], pairs[i][1])),
                         libc_strcmp(pairs[i][0], pairs[i][1]));
        for (size_t n = 0; n <= 5; n++) {
            assert_int_equal(sign(strncmp(pairs[i][0], pairs[i][1], n)),
                             libc_strncmp(pairs[i][0], pairs[i][1], n));
        }
    }
    assert_true(strcmp("\x80", "a") > 0);
}

static void
test_strncmp(void **state)
{
    (void)state;
    assert_int_equal(strncmp("abc", "xyz", 0), 0);
    assert_int_equal(strncmp("abcX", "abcY", 3), 0); // differ past n
    assert_true(strncmp("abcX", "abcY", 4) < 0);
    assert_true(strncmp("ab", "abc", 3) < 0);
    // Stops at a shared NUL even when n is larger.
    assert_int_equal(strncmp("ab\0x", "ab\0y", 4), 0);
}

static void
test_strchr(void **state)
{
    const char *s = "hello, world";

    (void)state;
    assert_ptr_equal(strchr(s, 'h'), s);
    assert_ptr_equal(strchr(s, 'o'), s + 4); // the first one
    assert_ptr_equal(strchr(s, 'd'), s + 11);
    assert_null(strchr(s, 'z'));
    assert_ptr_equal(strchr(s, '\0'), s + 12); // the terminator
    assert_ptr_equal(strchr("", '\0'), strchr("", '\0'));
    assert_null(strchr("", 'a'));
    // c is converted to char: 0x100 + 'w' finds 'w'.
    assert_ptr_equal(strchr(s, 0x100 + 'w'), s + 7);
    assert_ptr_equal(strchr("a\xe9z", 0xe9), strchr("a\xe9z", 'z') - 1);
}

static void
test_strlcpy(void **state)
{
    char buf[8];

    (void)state;
    // Fits with room to spare.
    memset(buf, '#', sizeof buf);
    assert_int_equal(strlcpy(buf, "abc", sizeof buf), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(buf[4], '#');

    // Exactly fits: seven characters and the NUL.
    assert_int_equal(strlcpy(buf, "1234567", sizeof buf), 7);
    assert_string_equal(buf, "1234567");

    // Truncated: the result still says how long src is.
    memset(buf, '#', sizeof buf);
    assert_int_equal(strlcpy(buf, "abcdefghijkl", 5), 12);
    assert_string_equal(buf, "abcd");
    assert_memory_equal(buf + 5, "###", 3);

    // One too long for the buffer: the NUL must still land inside it
    // (ASan flags a write to buf[8]).
    assert_int_equal(strlcpy(buf, "12345678", sizeof buf), 8);
    assert_string_equal(buf, "1234567");

    // Size 1 holds only the NUL.
    memset(buf, '#', sizeof buf);
    assert_int_equal(strlcpy(buf, "abc", 1), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], '#');

    // Size 0 writes nothing at all.
    memset(buf, '#', sizeof buf);
    assert_int_equal(strlcpy(buf, "abc", 0), 3);
    assert_int_equal(buf[0], '#');

    // An empty source.
    assert_int_equal(strlcpy(buf, "", sizeof buf), 0);
    assert_string_equal(buf, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        // The mem* functions.
        cmocka_unit_test(test_memcpy),
        cmocka_unit_test(test_memmove_overlap),
        cmocka_unit_test(test_memmove_examples),
        cmocka_unit_test(test_memset),
        cmocka_unit_test(test_memcmp),
        // The str* functions.
        cmocka_unit_test(test_strlen_strnlen),
        cmocka_unit_test(test_strcmp),
        cmocka_unit_test(test_strncmp),
        cmocka_unit_test(test_strchr),
        cmocka_unit_test(test_strlcpy),
    };

    return cmocka_run_group_tests_name("string", tests, NULL, NULL);
}
