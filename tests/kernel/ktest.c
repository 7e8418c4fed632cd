// The in-kernel test runner: finds KTEST()s, runs them, prints KTAP v1.
#include <stdarg.h>
#include "irq.h"
#include "kfast.h"
#include "kprintf.h"
#include "ktest.h"
#include "thread.h"
#include "lib/setjmp.h"
#include "lib/string.h"
#include "trap.h"
#include "x86.h"

#define KTEST_MAX 512

extern const struct ktest __ktests_start[], __ktests_end[];

static const struct ktest *s_sorted[KTEST_MAX];
static unsigned s_count;
static bool s_failed;   // the current test has failed
static jmp_buf s_abort; // where a fatal assertion returns to

// Orders tests by suite, then file, then line, so suites print in a stable
// order and each suite's tests in the order they are written.
static int
ktest_cmp(const struct ktest *a, const struct ktest *b)
{
    int c = strcmp(a->suite, b->suite);
    if (c == 0)
        c = strcmp(a->file, b->file);
    return c ? c : a->line - b->line;
}

static void
ktest_collect(void)
{
    s_count = 0;
    for (const struct ktest *t = __ktests_start; t < __ktests_end && s_count < KTEST_MAX; t++) {
        unsigned i = s_count++;
        while (i > 0 && ktest_cmp(s_sorted[i - 1], t) > 0) {
            s_sorted[i] = s_sorted[i - 1];
            i--;
        }
        s_sorted[i] = t;
    }
}

static void
ktest_failed(bool fatal)
{
    s_failed = true;
    if (fatal)
        longjmp(s_abort, 1);
}

void
ktest_fail(const char *file, int line, bool fatal, const char *fmt, ...)
{
    va_list ap;
    kprintf("  # %s:%d: ", file, line);
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\n");
    ktest_failed(fatal);
}

static const char *const s_op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

static bool
op_holds(enum ktest_op op, int cmp)
{
    switch (op) {
    case KT_EQ: return cmp == 0;
    case KT_NE: return cmp != 0;
    case KT_LT: return cmp < 0;
    case KT_LE: return cmp <= 0;
    case KT_GT: return cmp > 0;
    case KT_GE: return cmp >= 0;
    }
    return false;
}

bool
ktest_check_int(enum ktest_op op, long long a, long long b, const char *as, const char *bs,
                const char *file, int line, bool fatal)
{
    if (op_holds(op, (a > b) - (a < b)))
        return true;
    kprintf("  # %s:%d: expected %s %s %s\n", file, line, as, s_op_names[op], bs);
    kprintf("  #   %s = %lld (%#llx)\n  #   %s = %lld (%#llx)\n", as, a, a, bs, b, b);
    ktest_failed(fatal);
    return false;
}

bool
ktest_check_uint(enum ktest_op op, unsigned long long a, unsigned long long b, const char *as,
                 const char *bs, const char *file, int line, bool fatal)
{
    if (op_holds(op, (a > b) - (a < b)))
        return true;
    kprintf("  # %s:%d: expected %s %s %s\n", file, line, as, s_op_names[op], bs);
    kprintf("  #   %s = %llu (%#llx)\n  #   %s = %llu (%#llx)\n", as, a, a, bs, b, b);
    ktest_failed(fatal);
    return false;
}

bool
ktest_check_str(const char *a, const char *b, const char *as, const char *bs, const char *file,
                int line, bool fatal)
{
    if (a && b && strcmp(a, b) == 0)
        return true;
    kprintf("  # %s:%d: expected %s == %s\n  #   \"%s\"\n  #   \"%s\"\n", file, line, as, bs,
            a ? a : "(null)", b ? b : "(null)");
    ktest_failed(fatal);
    return false;
}

bool
ktest_check_mem(const void *a, const void *b, uint32_t n, const char *as, const char *bs,
                const char *file, int line, bool fatal)
{
    const uint8_t *pa = a, *pb = b;
    for (uint32_t i = 0; i < n; i++) {
        if (pa[i] != pb[i]) {
            kprintf("  # %s:%d: %s and %s differ at byte %u of %u: %02x != %02x\n", file, line, as,
                    bs, i, n, pa[i], pb[i]);
            ktest_failed(fatal);
            return false;
        }
    }
    return true;
}

