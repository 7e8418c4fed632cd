// The scheduler and kernel threads: preemption, sleep, yield, wait queues,
// the reaper, and the blocks threads run on.
#include "kmalloc.h"
#include "ktest.h"
#include "mm/block.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "thread.h"
#include "timer.h"
#include "x86.h"

// What every finished thread must give back: its block (frames) and its
// control block (heap).  Frames the heap took for itself are counted back.
struct counters {
    uint32_t frames_free_or_heap;
    size_t heap_blocks, heap_bytes;
    uint32_t threads;
};

static struct counters
counters_now(void)
{
    struct frame_counts fc;
    struct heap_stats hs;
    frame_counts(&fc);
    kheap_stats(&hs);
    return (struct counters){ fc.free + (uint32_t)(hs.heap_size / PAGE_SIZE), hs.live_blocks,
                              hs.in_use, thread_count() };
}

static void
expect_counters(struct counters want)
{
    struct counters now = counters_now();
    KEXPECT_UEQ(now.frames_free_or_heap, want.frames_free_or_heap);
    KEXPECT_UEQ(now.heap_blocks, want.heap_blocks);
    KEXPECT_UEQ(now.heap_bytes, want.heap_bytes);
    KEXPECT_UEQ(now.threads, want.threads);
}

// Makes a kernel thread; its tid is read before it can run, exit and be freed.
static uint32_t
spawn(const char *name, void (*fn)(void *), void *arg)
{
    uint32_t flags = irq_save();
    struct thread *t = kthread_create(name, fn, arg);
    uint32_t tid = t ? t->tid : 0;
    irq_restore(flags);
    return tid;
}

/* ---- preemption ---- */

struct spinner {
    volatile uint32_t count;
    volatile uint32_t saw_other_move; // times the other's count changed under it
    struct spinner *other;
};

static volatile bool s_stop;

// Spins with interrupts on and never yields: the other spinner's count can
// only move if the timer took the CPU away from this one.
static void
spinner_main(void *arg)
{
    struct spinner *s = arg;
    uint32_t last = s->other->count, start = timer_ticks();
    // Bounded, so that a scheduler that never preempts fails the test
    // instead of hanging it (the tick count moves with interrupts alone).
    while (!s_stop && timer_ticks() - start < 300) {
        s->count++;
        uint32_t now = s->other->count;
        if (now != last) {
            s->saw_other_move++;
            last = now;
        }
    }
}

KTEST(sched, threads_interleave_under_preemption)
{
    static struct spinner a, b;
    a = (struct spinner){ .other = &b };
    b = (struct spinner){ .other = &a };
    s_stop = false;
    uint32_t ta = spawn("spin-a", spinner_main, &a);
    uint32_t tb = spawn("spin-b", spinner_main, &b);
    KASSERT_NE(ta, 0);
    KASSERT_NE(tb, 0);
    thread_sleep(20);
    uint32_t a1 = a.count, b1 = b.count;
    thread_sleep(20);
    s_stop = true;
    thread_join(ta);
    thread_join(tb);
    KEXPECT_GT(a1, 0);
    KEXPECT_GT(b1, 0);
    KEXPECT_GT(a.count, a1); // both went on advancing
    KEXPECT_GT(b.count, b1);
    KEXPECT_GE(a.saw_other_move, 5); // and took turns, many times
    KEXPECT_GE(b.saw_other_move, 5);
}

/* ---- sleep and yield ---- */

KTEST(sched, sleep_wakes_on_time)
{
    for (uint32_t ticks = 1; ticks <= 5; ticks += 4) {
        uint32_t start = timer_ticks();
        thread_sleep(ticks);
        KEXPECT_UGE(timer_ticks() - start, ticks);
    }
    uint32_t start = timer_ticks();
    thread_sleep(0); // a yield: back at once
    KEXPECT_ULE(timer_ticks() - start, 1);
}

struct sleeper {
    uint32_t ticks, slept;
};

static void
sleeper_main(void *arg)
{
    struct sleeper *s = arg;
    uint32_t start = timer_ticks();
    thread_sleep(s->ticks);
    s->slept = timer_ticks() - start;
}

KTEST(sched, sleepers_wake_in_order_of_their_time)
{
    static struct sleeper s[3] = { { 9, 0 }, { 3, 0 }, { 6, 0 } };
    uint32_t tid[3];
    for (int i = 0; i < 3; i++) {
        s[i].slept = 0;
        tid[i] = spawn("sleeper", sleeper_main, &s[i]);
        KASSERT_NE(tid[i], 0);
    }
    for (int i = 0; i < 3; i++)
        thread_join(tid[i]);
    for (int i = 0; i < 3; i++)
        KEXPECT_UGE(s[i].slept, s[i].ticks);
}

