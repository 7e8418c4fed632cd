// Host tests for lib/format.c. Wherever Tandem's format means what C's does,
// the expected text is glibc's snprintf of the same format and arguments;
// the few deliberate differences (%p, NULL %s, unknown conversions) are
// spelled out literally.
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "lib/format.h"
#include "lib/string.h"

// Formats with both glibc and Tandem; the text and the return value must
// agree. A macro, so a failure names the line of the case.
#define EXPECT_LIKE_LIBC(...)                                     \
    do {                                                          \
        char want_[256], got_[256];                               \
        int want_n_ = snprintf(want_, sizeof want_, __VA_ARGS__); \
        int got_n_ = ksnprintf(got_, sizeof got_, __VA_ARGS__);   \
        assert_string_equal(got_, want_);                         \
        assert_int_equal(got_n_, want_n_);                        \
    } while (0)

// Tandem's result must be exactly the text `want`, and its length returned.
#define EXPECT(want, ...)                                       \
    do {                                                        \
        char got_[256];                                         \
        int got_n_ = ksnprintf(got_, sizeof got_, __VA_ARGS__); \
        assert_string_equal(got_, (want));                      \
        assert_int_equal(got_n_, (int)strlen(want));            \
    } while (0)

static void
test_plain_text(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("%s", "");
    EXPECT_LIKE_LIBC("hello, world");
    EXPECT_LIKE_LIBC("100%%");
    EXPECT_LIKE_LIBC("%%%%");
    EXPECT_LIKE_LIBC("a%%b%%c");
}

static void
test_signed_decimal(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("%d", 0);
    EXPECT_LIKE_LIBC("%d", 1);
    EXPECT_LIKE_LIBC("%d", -1);
    EXPECT_LIKE_LIBC("%d", 42);
    EXPECT_LIKE_LIBC("%d", -1000000);
    EXPECT_LIKE_LIBC("%d", INT_MAX);
    EXPECT_LIKE_LIBC("%d", INT_MIN);
    EXPECT_LIKE_LIBC("%i", INT_MIN);
    EXPECT_LIKE_LIBC("%i", 0);
    EXPECT_LIKE_LIBC("%i", 123456789);
    EXPECT("-2147483648", "%d", INT_MIN);
}

static void
test_unsigned_decimal(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("%u", 0u);
    EXPECT_LIKE_LIBC("%u", 7u);
    EXPECT_LIKE_LIBC("%u", 0x80000000u);
    EXPECT_LIKE_LIBC("%u", 0xFFFFFFFFu);
    EXPECT("4294967295", "%u", 0xFFFFFFFFu);
}

static void
test_hex(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("%x", 0u);
    EXPECT_LIKE_LIBC("%x", 0xdeadbeefu);
    EXPECT_LIKE_LIBC("%X", 0xdeadbeefu);
    EXPECT_LIKE_LIBC("%x", 0xFFFFFFFFu);
    EXPECT_LIKE_LIBC("%X", 0xABCDEF01u);
    EXPECT_LIKE_LIBC("%x", 0x10u);
    EXPECT("ffffffff", "%x", 0xFFFFFFFFu);
    EXPECT("DEADBEEF", "%X", 0xdeadbeefu);
    // '#' adds the base prefix, as in C: none for zero, inside zero padding.
    EXPECT_LIKE_LIBC("%#x", 0x1cu);
    EXPECT_LIKE_LIBC("%#X", 0xabu);
    EXPECT_LIKE_LIBC("%#x", 0u);
    EXPECT_LIKE_LIBC("%#010x", 0xbeefu);
    EXPECT_LIKE_LIBC("%#llx", 0x123456789abcull);
}

static void
test_long_long(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("%lld", LLONG_MIN);
    EXPECT_LIKE_LIBC("%lld", LLONG_MAX);
    EXPECT_LIKE_LIBC("%lli", -1LL);
    EXPECT_LIKE_LIBC("%llu", ULLONG_MAX);
    EXPECT_LIKE_LIBC("%llx", ULLONG_MAX);
    EXPECT_LIKE_LIBC("%llX", 0x123456789ABCDEF0ULL);
    EXPECT_LIKE_LIBC("%llu", 4294967295ULL);
    EXPECT_LIKE_LIBC("%llu", 4294967296ULL);
    EXPECT_LIKE_LIBC("%llu", 10000000000000000000ULL);
    EXPECT("-9223372036854775808", "%lld", LLONG_MIN);
    EXPECT("18446744073709551615", "%llu", ULLONG_MAX);
    EXPECT("ffffffffffffffff", "%llx", ULLONG_MAX);
}

