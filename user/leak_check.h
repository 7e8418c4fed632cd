/* Leak checks for the user tests: the kernel counters a leak would move -
 * threads, processes, the heap's live blocks, open handles and live
 * objects - read once they have settled (the runtime's sysinfo_settled),
 * then compared with a baseline.  Header-only, static. */
#ifndef TANDEM_USER_LEAK_CHECK_H
#define TANDEM_USER_LEAK_CHECK_H

#include "tandem.h"
#include "utest.h"

#define LEAK_UNUSED_FN __attribute__((unused))

// Waits at most `ticks` for every counter to be back at *base; returns
// whether they came back (*now: the last reading).
static LEAK_UNUSED_FN bool
counts_back(const struct sysinfo *base, struct sysinfo *now, unsigned ticks)
{
    unsigned start = sys_time();
    for (;;) {
        if (sys_sysinfo(now) != 0)
            return false;
        if (sysinfo_counts_equal(now, base))
            return true;
        if (sys_time() - start > ticks)
            return false;
        sys_sleep(1);
    }
}

// Expects every counter back at *base within `ticks`, reporting each one
// that is not.
static LEAK_UNUSED_FN void
counts_expect_back(const struct sysinfo *base, unsigned ticks, const char *file, int line)
{
    struct sysinfo now = { 0 };
    if (counts_back(base, &now, ticks))
        return;
    utest_check_uint(UT_EQ, now.threads, base->threads, "threads", "at the start", file, line);
    utest_check_uint(UT_EQ, now.processes, base->processes, "processes", "at the start", file,
                     line);
    utest_check_uint(UT_EQ, now.heap_live_blocks, base->heap_live_blocks, "heap_live_blocks",
                     "at the start", file, line);
    utest_check_uint(UT_EQ, now.handles, base->handles, "handles", "at the start", file, line);
    utest_check_uint(UT_EQ, now.objects, base->objects, "objects", "at the start", file, line);
}

#define EXPECT_COUNTS_BACK(base, ticks) counts_expect_back(base, ticks, __FILE__, __LINE__)

#endif