#define YIELDS 6

static char s_log[4 * YIELDS + 1];
static volatile unsigned s_log_len, s_yielders_ready;

// Logs its letter and yields, with interrupts off so that only the yields
// switch (the timer cannot).  Both first yield until both have run once:
// on two CPUs the second was once seen to start a turn late
// (AABABABABABB), which says nothing about how yields alternate.
static void
yielder_main(void *arg)
{
    char letter = (char)(uintptr_t)arg;
    cli();
    s_yielders_ready++;
    while (s_yielders_ready < 2)
        thread_yield();
    for (int i = 0; i < YIELDS; i++) {
        s_log[s_log_len++] = letter;
        thread_yield();
    }
    sti();
}

KTEST(sched, yield_alternates_runnable_threads)
{
    s_log_len = s_yielders_ready = 0;
    uint32_t flags = irq_save();
    uint32_t ta = spawn("yield-a", yielder_main, (void *)'A');
    uint32_t tb = spawn("yield-b", yielder_main, (void *)'B');
    irq_restore(flags);
    KASSERT_NE(ta, 0);
    KASSERT_NE(tb, 0);
    thread_join(ta);
    thread_join(tb);
    KASSERT_EQ(s_log_len, 2 * YIELDS);
    s_log[s_log_len] = '\0';
    unsigned a = 0, alternations = 0;
    for (unsigned i = 0; i < s_log_len; i++) {
        a += s_log[i] == 'A';
        alternations += i > 0 && s_log[i] != s_log[i - 1];
    }
    KEXPECT_EQ(a, YIELDS);
    KEXPECT_EQ(alternations, 2 * YIELDS - 1);
    if (alternations != 2 * YIELDS - 1)
        ktest_fail(__FILE__, __LINE__, false, "order %s", s_log);
}

/* ---- wait queues ---- */

struct waiter {
    struct waitq q;
    volatile bool waiting, woken, result;
};

static void
waiter_main(void *arg)
{
    struct waiter *w = arg;
    cli();
    w->waiting = true;
    w->result = waitq_wait(&w->q, "sched test: waiting");
    sti();
    w->woken = true;
}

KTEST(sched, waitq_blocks_until_woken)
{
    static struct waiter w[2];
    uint32_t tid[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct waiter){ .waiting = false };
        waitq_init(&w[i].q);
        tid[i] = spawn("waiter", waiter_main, &w[i]);
        KASSERT_NE(tid[i], 0);
    }
    for (int i = 0; i < 100 && !(w[0].waiting && w[1].waiting); i++)
        thread_sleep(1);
    thread_sleep(3);
    KEXPECT_TRUE(w[0].waiting && w[1].waiting);
    KEXPECT_FALSE(w[0].woken || w[1].woken);
    uint32_t flags = irq_save();
    struct thread *t = thread_find(tid[0]);
    KEXPECT_TRUE(t && t->state == THREAD_BLOCKED);
    if (t)
        KEXPECT_STREQ(t->wait_reason, "sched test: waiting");
    waitq_wake_all(&w[0].q); // only the first
    irq_restore(flags);
    thread_join(tid[0]);
    thread_sleep(3);
    KEXPECT_TRUE(w[0].woken);
    KEXPECT_TRUE(w[0].result); // woken, not killed
    KEXPECT_FALSE(w[1].woken);
    flags = irq_save();
    waitq_wake_all(&w[1].q);
    irq_restore(flags);
    thread_join(tid[1]);
    KEXPECT_TRUE(w[1].woken);
}

/* ---- the reaper ---- */

static void
spiller_main(void *arg)
{
    (void)arg;
    // Leaves arena objects and spill chunks behind: the reaper frees them.
    for (int i = 0; i < 4; i++) {
        void *p = kfastmalloc(KSTACK_SIZE);
        if (p)
            *(volatile uint8_t *)p = 1;
    }
}

KTEST(sched, reaper_frees_block_and_tcb)
{
    struct counters base = counters_now();
    uint32_t flags = irq_save(); // it cannot run, end and be reaped before we look
    uint32_t tid = spawn("spiller", spiller_main, NULL);
    struct counters during = counters_now();
    irq_restore(flags);
    KASSERT_NE(tid, 0);
    KEXPECT_UEQ(during.threads, base.threads + 1);
    KEXPECT_ULT(during.frames_free_or_heap, base.frames_free_or_heap); // its block
    KEXPECT_GT(during.heap_blocks, base.heap_blocks);                  // its TCB
    thread_join(tid);
    KEXPECT_NULL(thread_find(tid));
    expect_counters(base);
}

#define MANY 50

