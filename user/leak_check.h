/* Leak checks for the user tests: the kernel counters a leak would move -
 * threads, processes, the heap's live blocks, open handles and live
 * objects - read once they have settled, then compared with a baseline.
 * (user/lib's sysinfo_settled watches only the first three.)  Header-only,
 * static. */
#ifndef TANDEM_USER_LEAK_CHECK_H
#define TANDEM_USER_LEAK_CHECK_H

#include "tandem.h"
#include "utest.h"

#define LEAK_UNUSED_FN  __attribute__((unused))

static LEAK_UNUSED_FN bool
counts_equal(const struct sysinfo *a, const struct sysinfo *b)
{
    return a->threads == b->threads && a->processes == b->processes &&
           a->heap_live_blocks == b->heap_live_blocks && a->handles == b->handles &&
           a->objects == b->objects;
}

// A baseline: reads until two readings a tick apart agree on every
// counter, for at most `ticks`.  Returns whether they did (*out: the last
// reading).  An ended thread counts until the reaper frees it, a process
// until its waiter is told: neither can be waited for directly.
static LEAK_UNUSED_FN bool
counts_settled(struct sysinfo *out, unsigned ticks)
{
    struct sysinfo next;
    unsigned start = sys_time();
    if (sys_sysinfo(out) != 0)
        return false;
    for (;;) {
        sys_sleep(1);
        if (sys_sysinfo(&next) != 0)
            return false;
        if (counts_equal(&next, out))
            return true;
        *out = next;
        if (sys_time() - start > ticks)
            return false;
    }
}

// Waits at most `ticks` for every counter to be back at *base; returns
// whether they came back (*now: the last reading).
static LEAK_UNUSED_FN bool
counts_back(const struct sysinfo *base, struct sysinfo *now, unsigned ticks)
{
    unsigned start = sys_time();
    for (;;) {
        if (sys_sysinfo(now) != 0)
            return false;
        if (counts_equal(now, base))
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
