// Throughput on several CPUs at once, run by the boot word `bench=cpus`
// (make bench boots it on four CPUs under multi-threaded TCG, each vCPU a
// host thread, without -icount).
//
// The same work runs on 1, 2 and 4 CPUs at once, a thread pinned to each,
// started together; the figure is the work done per unit of wall clock as
// a multiple of one CPU's, in the same boot:  n * t(1) / t(n).  rdtsc
// without -icount follows the host's clock on every vCPU alike, so the
// ticks of two CPUs compare.  Three kinds of work:
//   - kfastmalloc: each thread allocates from its own arena, 256 objects to
//     an "entry" and then the reset a return to user mode makes, without any
//     lock - it should scale as far as the host has cores;
//   - kmalloc + kfree, each call under the big kernel lock as the kernel
//     makes them: what the one lock costs;
//   - no allocation, a loop of arithmetic: how far the host's cores let any
//     work scale (QEMU's vCPUs are threads on them), the ceiling for both.
// Each figure is the best of SCALE_RUNS runs of each configuration,
// interleaved.  A word of its own, since under -icount (the other boots of
// bench/guest.py) QEMU runs the CPUs in turn: a CPU waiting at the start
// line or for the lock holds the machine for the rest of its time slice.
#include "bench.h"
#include "kfast.h"
#include "kmalloc.h"
#include "kprintf.h"
#include "percpu.h"
#include "smp.h"
#include "spinlock.h"
#include "thread.h"
#include "uapi/syscall.h"
#include "x86.h"

#define SCALE_ENTRY       256 // kfastmalloc: objects between resets
#define SCALE_RUNS        5
#define SCALE_PAUSE_TICKS (TICK_HZ / 5) // 200 ms

// As kernel entries use the arena: SCALE_ENTRY objects, then the reset a
// return to user mode makes, which keeps the claimed pages (no page is
// claimed again, so no TLB change is counted).
static NOINLINE void
work_kfast(uint32_t ops)
{
    for (uint32_t i = 0; i < ops; i++) {
        uint32_t *p = kfastmalloc(8);
        *p = i;
        KEEP(p);
        if (i % SCALE_ENTRY == SCALE_ENTRY - 1)
            kfast_reset_quiescent();
    }
}

static NOINLINE void
work_kmalloc(uint32_t ops)
{
    for (uint32_t i = 0; i < ops; i++) {
        bkl_lock();
        uint32_t *p = kmalloc(8);
        bkl_unlock();
        if (p)
            *p = i;
        bkl_lock();
        kfree(p);
        bkl_unlock();
    }
}

static NOINLINE void
work_nothing(uint32_t ops)
{
    uint32_t x = 1;
    for (uint32_t i = 0; i < ops; i++) {
        x = x * 1103515245u + 12345u;
        KEEP(x);
    }
}

static const struct scale_work {
    const char *name; // the implementation column
    void (*run)(uint32_t ops);
    uint32_t ops; // per CPU per run: tens of milliseconds on one CPU
} s_work[] = {
    { "kfastmalloc (per-thread arena, no lock)", work_kfast, 1u << 21 },
    { "kmalloc + kfree (big kernel lock per call)", work_kmalloc, 1u << 15 },
    { "no allocation (the host's ceiling)", work_nothing, 1u << 23 },
};

static const unsigned s_cpus[] = { 1, 2, 4 };

struct scale_run {
    const struct scale_work *work;
    unsigned cpus;             // how many run at once
    volatile unsigned arrived; // threads at the start line
    uint64_t start[SMP_MAX_CPUS], end[SMP_MAX_CPUS];
};

static struct scale_run s_run;