static volatile uint32_t s_ran[MANY];

static void
counter_main(void *arg)
{
    s_ran[(uintptr_t)arg]++;
    if ((uintptr_t)arg % 3 == 0)
        thread_yield();
    if ((uintptr_t)arg % 5 == 0)
        thread_sleep(1);
}

KTEST(sched, many_threads_created_and_joined)
{
    static uint32_t tids[MANY];
    struct counters base = counters_now();
    for (uintptr_t i = 0; i < MANY; i++) {
        s_ran[i] = 0;
        tids[i] = spawn("many", counter_main, (void *)i);
        KASSERT_NE(tids[i], 0);
        for (uintptr_t j = 0; j < i; j++)
            KEXPECT_NE(tids[j], tids[i]);
    }
    for (unsigned i = 0; i < MANY; i++)
        thread_join(tids[i]);
    unsigned ran_once = 0;
    for (unsigned i = 0; i < MANY; i++)
        ran_once += s_ran[i] == 1;
    KEXPECT_EQ(ran_once, MANY);
    expect_counters(base);
}

/* ---- blocks ---- */

struct where {
    uintptr_t block, arena_base, esp, top;
    bool done;
};

static void
where_main(void *arg)
{
    struct where *w = arg;
    w->block = (uintptr_t)g_current->block;
    w->arena_base = g_current->arena.base;
    w->esp = read_esp();
    w->top = g_kfast.top;
    w->done = true;
}

KTEST(sched, blocks_are_aligned_to_their_size)
{
    static struct where w[5];
    uint32_t tid[5];
    KEXPECT_UEQ((uintptr_t)g_current->block & (KSTACK_SIZE - 1), 0);
    // All alive at once (none runs before the last is made), so no block is reused.
    uint32_t flags = irq_save();
    for (int i = 0; i < 5; i++) {
        w[i] = (struct where){ .done = false };
        tid[i] = spawn("where", where_main, &w[i]);
    }
    irq_restore(flags);
    for (int i = 0; i < 5; i++)
        KASSERT_NE(tid[i], 0);
    for (int i = 0; i < 5; i++)
        thread_join(tid[i]);
    for (int i = 0; i < 5; i++) {
        KEXPECT_TRUE(w[i].done);
        KEXPECT_UEQ(w[i].block & (KSTACK_SIZE - 1), 0);
        KEXPECT_UGE(w[i].block, KERNEL_VMA);
        // Its stack runs at the top of its own block, its arena (the same
        // frames, seen through the arena view) starts empty at the base.
        KEXPECT_UGE(w[i].esp, w[i].block + KSTACK_SIZE - 512);
        KEXPECT_ULT(w[i].esp, w[i].block + KSTACK_SIZE);
        KEXPECT_UEQ(w[i].arena_base, (uintptr_t)block_arena_view((uint8_t *)w[i].block));
        KEXPECT_UEQ(w[i].arena_base & (KSTACK_SIZE - 1), 0);
        KEXPECT_UEQ(w[i].top, w[i].arena_base);
        for (int j = 0; j < i; j++)
            KEXPECT_NE(w[i].block, w[j].block);
    }
}

// Whether va is mapped in the kernel half.
static bool
mapped(uintptr_t va)
{
    return vm_query(&g_kernel_space, va, NULL, NULL);
}

// Each view of a block has an unmapped page on both sides, so no overrun
// out of an arena object or off the stack reaches the other view, the trap
// frame at the top of the stack view, or a neighbouring block.  Without the
// gap between the views, a backward copy from the first arena object wrote
// the trap frame (include/mm/block.h).
KTEST(sched, block_views_are_fenced_by_unmapped_pages)
{
    uint8_t *blocks[3];
    for (int i = 0; i < 3; i++)
        KASSERT_TRUE((blocks[i] = block_alloc()) != NULL);
    for (int i = 0; i < 3; i++) {
        uintptr_t stack = (uintptr_t)blocks[i], arena = (uintptr_t)block_arena_view(blocks[i]);
        KEXPECT_TRUE(mapped(stack) && mapped(stack + KSTACK_SIZE - 1));
        KEXPECT_TRUE(mapped(arena) && mapped(arena + KSTACK_SIZE - 1));
        KEXPECT_FALSE(mapped(stack - 1));           // under the stack view
        KEXPECT_FALSE(mapped(stack + KSTACK_SIZE)); // over it: the trap frame's neighbour
        KEXPECT_FALSE(mapped(arena - 1));           // under the first arena object
        KEXPECT_FALSE(mapped(arena + KSTACK_SIZE)); // over the last one
    }
    for (int i = 0; i < 3; i++)
        block_free(blocks[i]);
}
