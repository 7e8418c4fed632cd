// String and memory functions as the kernel links them.
#include "ktest.h"
#include "lib/string.h"

KTEST(string, memmove_overlapping_both_ways)
{
    char fwd[] = "abcdef", back[] = "abcdef";
    memmove(fwd + 2, fwd, 4);
    memmove(back, back + 2, 4);
    KEXPECT_STREQ(fwd, "ababcd");
    KEXPECT_STREQ(back, "cdefef");
}

KTEST(string, memset_memcpy_memcmp)
{
    unsigned char a[16], b[16];
    memset(a, 0xA5, sizeof(a));
    memcpy(b, a, sizeof(b));
    KEXPECT_EQ(memcmp(a, b, sizeof(a)), 0);
    b[15] = 0;
    KEXPECT_GT(memcmp(a, b, sizeof(a)), 0);
    KEXPECT_EQ(a[7], 0xA5);
}

KTEST(string, lengths_and_comparisons)
{
    KEXPECT_EQ(strlen(""), 0);
    KEXPECT_EQ(strlen("tandem"), 6);
    KEXPECT_EQ(strnlen("tandem", 3), 3);
    KEXPECT_EQ(strcmp("abc", "abc"), 0);
    KEXPECT_LT(strcmp("abc", "abd"), 0);
    KEXPECT_EQ(strncmp("abcx", "abcy", 3), 0);
    const char *word = "tandem";
    KEXPECT_PTR_EQ(strchr(word, 'd'), word + 3);
    KEXPECT_PTR_EQ(strchr(word, '\0'), word + 6);
    KEXPECT_NULL(strchr(word, 'z'));
}

KTEST(string, strlcpy_truncates_and_terminates)
{
    char buf[4];
    KEXPECT_EQ(strlcpy(buf, "abcdef", sizeof(buf)), 6);
    KEXPECT_STREQ(buf, "abc");
}