// Next value of a fixed xorshift sequence: many 64-bit numbers whose high
// and low words both vary, to exercise the 32-bit-only division.
static uint64_t
next_value(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

// Checks %llu, %lld, %llx and %llX of v against glibc.
static void
check_64(uint64_t v)
{
    EXPECT_LIKE_LIBC("%llu", (unsigned long long)v);
    EXPECT_LIKE_LIBC("%lld", (long long)v);
    EXPECT_LIKE_LIBC("%llx", (unsigned long long)v);
    EXPECT_LIKE_LIBC("%llX", (unsigned long long)v);
}

static void
test_64bit_sweep(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    uint64_t p10 = 1;

    (void)state;
    for (int i = 0; i < 64; i++) {
        uint64_t p2 = 1ULL << i;
        check_64(p2 - 1);
        check_64(p2);
        check_64(p2 + 1);
    }
    for (int i = 0; i < 20; i++, p10 *= 10) {
        check_64(p10 - 1);
        check_64(p10);
        check_64(p10 + 1);
    }
    for (int i = 0; i < 5000; i++) {
        uint64_t v = next_value(&x);
        check_64(v);
        check_64(v >> (i % 64));
    }
}

static void
test_length_modifiers(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("%ld", LONG_MIN);
    EXPECT_LIKE_LIBC("%ld", LONG_MAX);
    EXPECT_LIKE_LIBC("%lu", ULONG_MAX);
    EXPECT_LIKE_LIBC("%lx", ULONG_MAX);
    EXPECT_LIKE_LIBC("%li", -12345L);
    EXPECT_LIKE_LIBC("%zu", SIZE_MAX);
    EXPECT_LIKE_LIBC("%zu", (size_t)0);
    EXPECT_LIKE_LIBC("%zx", (size_t)0x1234);
    EXPECT_LIKE_LIBC("%zd", (ssize_t)-5);
    EXPECT_LIKE_LIBC("%zd", (ssize_t)SSIZE_MAX);
}

// Out-of-range ints on purpose, which clang's -Wformat rejects.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void
test_short_lengths_narrow(void **state)
{
    (void)state;
    // h and hh narrow the promoted int back to (unsigned) short and char.
    EXPECT_LIKE_LIBC("%hd", (short)-3);
    EXPECT_LIKE_LIBC("%hd", (int)70000);
    EXPECT_LIKE_LIBC("%hu", (int)70000);
    EXPECT_LIKE_LIBC("%hx", (int)0x12345);
    EXPECT_LIKE_LIBC("%hhd", (int)200);
    EXPECT_LIKE_LIBC("%hhu", (int)-1);
    EXPECT_LIKE_LIBC("%hhx", (int)0x1FF);
    EXPECT_LIKE_LIBC("%hhi", (int)-128);
}
#pragma GCC diagnostic pop

static void
test_width_and_flags(void **state)
{
    (void)state;
    EXPECT_LIKE_LIBC("[%5d]", 42);
    EXPECT_LIKE_LIBC("[%-5d]", 42);
    EXPECT_LIKE_LIBC("[%05d]", 42);
    EXPECT_LIKE_LIBC("[%05d]", -42);
    EXPECT_LIKE_LIBC("[%5d]", -42);
    EXPECT_LIKE_LIBC("[%-5d]", -42);
    EXPECT_LIKE_LIBC("[%1d]", 12345);
    EXPECT_LIKE_LIBC("[%012d]", INT_MIN);
    EXPECT_LIKE_LIBC("[%8x]", 0xbeefu);
    EXPECT_LIKE_LIBC("[%08X]", 0xbeefu);
    EXPECT_LIKE_LIBC("[%-8x]", 0xbeefu);
    EXPECT_LIKE_LIBC("[%08x]", 0xFFFFFFFFu);
    EXPECT_LIKE_LIBC("[%020llu]", ULLONG_MAX);
    EXPECT_LIKE_LIBC("[%25lld]", LLONG_MIN);
    EXPECT_LIKE_LIBC("[%-25lld]", LLONG_MIN);
    EXPECT_LIKE_LIBC("[%*d]", 6, 42);
    EXPECT_LIKE_LIBC("[%*d]", -6, 42);
    EXPECT_LIKE_LIBC("[%-*d]", 6, 42);
    EXPECT_LIKE_LIBC("[%0*d]", 6, -42);
    EXPECT_LIKE_LIBC("[%*d]", 0, 42);
    EXPECT_LIKE_LIBC("[%5s]", "ab");
    EXPECT_LIKE_LIBC("[%-5s]", "ab");
    EXPECT_LIKE_LIBC("[%2s]", "abcdef");
    EXPECT_LIKE_LIBC("[%*s]", 4, "x");
    EXPECT_LIKE_LIBC("[%3c]", 'z');
    EXPECT_LIKE_LIBC("[%-3c]", 'z');
    EXPECT_LIKE_LIBC("[%10u]", 0u);
    EXPECT_LIKE_LIBC("[%-10u]", 0xFFFFFFFFu);
}

// Flag combinations C defines but gcc warns about as likely mistakes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void
test_flag_interplay(void **state)
{
    (void)state;
    // '-' wins over '0', in either order.
    EXPECT_LIKE_LIBC("[%-05d]", 42);
    EXPECT_LIKE_LIBC("[%0-5d]", -42);
    EXPECT_LIKE_LIBC("[%-08x]", 0xabu);
    // A precision switches '0' off for numbers.
    EXPECT_LIKE_LIBC("[%08.3d]", 42);
    EXPECT_LIKE_LIBC("[%08.3d]", -42);
    EXPECT_LIKE_LIBC("[%06.0d]", 0);
    // C leaves '0' with %s and %c undefined; Tandem pads them with spaces.
    EXPECT("[    a]", "[%05s]", "a");
    EXPECT("[   c]", "[%04c]", 'c');
}
#pragma GCC diagnostic pop

static void
test_precision(void **state)
{
    static const char unterminated[3] = { 'a', 'b', 'c' };

    (void)state;
    EXPECT_LIKE_LIBC("[%.3s]", "abcdef");
    EXPECT_LIKE_LIBC("[%.5s]", "abcdefghij");
    EXPECT_LIKE_LIBC("[%.10s]", "abc");
    EXPECT_LIKE_LIBC("[%.0s]", "abc");
    EXPECT_LIKE_LIBC("[%.s]", "abc");
    EXPECT_LIKE_LIBC("[%.*s]", 2, "abc");
    EXPECT_LIKE_LIBC("[%.*s]", -1, "abc");
    EXPECT_LIKE_LIBC("[%8.3s]", "abcdef");
    EXPECT_LIKE_LIBC("[%-8.3s]", "abcdef");
    EXPECT_LIKE_LIBC("[%*.*s]", 6, 2, "abcdef");
    // The precision bounds the read: ASan would flag a byte past the array.
    EXPECT("[abc]", "[%.3s]", unterminated);
    EXPECT("[ab]", "[%.*s]", 2, unterminated);
    // On numbers the precision is a minimum digit count.
    EXPECT_LIKE_LIBC("[%.5d]", 42);
    EXPECT_LIKE_LIBC("[%.5d]", -42);
    EXPECT_LIKE_LIBC("[%.0d]", 0);
    EXPECT_LIKE_LIBC("[%.0x]", 0u);
    EXPECT_LIKE_LIBC("[%5.0d]", 0);
    EXPECT_LIKE_LIBC("[%.0d]", 7);
    EXPECT_LIKE_LIBC("[%8.3d]", -5);
    EXPECT_LIKE_LIBC("[%-8.3x]", 0xau);
    EXPECT_LIKE_LIBC("[%.*d]", 4, 9);
    EXPECT_LIKE_LIBC("[%.*d]", -4, 9);
    EXPECT_LIKE_LIBC("[%.20llu]", 1ULL);
}

static void
test_char(void **state)
{
    char buf[8];

    (void)state;
    EXPECT_LIKE_LIBC("%c", 'A');
    EXPECT_LIKE_LIBC("%c%c%c", 'a', 'b', 'c');
    EXPECT_LIKE_LIBC("%c", 0x141); // converted to unsigned char: 'A'
    EXPECT_LIKE_LIBC("%c", (char)0xE9);
    // A NUL character is produced and counted like any other.
    memset(buf, 'X', sizeof buf);
    assert_int_equal(ksnprintf(buf, sizeof buf, "a%cb", 0), 3);
    assert_memory_equal(buf, "a\0b\0", 4);
}

static void
test_pointer(void **state)
{
    char want[64];
    int digits = (int)sizeof(void *) * 2;
    void *volatile null_ptr = NULL;

    (void)state;
    // NULL prints as a number, unlike glibc's "(nil)".
    snprintf(want, sizeof want, "0x%0*d", digits, 0);
    EXPECT(want, "%p", null_ptr);
    snprintf(want, sizeof want, "0x%0*" PRIxPTR, digits, (uintptr_t)0x1234);
    EXPECT(want, "%p", (void *)0x1234);
    snprintf(want, sizeof want, "0x%" PRIxPTR, UINTPTR_MAX);
    EXPECT(want, "%p", (void *)UINTPTR_MAX);
    snprintf(want, sizeof want, "[    0x%0*" PRIxPTR "]", digits, (uintptr_t)0xc0ffee);
    EXPECT(want, "[%*p]", digits + 6, (void *)0xc0ffee);
    snprintf(want, sizeof want, "[0x%0*" PRIxPTR "    ]", digits, (uintptr_t)0xc0ffee);
    EXPECT(want, "[%-*p]", digits + 6, (void *)0xc0ffee);
    if (sizeof(void *) == 4)
        EXPECT("0x00001234", "%p", (void *)0x1234);
    else
        EXPECT("0x0000000000001234", "%p", (void *)0x1234);
}

static void
test_null_string(void **state)
{
    const char *volatile null_str = NULL;

    (void)state;
    EXPECT("(null)", "%s", null_str);
    EXPECT("[  (null)]", "[%8s]", null_str);
    EXPECT("[(null)  ]", "[%-8s]", null_str);
    EXPECT("[(nu]", "[%.3s]", null_str);
}

static void
test_unknown_conversion(void **state)
{
    // Through a table, so the compiler does not reject the formats; each
    // is called with one spare argument no conversion consumes.
    static const char *const cases[][2] = {
        { "%q", "%q" },
        { "a%qb", "a%qb" },
        { "%5q", "%5q" },
        { "%-08.3lq", "%-08.3lq" },
        { "%llk|%hhy", "%llk|%hhy" },
        { "%", "%" },
        { "abc%", "abc%" },
        { "%5", "%5" },
        { "%-", "%-" },
        { "%l", "%l" },
        { "%q%%", "%q%" },
    };
    char got[64];

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = ksnprintf(got, sizeof got, cases[i][0], 0);
        assert_string_equal(got, cases[i][1]);
        assert_int_equal(n, (int)strlen(cases[i][1]));
    }
}

