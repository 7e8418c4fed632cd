// The user-mode test runner: finds UTEST()s, runs them, prints a KTAP subtest.
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define UTEST_MAX 128

extern const struct utest __utests_start[], __utests_end[];

static const struct utest *s_sorted[UTEST_MAX];
static unsigned s_count;
static volatile bool s_failed; // the current test has failed (any thread may say so)
static const char *s_context;  // see utest_context

static const char *const s_op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

// Orders tests by file, then line: the order they are written in.
static int
utest_cmp(const struct utest *a, const struct utest *b)
{
    int c = strcmp(a->file, b->file);
    return c ? c : a->line - b->line;
}

// Fills s_sorted with the program's tests, in utest_cmp order.
static void
utest_collect(void)
{
    s_count = 0;
    for (const struct utest *t = __utests_start; t < __utests_end && s_count < UTEST_MAX; t++) {
        unsigned i = s_count++;
        while (i > 0 && utest_cmp(s_sorted[i - 1], t) > 0) {
            s_sorted[i] = s_sorted[i - 1];
            i--;
        }
        s_sorted[i] = t;
    }
}

// Starts a failure report: "  # file:line: [context] ".
static void
report_where(const char *file, int line)
{
    if (s_context)
        printf("  # %s:%d: [%s] ", file, line, s_context);
    else
        printf("  # %s:%d: ", file, line);
}

// Whether `a op b` holds, given cmp = the sign of a - b.
static bool
op_holds(enum utest_op op, int cmp)
{
    switch (op) {
    case UT_EQ: return cmp == 0;
    case UT_NE: return cmp != 0;
    case UT_LT: return cmp < 0;
    case UT_LE: return cmp <= 0;
    case UT_GT: return cmp > 0;
    case UT_GE: return cmp >= 0;
    }
    return false;
}

void
utest_context(const char *what)
{
    s_context = what;
}

void
utest_note(const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("  # %s\n", line);
}

void
utest_fail(const char *file, int line, const char *fmt, ...)
{
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    report_where(file, line);
    printf("%s\n", text);
    s_failed = true;
}

bool
utest_check_int(enum utest_op op, long long a, long long b, const char *as, const char *bs,
                const char *file, int line)
{
    if (op_holds(op, (a > b) - (a < b)))
        return true;
    report_where(file, line);
    printf("expected %s %s %s\n", as, s_op_names[op], bs);
    printf("  #   %s = %lld (%#llx)\n  #   %s = %lld (%#llx)\n", as, a, a, bs, b, b);
    s_failed = true;
    return false;
}

bool
utest_check_uint(enum utest_op op, unsigned long long a, unsigned long long b, const char *as,
                 const char *bs, const char *file, int line)
{
    if (op_holds(op, (a > b) - (a < b)))
        return true;
    report_where(file, line);
    printf("expected %s %s %s\n", as, s_op_names[op], bs);
    printf("  #   %s = %llu (%#llx)\n  #   %s = %llu (%#llx)\n", as, a, a, bs, b, b);
    s_failed = true;
    return false;
}

bool
utest_check_str(const char *a, const char *b, const char *as, const char *bs, const char *file,
                int line)
{
    if (a && b && strcmp(a, b) == 0)
        return true;
    report_where(file, line);
    printf("expected %s == %s\n  #   \"%s\"\n  #   \"%s\"\n", as, bs, a ? a : "(null)",
           b ? b : "(null)");
    s_failed = true;
    return false;
}

bool
utest_check_mem(const void *a, const void *b, unsigned n, const char *as, const char *bs,
                const char *file, int line)
{
    const uint8_t *pa = a, *pb = b;
    for (unsigned i = 0; i < n; i++) {
        if (pa[i] != pb[i]) {
            report_where(file, line);
            printf("%s and %s differ at byte %u of %u: %02x != %02x\n", as, bs, i, n, pa[i], pb[i]);
            s_failed = true;
            return false;
        }
    }
    return true;
}

int
utest_mode_step(int previous)
{
    switch (previous) {
    case -1:
        syscall_mode_set(SYSCALL_INT80);
        utest_context("int 0x80");
        return 0;
    case 0:
        if (syscall_mode_set(SYSCALL_SYSENTER) != 0) {
            // Said once per program: the sysenter rounds are not run.
            static bool told;
            if (!told)
                utest_note("this CPU offers no sysenter: int 0x80 only");
            told = true;
            syscall_mode_set(syscall_mode_default());
            utest_context(NULL);
            return -1;
        }
        utest_context("sysenter");
        return 1;
    default:
        syscall_mode_set(syscall_mode_default());
        utest_context(NULL);
        return -1;
    }
}

int
utest_run(const char *suite)
{
    utest_collect();
    printf("  KTAP version 1\n  # Subtest: %s\n  1..%u\n", suite, s_count);
    unsigned failures = 0;
    for (unsigned i = 0; i < s_count; i++) {
        const struct utest *t = s_sorted[i];
        s_failed = false;
        s_context = NULL;
        syscall_mode_set(syscall_mode_default());
        t->fn();
        printf("  %sok %u %s\n", s_failed ? "not " : "", i + 1, t->name);
        failures += s_failed;
    }
    return failures ? 1 : 0;
}
