// The migration storm: threads that hop between CPUs while they claim and
// release arena pages, and dive into them on purpose.  The case it is made
// for: a thread's stack touches a page deep down on CPU A (A's TLB now maps
// it in the stack view), the thread moves to CPU B and claims that page for
// its arena there (the claim removes it from the stack view, on B), moves
// back to A and dives into it.  The dive must take the trap on A - a stale
// entry in A's TLB would let it write the objects unnoticed - and the
// objects must come out unchanged.  Between hops the trials also give the
// page back and claim it again, or reset the arena (which keeps the page
// claimed) and fill it again on a third CPU.  Several threads storm at once,
// so the CPUs take turns at the big kernel lock.  On one CPU the same
// trials run without hops.  (docs/design.md, "Per-CPU state and the lock":
// the TLB.)
#include "checksum.h"
#include "collision.h"
#include "kfast.h"
#include "kprintf.h"
#include "ktest.h"
#include "mm/kfast_arena.h"
#include "percpu.h"
#include "smp.h"
#include "thread.h"
#include "x86.h"

#define STORM_TRIALS 12 // per thread
#define FRAME_WORDS  30
#define DIVE_INTO    512 // how far below the page's top the touch and the dive go

enum trial_kind {
    TRIAL_PLAIN,   // touch on A, claim on B, dive on A
    TRIAL_RECLAIM, // ... the page given back and claimed again on C in between
    TRIAL_RESET,   // ... the arena reset on C (the page stays claimed) and filled again
    TRIAL_KINDS,
};

struct storm {
    uint32_t seed;
    jmp_buf env;
    uint32_t trials, hops, trap, canary, missed, damaged, setup_errors;
    uint32_t caught_on[SMP_MAX_CPUS];
};

static struct storm s_storms[SMP_MAX_CPUS + 1];

static uint32_t
next_random(struct storm *s)
{
    s->seed = s->seed * 1103515245u + 12345u;
    return s->seed >> 8;
}

// Writes every word of each frame on the way down until esp is at or below
// floor: the stack itself goes there, as a deep kernel path would.
static NOINLINE uint32_t
dive_to(uintptr_t floor)
{
    volatile uint32_t frame[FRAME_WORDS];
    for (unsigned i = 0; i < FRAME_WORDS; i++)
        frame[i] = 0xD17E0000u ^ i;
    uint32_t r = read_esp() > floor ? dive_to(floor) : 0;
    return r + frame[r % FRAME_WORDS];
}

// The dive with a recovery point armed, interrupts off throughout (the
// caller's), so that no other thread arms one in between; kept apart so
// that no caller variable lives across setjmp.
static NOINLINE void
dive_guarded(uintptr_t floor, jmp_buf *env)
{
    collision_recovery_arm(env);
    if (setjmp(*env) == 0) {
        dive_to(floor);
        kfast_check("the storm's check"); // a dive the trap let through broke the canary
    }
    collision_recovery_arm(NULL);
}

// The page the trials claim: the highest a claim can take while the stack is
// shallow (the one below the block's top page), in the arena view.
static uintptr_t
page_start(void)
{
    return g_current->arena.end - 2 * PAGE_SIZE;
}

// Its top in the stack view, where a stack diving down enters it.
static uintptr_t
page_top_in_stack_view(void)
{
    return (uintptr_t)g_current->block + KSTACK_SIZE - PAGE_SIZE;
}

static void
touch_page(void)
{
    uint32_t flags = irq_save();
    dive_to(page_top_in_stack_view() - DIVE_INTO);
    irq_restore(flags);
}

// Fills the arena with objects up to near the page's end, claiming it (and
// the pages under it) on this CPU; false if anything went elsewhere.
static bool
fill_page(struct storm *s)
{
    uintptr_t end = page_start() + PAGE_SIZE;
    for (;;) {
        uint32_t room = (uint32_t)(end - g_kfast.top);
        if (room < 64)
            break;
        uint32_t n = 8 + next_random(s) % 248;
        if (n > room - 32)
            n = room - 32;
        uint8_t *p = kfastmalloc(n);
        if (!p || (uintptr_t)p < g_current->arena.base || (uintptr_t)p >= end)
            return false;
        for (uint32_t i = 0; i < n; i++)
            p[i] = (uint8_t)(s->seed >> (i & 7));
    }
    return g_kfast.guard == end;
}

static unsigned
pick_cpu(struct storm *s)
{
    return smp_online_cpu(next_random(s) % g_smp.online);
}

// Moves to cpu, counting a hop when it is another CPU.
static void
hop(struct storm *s, unsigned cpu)
{
    s->hops += cpu != this_cpu_index();
    thread_move_to(cpu);
}