static void
test_mixed_arguments(void **state)
{
    (void)state;
    // 32- and 64-bit arguments interleaved: each va_arg must take its size.
    EXPECT_LIKE_LIBC("%s=%d (%x) %c %llu %ld %lld|%u", "key", -7, 0x10u, 'Q', ULLONG_MAX, -1L,
                     LLONG_MIN, 3u);
    EXPECT_LIKE_LIBC("%*.*s|%d|%-*x|", 5, 2, "abcdef", 7, 4, 0xau);
    EXPECT_LIKE_LIBC("%lld %d %llx %d", 1LL << 40, 1, 0xFULL << 60, 2);
}

// Fills sizeof(buf) bytes with a guard pattern, formats into the first
// `size`, and checks text, return value and that nothing past `size` moved.
static void
check_size(size_t size, const char *fmt, const char *full)
{
    char got[32], want[32];
    int got_n, want_n;

    memset(got, '#', sizeof got);
    memset(want, '#', sizeof want);
    got_n = ksnprintf(got, size, fmt, "hello");
    want_n = snprintf(want, size, fmt, "hello");
    assert_int_equal(got_n, (int)strlen(full));
    assert_int_equal(got_n, want_n);
    assert_memory_equal(got, want, sizeof got);
    for (size_t i = size; i < sizeof got; i++)
        assert_int_equal(got[i], '#');
    if (size > 0) {
        assert_int_equal(strlen(got), size - 1 < strlen(full) ? size - 1 : strlen(full));
        assert_memory_equal(got, full, strlen(got));
    }
}