// One CPU's share: drop the lock (the work takes what it needs), wait for
// the others, run, and take the lock back to end as a thread must.  The
// work runs with interrupts off, as all kernel code between an entry and
// its exit does: no tick or reschedule IPI lands in the measurement.  No
// cross-CPU call can wait on it either: CPU 0, where the kernel's own
// threads run, is always one of the workers.
static void
scale_worker(void *arg)
{
    unsigned slot = (unsigned)(uintptr_t)arg;
    uint32_t flags = irq_save();
    bkl_unlock();
    __atomic_add_fetch(&s_run.arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&s_run.arrived, __ATOMIC_ACQUIRE) < s_run.cpus)
        cpu_relax();
    s_run.start[slot] = rdtsc();
    s_run.work->run(s_run.work->ops);
    s_run.end[slot] = rdtsc();
    bkl_lock();
    irq_restore(flags);
}

// Wall clock of one configuration, in TSC ticks: from the first start to
// the last end.  0 if a thread could not be made.
static uint64_t
scale_measure(const struct scale_work *w, unsigned cpus)
{
    // A pause first: a host that caps this VM's share of its CPUs (a
    // cgroup quota per period) would otherwise throttle a run for what the
    // one before it used.
    thread_sleep(SCALE_PAUSE_TICKS);
    s_run.work = w;
    s_run.cpus = cpus;
    s_run.arrived = 0;
    uint32_t tids[SMP_MAX_CPUS];
    for (unsigned i = 0; i < cpus; i++) {
        struct thread *t =
            kthread_create_on(smp_online_cpu(i), "bench-scale", scale_worker, (void *)(uintptr_t)i);
        if (!t) {
            for (unsigned j = 0; j < i; j++)
                thread_join(tids[j]);
            return 0;
        }
        tids[i] = t->tid;
    }
    for (unsigned i = 0; i < cpus; i++)
        thread_join(tids[i]);
    uint64_t first = s_run.start[0], last = s_run.end[0];
    for (unsigned i = 1; i < cpus; i++) {
        first = s_run.start[i] < first ? s_run.start[i] : first;
        last = s_run.end[i] > last ? s_run.end[i] : last;
    }
    return last - first;
}

// n * t1 / tn in hundredths, in 32-bit arithmetic (no 64-bit division in
// the kernel): both times are scaled down alike first.
static uint32_t
ratio_hundredths(unsigned n, uint64_t t1, uint64_t tn)
{
    while ((t1 | tn) >> 20)
        t1 >>= 1, tn >>= 1;
    return tn ? (uint32_t)(n * t1 * 100) / (uint32_t)tn : 0;
}

void
bench_scaling_run(void)
{
    if (g_smp.online < 2) {
        kprintf("BENCH-NOTE\tone CPU online: no scaling to measure\n");
        return;
    }
    enum { WORKS = ARRAY_SIZE(s_work), COUNTS = ARRAY_SIZE(s_cpus) };
    uint64_t best[WORKS][COUNTS] = { { 0 } };
    for (unsigned r = 0; r < SCALE_RUNS; r++)
        for (unsigned c = 0; c < COUNTS && s_cpus[c] <= g_smp.online; c++)
            for (unsigned w = 0; w < WORKS; w++) {
                uint64_t t = scale_measure(&s_work[w], s_cpus[c]);
                if (t && (!best[w][c] || t < best[w][c]))
                    best[w][c] = t;
            }
    for (unsigned w = 0; w < WORKS; w++) {
        kprintf("BENCH-NOTE\t%s: %u operations per CPU, best wall clock in TSC ticks:",
                s_work[w].name, s_work[w].ops);
        for (unsigned c = 0; c < COUNTS && best[w][c]; c++)
            kprintf(" %u CPUs %llu", s_cpus[c], (unsigned long long)best[w][c]);
        kprintf("\n");
        for (unsigned c = 1; c < COUNTS && best[w][c]; c++) {
            uint32_t h = ratio_hundredths(s_cpus[c], best[w][0], best[w][c]);
            kprintf("BENCH\tthroughput on %u CPUs, multiple of 1 CPU's\t%s\tx 1 CPU\t%u.%02u\n",
                    s_cpus[c], s_work[w].name, h / 100, h % 100);
        }
    }
}
