/* In-kernel self-tests, reported as KTAP version 1 on the console.
 *
 *   KTEST(suite, name) { KEXPECT_EQ(1 + 1, 2); }
 *
 * Tests register themselves in the .ktests.<suite> linker section; the
 * command line word `test` runs every suite, `test=SUITE` one of them.
 * Suites named halt_* end the boot on purpose (a panic): `test` leaves
 * them out, only `test=halt_...` runs one (tests/boot/smp_halt.py).
 * KEXPECT_* report a failure and let the test go on; KASSERT_* end the
 * test at once (and only the test). */
#ifndef TANDEM_KTEST_H
#define TANDEM_KTEST_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

struct ktest {
    const char *suite;
    const char *name;
    void (*fn)(void);
    const char *file;
    int line;
};

#define KTEST(suite, name)                                                               \
    static void ktest_##suite##_##name(void);                                            \
    static const struct ktest ktest_desc_##suite##_##name SECTION(".ktests." #suite)     \
        USED ALIGNED(4) = { #suite, #name, ktest_##suite##_##name, __FILE__, __LINE__ }; \
    static void ktest_##suite##_##name(void)

enum ktest_op { KT_EQ, KT_NE, KT_LT, KT_LE, KT_GT, KT_GE };

// The check behind every KEXPECT/KASSERT; returns whether it held.
bool ktest_check_int(enum ktest_op op, long long a, long long b, const char *as, const char *bs,
                     const char *file, int line, bool fatal);
bool ktest_check_uint(enum ktest_op op, unsigned long long a, unsigned long long b, const char *as,
                      const char *bs, const char *file, int line, bool fatal);
bool ktest_check_str(const char *a, const char *b, const char *as, const char *bs, const char *file,
                     int line, bool fatal);
bool ktest_check_mem(const void *a, const void *b, uint32_t n, const char *as, const char *bs,
                     const char *file, int line, bool fatal);
// Fails the current test with a message (and ends it if fatal).
void ktest_fail(const char *file, int line, bool fatal, const char *fmt, ...) PRINTF_LIKE(4, 5);

#define KT_INT_(op, a, b, f) \
    ktest_check_int(op, (long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__, f)
#define KT_UINT_(op, a, b, f)                                                                \
    ktest_check_uint(op, (unsigned long long)(a), (unsigned long long)(b), #a, #b, __FILE__, \
                     __LINE__, f)

#define KEXPECT_EQ(a, b)       KT_INT_(KT_EQ, a, b, false)
#define KEXPECT_NE(a, b)       KT_INT_(KT_NE, a, b, false)
#define KEXPECT_LT(a, b)       KT_INT_(KT_LT, a, b, false)
#define KEXPECT_LE(a, b)       KT_INT_(KT_LE, a, b, false)
#define KEXPECT_GT(a, b)       KT_INT_(KT_GT, a, b, false)
#define KEXPECT_GE(a, b)       KT_INT_(KT_GE, a, b, false)
#define KEXPECT_UEQ(a, b)      KT_UINT_(KT_EQ, a, b, false) // unsigned / addresses
#define KEXPECT_ULT(a, b)      KT_UINT_(KT_LT, a, b, false)
#define KEXPECT_ULE(a, b)      KT_UINT_(KT_LE, a, b, false)
#define KEXPECT_UGE(a, b)      KT_UINT_(KT_GE, a, b, false)
#define KEXPECT_TRUE(x)        KT_INT_(KT_NE, !!(x), 0, false)
#define KEXPECT_FALSE(x)       KT_INT_(KT_EQ, !!(x), 0, false)
#define KEXPECT_NULL(p)        KT_UINT_(KT_EQ, (uintptr_t)(p), 0, false)
#define KEXPECT_NOT_NULL(p)    KT_UINT_(KT_NE, (uintptr_t)(p), 0, false)
#define KEXPECT_PTR_EQ(a, b)   KT_UINT_(KT_EQ, (uintptr_t)(a), (uintptr_t)(b), false)
#define KEXPECT_STREQ(a, b)    ktest_check_str(a, b, #a, #b, __FILE__, __LINE__, false)
#define KEXPECT_MEMEQ(a, b, n) ktest_check_mem(a, b, n, #a, #b, __FILE__, __LINE__, false)

#define KASSERT_EQ(a, b)    KT_INT_(KT_EQ, a, b, true)
#define KASSERT_NE(a, b)    KT_INT_(KT_NE, a, b, true)
#define KASSERT_UEQ(a, b)   KT_UINT_(KT_EQ, a, b, true)
#define KASSERT_TRUE(x)     KT_INT_(KT_NE, !!(x), 0, true)
#define KASSERT_NOT_NULL(p) KT_UINT_(KT_NE, (uintptr_t)(p), 0, true)

// Runs the suite named suite (every suite if it is empty) and prints KTAP;
// the plan counts extra more top-level results that others print later
// (user-space test programs).  Returns true if every test passed.
bool ktest_run(const char *suite, unsigned extra);
// Top-level results printed so far.
extern unsigned g_ktest_top_level_results;
// Records the frame and heap counters that a leak check compares against.
void ktest_baseline_take(void);
// True if the counters are back at the baseline (ktest.c checks after
// every test; tests/kernel/baseline.c).
bool ktest_baseline_check(void);
// Prints a one-test suite that passes if the counters are back at the baseline.
bool ktest_leak_suite(const char *name);
// Prints a one-test suite that passes if no user thread's kernel stack went
// deeper than KFAST_STACK_WORST (the measure the arena keeps pages by).
bool ktest_stack_suite(const char *name);

#endif