static void
test_snprintf_sizes(void **state)
{
    char buf[4] = "abc";

    (void)state;
    // Size 0: nothing written, not even a NUL; buf may be NULL.
    assert_int_equal(ksnprintf(NULL, 0, "%s", "hello"), 5);
    assert_int_equal(ksnprintf(buf, 0, "%d", 12345), 5);
    assert_string_equal(buf, "abc");

    check_size(0, "%s", "hello");
    check_size(1, "%s", "hello"); // just the NUL
    check_size(2, "%s", "hello");
    check_size(5, "%s", "hello"); // one short: "hell"
    check_size(6, "%s", "hello"); // exact
    check_size(7, "%s", "hello");
    check_size(31, "%s", "hello");
    // Truncation inside padding and inside a field.
    check_size(4, "[%8s]", "[   hello]");
    check_size(9, "[%-8s]", "[hello   ]");
    check_size(11, "[%-8s]", "[hello   ]");
}

static void
test_snprintf_truncates_numbers(void **state)
{
    char buf[6];

    (void)state;
    memset(buf, '#', sizeof buf);
    assert_int_equal(ksnprintf(buf, 4, "%d", INT_MIN), 11);
    assert_memory_equal(buf, "-21\0##", 6);
    assert_int_equal(ksnprintf(buf, sizeof buf, "%llu", ULLONG_MAX), 20);
    assert_string_equal(buf, "18446");
    assert_int_equal(ksnprintf(buf, 1, "%x", 0xFFFFFFFFu), 8);
    assert_string_equal(buf, "");
}

