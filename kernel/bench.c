// In-kernel micro-benchmarks, run by the boot word `bench` (make bench).
//
// Under `qemu-system-i386 -icount shift=0,align=off`, rdtsc advances by one
// per guest instruction, so a difference of two rdtsc readings counts the
// instructions between them, deterministically.  Each figure is the best of
// several runs, minus the cost of the empty measurement, divided by the
// operations in the block.  Results are printed as
//   BENCH <tab> benchmark <tab> implementation <tab> unit <tab> value
// lines, which bench/guest.py turns into build/bench/guest.tsv.
#include "bench.h"
#include "boot.h"
#include "kfast.h"
#include "kmalloc.h"
#include "kprintf.h"
#include "mm/kfast_arena.h"
#include "smp.h"
#include "smp/xcall.h"
#include "config.h"
#include "thread.h"
#include "x86.h"

#define RUNS 7
#define OPS  16

static inline uint32_t
tsc32(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return lo;
}

#define REPEAT16(x) x x x x x x x x x x x x x x x x

static uint32_t s_empty; // instructions of an empty measurement

static void
bench_print(const char *bench, const char *impl, uint32_t total, uint32_t ops)
{
    // Two decimals, in 32-bit arithmetic (the kernel has no 64-bit division).
    uint32_t hundredths = total * 100 / ops;
    kprintf("BENCH\t%s\t%s\tinstructions\t%u.%02u\n", bench, impl, hundredths / 100,
            hundredths % 100);
}

// Measures `body` (which performs `ops` operations) RUNS times; keeps the
// fewest instructions.  `setup` and `teardown` run outside the measurement.
#define MEASURE(result, ops, setup, body, teardown)       \
    do {                                                  \
        uint32_t best_ = ~0u;                             \
        for (int run_ = 0; run_ < RUNS; run_++) {         \
            setup;                                        \
            uint32_t t0_ = tsc32();                       \
            body;                                         \
            uint32_t t1_ = tsc32();                       \
            teardown;                                     \
            if (t1_ - t0_ < best_)                        \
                best_ = t1_ - t0_;                        \
        }                                                 \
        (result) = best_ > s_empty ? best_ - s_empty : 0; \
    } while (0)

// The fast path: the first allocation of a scope claims a page (the setup
// makes it), the sixteen measured ones fall inside it.
static void
bench_kfast(void)
{
    uint32_t n;
    kfast_mark_t m;
#define WARM          \
    m = kfast_mark(); \
    KEEP(kfastmalloc(8))
    MEASURE(n, OPS, WARM, REPEAT16(KEEP(kfastmalloc(8));), kfast_release(m));
    bench_print("allocate 8 B", "kfastmalloc", n, OPS);
    MEASURE(n, OPS, WARM, REPEAT16(KEEP(kfastmalloc(64));), kfast_release(m));
    bench_print("allocate 64 B", "kfastmalloc", n, OPS);
    MEASURE(n, OPS, WARM, REPEAT16(KEEP(kfastmalloc(512));), kfast_release(m));
    bench_print("allocate 512 B", "kfastmalloc", n, OPS);
    MEASURE(n, OPS, WARM, REPEAT16(KEEP(kfastzalloc(64));), kfast_release(m));
    bench_print("kfastzalloc 64", "kfast", n, OPS);
    MEASURE(n, OPS, WARM, REPEAT16(kfast_release(kfast_mark());), kfast_release(m));
    bench_print("mark + release", "kfast", n, OPS);
#undef WARM
    // The guard's costs: an allocation that claims a page (unmapping it from
    // the stack view), and a release that gives it back (mapping it again).
    MEASURE(n, 1, m = kfast_mark(), KEEP(kfastmalloc(8)), kfast_release(m));
    bench_print("kfastmalloc claiming a page", "kfast", n, 1);
    MEASURE(n, 1, m = kfast_mark(); KEEP(kfastmalloc(8)), kfast_release(m), );
    bench_print("release giving a page back", "kfast", n, 1);
}

// Reset with k live objects: no work per object, nor per page: the pages
// the objects claimed stay claimed for the next entry (all of them here:
// they end KFAST_KEEP_DEPTH below the top of the 128 KiB block).  The
// setup's allocations after the first run land in them inline.
static void
bench_reset(void)
{
    static const uint32_t counts[] = { 1, 100, 10000 };
    for (unsigned i = 0; i < 3; i++) {
        uint32_t n, k = counts[i];
        struct kfast_stats st;
        MEASURE(n, 1, for (uint32_t j = 0; j < k; j++) KEEP(kfastmalloc(8)), kfast_reset(), );
        kfast_stats(NULL, &st);
        const char *label = k == 1     ? "reset, 1 object"
                            : k == 100 ? "reset, 100 objects"
                                       : "reset, 10000 objects";
        bench_print(label, "kfast reset", n, 1);
        kprintf("BENCH-NOTE\t%s: %u pages claimed, %u still claimed after the reset\n", label,
                (k * 8 + 4 + PAGE_SIZE - 1) / PAGE_SIZE,
                (uint32_t)(g_kfast.guard - g_kfast.arena->base) / PAGE_SIZE);
        if (st.spills)
            kprintf("BENCH-NOTE\t%s: %u spills (block too small for %u objects)\n", label,
                    st.spills, k);
    }
}

