// The formatting engine as the 32-bit kernel runs it (the host tests cover
// it in depth natively; this suite proves the i686 build, without libgcc).
#include "ktest.h"
#include "lib/format.h"

// gcc's <limits.h> wants a C library behind it; the built-in macros suffice.
#define INT_MAX    __INT_MAX__
#define INT_MIN    (-__INT_MAX__ - 1)
#define LLONG_MIN  (-__LONG_LONG_MAX__ - 1LL)
#define ULLONG_MAX (__LONG_LONG_MAX__ * 2ULL + 1ULL)

#define EXPECT_FMT(want, ...)                                \
    do {                                                     \
        char buf_[64];                                       \
        int n_ = ksnprintf(buf_, sizeof(buf_), __VA_ARGS__); \
        KEXPECT_STREQ(buf_, want);                           \
        KEXPECT_EQ(n_, (int)sizeof(want) - 1);               \
    } while (0)

KTEST(format, signed_decimal)
{
    EXPECT_FMT("0 -1 42", "%d %i %d", 0, -1, 42);
    EXPECT_FMT("-2147483648 2147483647", "%d %d", INT_MIN, INT_MAX);
}

KTEST(format, unsigned_and_hex)
{
    EXPECT_FMT("4294967295 ffffffff FFFFFFFF", "%u %x %X", 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu);
    EXPECT_FMT("0", "%x", 0);
}

KTEST(format, long_long_without_libgcc)
{
    EXPECT_FMT("18446744073709551615", "%llu", ULLONG_MAX);
    EXPECT_FMT("-9223372036854775808", "%lld", LLONG_MIN);
    EXPECT_FMT("123456789abcdef0", "%llx", 0x123456789ABCDEF0ull);
    EXPECT_FMT("-7", "%ld", -7L);
}

KTEST(format, width_and_padding)
{
    EXPECT_FMT("   42|00042|42   ", "%5d|%05d|%-5d", 42, 42, 42);
    EXPECT_FMT("-0042", "%05d", -42);
    EXPECT_FMT("0000beef", "%08x", 0xBEEF);
}

KTEST(format, strings_chars_pointers_percent)
{
    const char *volatile null_string = 0; // volatile: hide the NULL from -Wformat
    EXPECT_FMT("ab c (null) 100%", "%s %c %s %d%%", "ab", 'c', null_string, 100);
    EXPECT_FMT("0xc0001000", "%p", (void *)0xC0001000);
    EXPECT_FMT("  hi", "%4s", "hi");
}

KTEST(format, truncation_returns_full_length)
{
    char buf[4];
    KEXPECT_EQ(ksnprintf(buf, sizeof(buf), "%d", 123456), 6);
    KEXPECT_STREQ(buf, "123");
    KEXPECT_EQ(ksnprintf(buf, 0, "abc"), 3);
}