// Collects produced characters for the format_v test.
struct collect {
    char text[64];
    int calls;
};

// An emit callback: stores c and counts the call.
static void
collect_char(char c, void *ctx)
{
    struct collect *col = ctx;

    col->text[col->calls++] = c;
}

// Variadic front end for format_v, like a console printf would be.
static int PRINTF_LIKE(2, 3) collect_printf(struct collect *col, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = format_v(collect_char, col, fmt, ap);
    va_end(ap);
    return n;
}

static void
test_format_v_callback(void **state)
{
    struct collect col = { { 0 }, 0 };
    int n;

    (void)state;
    n = collect_printf(&col, "%s:%05d:%c", "id", -12, 0);
    // One call per character, the NUL from %c included; no terminator added.
    assert_int_equal(n, 10);
    assert_int_equal(col.calls, 10);
    assert_memory_equal(col.text, "id:-0012:\0", 10);

    col.calls = 0;
    assert_int_equal(collect_printf(&col, "%s", ""), 0);
    assert_int_equal(col.calls, 0);
}

// Variadic front end for kvsnprintf.
static int PRINTF_LIKE(3, 4) via_kvsnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void
test_kvsnprintf(void **state)
{
    char buf[16];

    (void)state;
    assert_int_equal(via_kvsnprintf(buf, sizeof buf, "%d-%s", 5, "x"), 3);
    assert_string_equal(buf, "5-x");
    assert_int_equal(via_kvsnprintf(buf, 3, "%u", 123456u), 6);
    assert_string_equal(buf, "12");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text),
        cmocka_unit_test(test_signed_decimal),
        cmocka_unit_test(test_unsigned_decimal),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_long_long),
        cmocka_unit_test(test_64bit_sweep),
        cmocka_unit_test(test_length_modifiers),
        cmocka_unit_test(test_short_lengths_narrow),
        cmocka_unit_test(test_width_and_flags),
        cmocka_unit_test(test_flag_interplay),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_char),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_null_string),
        cmocka_unit_test(test_unknown_conversion),
        cmocka_unit_test(test_mixed_arguments),
        cmocka_unit_test(test_snprintf_sizes),
        cmocka_unit_test(test_snprintf_truncates_numbers),
        cmocka_unit_test(test_format_v_callback),
        cmocka_unit_test(test_kvsnprintf),
    };

    return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