static void
storm_trial(struct storm *s, enum trial_kind kind)
{
    unsigned a = pick_cpu(s), b = a, c;
    if (g_smp.online > 1)
        while (b == a)
            b = pick_cpu(s);
    c = pick_cpu(s);
    hop(s, a);
    kfast_mark_t empty = kfast_mark();
    if (g_kfast.guard > page_start()) {
        s->setup_errors++;
        return;
    }
    touch_page();
    hop(s, b);
    uint32_t gen = g_kernel_tlb_gen;
    bool ok = fill_page(s);
    // With other CPUs running threads, the claim was counted.
    ok &= !g_tlb_shared || g_kernel_tlb_gen != gen;
    if (kind == TRIAL_RECLAIM) {
        hop(s, c);
        kfast_release(empty);
        touch_page();
        ok &= fill_page(s);
    } else if (kind == TRIAL_RESET) {
        hop(s, c);
        uint32_t flags = irq_save();
        kfast_reset_quiescent();
        irq_restore(flags);
        ok &= g_kfast.guard == page_start() + PAGE_SIZE; // kept: still out of the stack view
        ok &= fill_page(s);
    }
    hop(s, a);
    if (!ok) {
        s->setup_errors++;
        kfast_release(empty);
        return;
    }
    uintptr_t base = g_current->arena.base;
    uint32_t used = (uint32_t)(g_kfast.top - base), sum = checksum((uint8_t *)base, used);
    uint32_t reports = g_current->arena.collisions;
    uint32_t flags = irq_save();
    dive_guarded(page_top_in_stack_view() - DIVE_INTO, &s->env);
    // Read before another stormer can run here and report its own.
    bool caught = g_current->arena.collisions != reports;
    bool by_trap = caught && g_last_collision.by_trap;
    irq_restore(flags);
    bool intact = checksum((uint8_t *)base, used) == sum;
    s->trials++;
    s->trap += by_trap;
    s->canary += caught && !by_trap;
    s->missed += !caught;
    s->damaged += !intact;
    s->caught_on[a] += by_trap;
    if (!by_trap || !intact)
        kprintf("  # MISSED on cpu %u (page claimed on cpu %u): the dive went %s%s\n", a, b,
                caught ? "through the trap to the canary" : "through unnoticed",
                intact ? "" : ", writing the objects");
    kfast_release(empty);
}

static void
stormer(void *arg)
{
    struct storm *s = arg;
    for (unsigned i = 0; i < STORM_TRIALS; i++)
        storm_trial(s, (enum trial_kind)(i % TRIAL_KINDS));
}

KTEST(smp, migration_storm_catches_every_collision)
{
    if (KSTACK_SIZE < 2 * PAGE_SIZE) {
        kprintf("  # a %u-byte block has no page the arena can claim: no trap to storm\n",
                KSTACK_SIZE);
        return;
    }
    unsigned threads = g_smp.online + 1;
    uint32_t tids[SMP_MAX_CPUS + 1];
    for (unsigned i = 0; i < threads; i++) {
        s_storms[i] = (struct storm){ .seed = 20261130u + i };
        struct thread *t = kthread_create_on(smp_online_cpu(i), "stormer", stormer, &s_storms[i]);
        KASSERT_NOT_NULL(t);
        tids[i] = t->tid;
    }
    for (unsigned i = 0; i < threads; i++)
        thread_join(tids[i]);
    struct storm all = { 0 };
    for (unsigned i = 0; i < threads; i++) {
        const struct storm *s = &s_storms[i];
        all.trials += s->trials;
        all.hops += s->hops;
        all.trap += s->trap;
        all.canary += s->canary;
        all.missed += s->missed;
        all.damaged += s->damaged;
        all.setup_errors += s->setup_errors;
        for (unsigned c = 0; c < SMP_MAX_CPUS; c++)
            all.caught_on[c] += s->caught_on[c];
    }
    kprintf("  # storm on %u CPU(s), %u threads: %u trials, %u hops, %u caught by the trap, %u by "
            "the canary, %u missed, %u with claimed objects written%s\n",
            g_smp.online, threads, all.trials, all.hops, all.trap, all.canary, all.missed,
            all.damaged, g_smp.online > 1 ? "" : " (one CPU: no hops)");
    kprintf("  # caught by the trap per CPU:");
    for (unsigned i = 0; i < g_smp.online; i++)
        kprintf(" cpu %u %u", smp_online_cpu(i), all.caught_on[smp_online_cpu(i)]);
    kprintf("\n");
    KEXPECT_UEQ(all.setup_errors, 0);
    KEXPECT_UEQ(all.trials, threads * STORM_TRIALS);
    // Every dive entered a claimed page: each must be stopped by the trap,
    // on the CPU it dove on, before it wrote anything there.
    KEXPECT_UEQ(all.trap, all.trials);
    KEXPECT_UEQ(all.canary, 0);
    KEXPECT_UEQ(all.missed, 0);
    KEXPECT_UEQ(all.damaged, 0);
    for (unsigned i = 0; i < g_smp.online; i++)
        KEXPECT_UGE(all.caught_on[smp_online_cpu(i)], 1);
    if (g_smp.online > 1)
        KEXPECT_UGE(all.hops, all.trials * 2);
}