static void
bench_heap(void)
{
    uint32_t n;
    void *p;
    MEASURE(n, OPS, , REPEAT16(p = kmalloc(8); KEEP(p); kfree(p);), );
    bench_print("allocate 8 B", "kmalloc + kfree", n, OPS);
    MEASURE(n, OPS, , REPEAT16(p = kmalloc(64); KEEP(p); kfree(p);), );
    bench_print("allocate 64 B", "kmalloc + kfree", n, OPS);
    MEASURE(n, OPS, , REPEAT16(p = kmalloc(512); KEEP(p); kfree(p);), );
    bench_print("allocate 512 B", "kmalloc + kfree", n, OPS);
}

// The heap's worst cases (kernel/mm/heap.c states the bound): a free into
// a full cache class, which flushes the class first; an allocation that
// no free block fits until the whole cache (HEAP_CACHE_BLOCKS blocks) is
// emptied into the free lists; and the free lists' own worst free, which
// merges with both neighbours.  Each flushed block merges with free
// neighbours on both sides, the most a flush does.
enum { WORST_GUARD = 1000, WORST_BIG = 30000 };
static void *s_worst_c[HEAP_CACHE_BLOCKS + 1], *s_worst_g[HEAP_CACHE_BLOCKS + 2];

// [g0][c0][g1][c1] ... [gn-1][cn-1][gn]: blocks c of the cache's sizes
// between guards; the last guard stays live on top.
static void
worst_layout(unsigned n, unsigned per_class)
{
    kheap_flush_cache();
    for (unsigned i = 0; i < n; i++) {
        s_worst_g[i] = kmalloc(WORST_GUARD);
        s_worst_c[i] = kmalloc(8 + 8 * (i / per_class));
    }
    s_worst_g[n] = kmalloc(WORST_GUARD);
}

static void
worst_teardown(unsigned n)
{
    kfree(s_worst_g[n]);
    kheap_flush_cache();
    (void)n;
}

static void
worst_class_flush_setup(void)
{
    worst_layout(HEAP_CACHE_DEPTH + 1, HEAP_CACHE_DEPTH + 1);
    for (unsigned i = 0; i < HEAP_CACHE_DEPTH; i++)
        kfree(s_worst_c[i]);
    for (unsigned i = 0; i < HEAP_CACHE_DEPTH; i++)
        kfree(s_worst_g[i]);
}

static void
worst_cache_setup(void)
{
    worst_layout(HEAP_CACHE_BLOCKS, HEAP_CACHE_DEPTH);
    for (unsigned i = 0; i < HEAP_CACHE_BLOCKS; i++)
        kfree(s_worst_c[i]);
    for (unsigned i = 0; i < HEAP_CACHE_BLOCKS; i++)
        kfree(s_worst_g[i]);
}

static void
bench_heap_worst(void)
{
    uint32_t n;
    void *big = NULL;
    struct heap_stats before, after;

    MEASURE(n, 1, worst_class_flush_setup(), kfree(s_worst_c[HEAP_CACHE_DEPTH]),
            kfree(s_worst_g[HEAP_CACHE_DEPTH]);
            worst_teardown(HEAP_CACHE_DEPTH + 1));
    bench_print("heap worst case: free flushing a class (8 blocks)", "kfree", n, 1);
    bool grew = false;
    MEASURE(n, 1, worst_cache_setup();
            kheap_stats(&before), big = kmalloc(WORST_BIG), kheap_stats(&after);
            grew |= !big || after.heap_size != before.heap_size || after.cached_blocks != 0;
            kfree(big); worst_teardown(HEAP_CACHE_BLOCKS));
    bench_print("heap worst case: allocation emptying the cache (32 blocks)", "kmalloc", n, 1);
    if (grew)
        kprintf(
            "BENCH-NOTE\theap worst case: the allocation grew the heap or kept a block cached\n");
    MEASURE(n, 1, s_worst_g[0] = kmalloc(WORST_GUARD); s_worst_g[1] = kmalloc(WORST_GUARD);
            s_worst_g[2] = kmalloc(WORST_GUARD); s_worst_g[3] = kmalloc(WORST_GUARD);
            kfree(s_worst_g[0]); kfree(s_worst_g[2]), kfree(s_worst_g[1]), kfree(s_worst_g[3]));
    bench_print("heap worst case: free merging both neighbours", "kfree", n, 1);
}

// The arena's usual alternative: objects on the stack.  Sixteen alloca'd
// and touched objects, less the same function touching a fixed local.
static NOINLINE void
stack_objects(uint32_t size)
{
    REPEAT16({
        char *q = __builtin_alloca(size);
        q[0] = 1;
        KEEP(q);
    })
}

