/* User-mode tests, reported as a KTAP version 1 subtest like the kernel's
 * (include/ktest.h):
 *
 *   UTEST(adds_up) { UEXPECT_EQ(1 + 1, 2); }
 *   int main(void) { return utest_run("test_example"); }
 *
 * UTEST() registers a test in the program's .utests section (user/user.ld);
 * utest_run runs them in source order and prints the suite indented two
 * spaces; init prints the top-level result line.  UEXPECT_* report a failure
 * and let the test go on; UASSERT_* also return from the function they are
 * written in, so they belong in the test function itself. */
#ifndef TANDEM_USER_UTEST_H
#define TANDEM_USER_UTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

struct utest {
    const char *name;
    void (*fn)(void);
    const char *file;
    int line;
};

#define UTEST(name)                                                    \
    static void utest_##name(void);                                    \
    static const struct utest utest_desc_##name SECTION(".utests")     \
        USED ALIGNED(4) = { #name, utest_##name, __FILE__, __LINE__ }; \
    static void utest_##name(void)

enum utest_op { UT_EQ, UT_NE, UT_LT, UT_LE, UT_GT, UT_GE };

// The checks behind the macros; each returns whether it held and, if not,
// prints the diagnostics and marks the current test failed.
bool utest_check_int(enum utest_op op, long long a, long long b, const char *as, const char *bs,
                     const char *file, int line);
bool utest_check_uint(enum utest_op op, unsigned long long a, unsigned long long b, const char *as,
                      const char *bs, const char *file, int line);
bool utest_check_str(const char *a, const char *b, const char *as, const char *bs, const char *file,
                     int line);
bool utest_check_mem(const void *a, const void *b, unsigned n, const char *as, const char *bs,
                     const char *file, int line);

// Fails the current test with a message.
void utest_fail(const char *file, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);

// Prints a KTAP diagnostic line ("  # ...") without failing anything.
void utest_note(const char *fmt, ...) PRINTF_LIKE(1, 2);

// Names what the checks that follow are doing (e.g. "int 0x80") in every
// failure report, until changed; NULL names nothing.  Reset for each test.
void utest_context(const char *what);

// Runs every UTEST() of the program as the suite `suite`; returns 0 if all
// passed, 1 otherwise (the process's exit code).
int utest_run(const char *suite);

#define UT_INT_(op, a, b) \
    utest_check_int(op, (long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define UT_UINT_(op, a, b)                                                                   \
    utest_check_uint(op, (unsigned long long)(a), (unsigned long long)(b), #a, #b, __FILE__, \
                     __LINE__)

#define UEXPECT_EQ(a, b)       UT_INT_(UT_EQ, a, b)
#define UEXPECT_NE(a, b)       UT_INT_(UT_NE, a, b)
#define UEXPECT_LT(a, b)       UT_INT_(UT_LT, a, b)
#define UEXPECT_LE(a, b)       UT_INT_(UT_LE, a, b)
#define UEXPECT_GT(a, b)       UT_INT_(UT_GT, a, b)
#define UEXPECT_GE(a, b)       UT_INT_(UT_GE, a, b)
#define UEXPECT_UEQ(a, b)      UT_UINT_(UT_EQ, a, b) // unsigned values, addresses
#define UEXPECT_UNE(a, b)      UT_UINT_(UT_NE, a, b)
#define UEXPECT_ULT(a, b)      UT_UINT_(UT_LT, a, b)
#define UEXPECT_ULE(a, b)      UT_UINT_(UT_LE, a, b)
#define UEXPECT_UGT(a, b)      UT_UINT_(UT_GT, a, b)
#define UEXPECT_UGE(a, b)      UT_UINT_(UT_GE, a, b)
#define UEXPECT_TRUE(x)        UT_INT_(UT_NE, !!(x), 0)
#define UEXPECT_FALSE(x)       UT_INT_(UT_EQ, !!(x), 0)
#define UEXPECT_STREQ(a, b)    utest_check_str(a, b, #a, #b, __FILE__, __LINE__)
#define UEXPECT_MEMEQ(a, b, n) utest_check_mem(a, b, n, #a, #b, __FILE__, __LINE__)
#define UFAIL(...)             utest_fail(__FILE__, __LINE__, __VA_ARGS__)

#define UASSERT_(check) \
    do {                \
        if (!(check))   \
            return;     \
    } while (0)
#define UASSERT_EQ(a, b) UASSERT_(UEXPECT_EQ(a, b))
#define UASSERT_NE(a, b) UASSERT_(UEXPECT_NE(a, b))
#define UASSERT_GT(a, b) UASSERT_(UEXPECT_GT(a, b))
#define UASSERT_GE(a, b) UASSERT_(UEXPECT_GE(a, b))
#define UASSERT_TRUE(x)  UASSERT_(UEXPECT_TRUE(x))

// Runs the statement that follows twice, through int 0x80 and then through
// sysenter, naming the mode in failure reports; sysenter stays selected.
#define FOR_EACH_SYSCALL_MODE()                                   \
    for (int utest_mode_ = utest_mode_step(-1); utest_mode_ >= 0; \
         utest_mode_ = utest_mode_step(utest_mode_))

// Selects the mode after `previous` (-1: the first); returns its number, or
// -1 after the last.
int utest_mode_step(int previous);

#endif