// Runs one test; a fatal assertion longjmps back here.  Kept apart from the
// loop so that no caller variable lives across setjmp.
static NOINLINE bool
ktest_run_one(const struct ktest *t)
{
    s_failed = false;
    // Each test is one arena scope: the runner is a kernel thread and never
    // returns to user mode, so this is where its scratch memory goes back.
    kfast_mark_t scope = kfast_mark();
    if (setjmp(s_abort) == 0)
        t->fn();
    kfast_release(scope);
    // A test must not leave an IRQ in service - an interrupt that never got
    // its EOI, which blocks that IRQ and those below it; IRQ 0's stops the
    // timer for every test after it - nor the timer masked.  Either is the
    // test's failure, and is undone so that the next tests still run.
    uint32_t flags = irq_save();
    uint16_t isr = irq_in_service();
    if (isr) {
        kprintf("  # %s:%d: the test left IRQs %#x in service (an interrupt without its EOI)\n",
                t->file, t->line, isr);
        irq_end_abandoned();
        s_failed = true;
    }
    if (irq_masked() & (1u << IRQ_TIMER)) {
        kprintf("  # %s:%d: the test left IRQ 0 (the timer) masked\n", t->file, t->line);
        irq_unmask(IRQ_TIMER);
        s_failed = true;
    }
    irq_restore(flags);
    // A test must leave interrupts on, as it found them: the next test
    // (and the timer) depend on it.
    if (!(read_eflags() & EFLAGS_IF)) {
        kprintf("  # %s:%d: the test returned with interrupts off\n", t->file, t->line);
        s_failed = true;
        sti();
    }
    return !s_failed;
}

// Runs tests [first, first + n), all of one suite, as one KTAP subtest.
static bool
ktest_run_suite(unsigned index, unsigned first, unsigned n)
{
    const char *suite = s_sorted[first]->suite;
    unsigned failures = 0;
    kprintf("  KTAP version 1\n  # Subtest: %s\n  1..%u\n", suite, n);
    for (unsigned i = 0; i < n; i++) {
        const struct ktest *t = s_sorted[first + i];
        bool passed = ktest_run_one(t);
        kprintf("  %sok %u %s\n", passed ? "" : "not ", i + 1, t->name);
        failures += !passed;
    }
    kprintf("%sok %u %s\n", failures ? "not " : "", index, suite);
    return failures == 0;
}

// Counts the suites (runs of equal suite names) in the sorted table.
static unsigned
ktest_suite_end(unsigned first)
{
    unsigned end = first + 1;
    while (end < s_count && strcmp(s_sorted[end]->suite, s_sorted[first]->suite) == 0)
        end++;
    return end;
}


unsigned g_ktest_top_level_results; // printed so far (user tests number after them)

bool
ktest_leak_suite(const char *name)
{
    kprintf("  KTAP version 1\n  # Subtest: %s\n  1..1\n", name);
    s_failed = false;
    ktest_baseline_check();
    g_ktest_top_level_results++;
    kprintf("  %sok 1 counters_back_to_baseline\n%sok %u %s\n", s_failed ? "not " : "",
            s_failed ? "not " : "", g_ktest_top_level_results, name);
    return !s_failed;
}

bool
ktest_stack_suite(const char *name)
{
    struct stack_depth d;
    thread_deepest_user_stack(&d);
    kprintf("  KTAP version 1\n  # Subtest: %s\n  1..1\n", name);
    kprintf("  # deepest kernel stack of a user thread: %u bytes (thread %u, %s); "
            "KFAST_STACK_WORST %u, pages kept below %u bytes from the top\n",
            d.bytes, d.tid, d.name, KFAST_STACK_WORST, KFAST_KEEP_DEPTH);
    bool ok = d.bytes <= KFAST_STACK_WORST;
    g_ktest_top_level_results++;
    kprintf("  %sok 1 deepest_user_stack_within_kfast_stack_worst\n%sok %u %s\n", ok ? "" : "not ",
            ok ? "" : "not ", g_ktest_top_level_results, name);
    return ok;
}

// Whether a suite runs: the one named, or with no name every suite but
// those that end the boot on purpose (halt_*: they panic), which run only
// when named.
static bool
ktest_suite_selected(const char *name, const char *asked)
{
    if (asked[0])
        return strcmp(name, asked) == 0;
    return strncmp(name, "halt_", 5) != 0;
}

bool
ktest_run(const char *suite, unsigned extra)
{
    ktest_collect();
    bool all = suite[0] == '\0';
    unsigned planned = 0;
    for (unsigned i = 0; i < s_count; i = ktest_suite_end(i))
        planned += ktest_suite_selected(s_sorted[i]->suite, suite);

    kprintf("KTAP version 1\n");
    if (planned == 0) {
        kprintf("# unknown suite '%s'; the suites are:", suite);
        for (unsigned i = 0; i < s_count; i = ktest_suite_end(i))
            kprintf(" %s", s_sorted[i]->suite);
        kprintf("\n1..1\nnot ok 1 %s # unknown suite\n", suite);
        return false;
    }
    kprintf("1..%u\n", planned + all + extra);
    ktest_baseline_take();
    bool ok = true;
    for (unsigned i = 0, end; i < s_count; i = end) {
        end = ktest_suite_end(i);
        if (ktest_suite_selected(s_sorted[i]->suite, suite))
            ok &= ktest_run_suite(++g_ktest_top_level_results, i, end - i);
    }
    if (all)
        ok &= ktest_leak_suite("leaks");
    return ok;
}