static NOINLINE void
stack_baseline(uint32_t size)
{
    char local[16];
    REPEAT16({
        local[size & 15] = 1;
        KEEP(local);
    })
}

static void
bench_stack(void)
{
    static const uint32_t sizes[] = { 8, 64, 512 };
    static const char *const names[] = { "allocate 8 B", "allocate 64 B", "allocate 512 B" };
    uint32_t base;
    MEASURE(base, OPS, , stack_baseline(1), );
    for (unsigned i = 0; i < 3; i++) {
        uint32_t n;
        MEASURE(n, OPS, , stack_objects(sizes[i]), );
        bench_print(names[i], "stack (alloca)", n > base ? n - base : 0, OPS);
    }
}

// A seeded random trace of long-lived objects: mean and worst per operation.
static void
bench_heap_trace(void)
{
    enum { SLOTS = 512, STEPS = 20000 };
    static void *slots[SLOTS];
    uint32_t seed = 12345, total = 0, worst = 0, ops = 0;
    for (uint32_t i = 0; i < STEPS; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t slot = (seed >> 8) % SLOTS, size = 8 + ((seed >> 20) % 256);
        uint32_t t0 = tsc32();
        if (slots[slot]) {
            kfree(slots[slot]);
            slots[slot] = NULL;
        } else {
            slots[slot] = kmalloc(size);
        }
        uint32_t d = tsc32() - t0 - s_empty;
        total += d;
        ops++;
        if (d > worst)
            worst = d;
    }
    for (uint32_t i = 0; i < SLOTS; i++)
        kfree(slots[i]), slots[i] = NULL;
    bench_print("random trace, mean per op", "kmalloc", total, ops);
    bench_print("random trace, worst op", "kmalloc", worst, 1);
}

// Context switch: two threads yield to each other.
static volatile uint32_t s_switch_stop;

static void
yielder(void *arg)
{
    (void)arg;
    while (!s_switch_stop)
        thread_yield();
}

static void
bench_switch(void)
{
    s_switch_stop = 0;
    struct thread *t = kthread_create("bench-yield", yielder, NULL);
    if (!t)
        return;
    uint32_t tid = t->tid, n;
    thread_yield(); // let it start
    MEASURE(n, 2 * OPS, , REPEAT16(thread_yield();), );
    // Each yield is two switches (there and back) plus the yield calls.
    bench_print("context switch (yield pair / 2)", "sched", n, 2 * OPS);
    s_switch_stop = 1;
    thread_join(tid);
}

static void
bench_reset_share(void)
{
    uint32_t n;
    MEASURE(n, 1, , kfast_reset(), );
    bench_print("exit-path reset, nothing allocated", "kfast reset", n, 1);
}

static void
xcall_nothing(void *arg)
{
    (void)arg;
}

// A call to one idle AP and back: the request's inline allocation, the
// mailbox, the IPI, the AP's interrupt entry, the call and its
// acknowledgement, and the caller's wait.  Under -icount the instruction
// counter is the machine's, so both CPUs' instructions count; QEMU's pause
// hands the caller's turn to the AP, so the wait is one pass of its loop
// (bench/guest.py boots two CPUs).  In the arena thread: the request is
// placed as any thread's would be.
static void
bench_xcall(void)
{
    if (g_smp.online < 2) {
        kprintf("BENCH-NOTE	one CPU online: no cross-CPU call to measure\n");
        return;
    }
    uint32_t n;
    MEASURE(n, 1, , xcall(1u << 1, xcall_nothing, NULL), kfast_reset());
    bench_print("cross-CPU call round trip (to one idle CPU)", "xcall", n, 1);
}

// The arena measurements run in a kernel thread: its block is mapped twice,
// so its arena claims pages as every thread's does (kmain's static block
// cannot, and spills everything).
static void
bench_arena_thread(void *arg)
{
    (void)arg;
    uint32_t flags = irq_save(); // no timer ticks inside the measurements
    bench_kfast();
    bench_reset();
    bench_reset_share();
    bench_xcall();
    irq_restore(flags);
}

void
bench_kernel_run(void)
{
    if (g_boot.bench_cpus) {
        bench_scaling_run();
        return;
    }
    kprintf("BENCH-BEGIN\tkernel\tKSTACK_SIZE=%u\t%s build\n", KSTACK_SIZE,
            TANDEM_DEBUG ? "debug" : "release");
    uint32_t flags = irq_save();
    MEASURE(s_empty, 1, , , );
    s_empty = 0;
    MEASURE(s_empty, 1, , , );
    irq_restore(flags);
    struct thread *t = kthread_create("bench-arena", bench_arena_thread, NULL);
    if (t)
        thread_join(t->tid);
    flags = irq_save();
    bench_heap();
    bench_heap_worst();
    bench_heap_trace();
    bench_stack();
    irq_restore(flags);
    bench_switch();
    kfast_reset_quiescent();
}
