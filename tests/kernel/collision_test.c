// The collision campaign: stacks driven into arenas on purpose, over a
// seeded range of arena fills and recursion depths, at whatever KSTACK_SIZE
// the kernel is built with (make test runs 4096, 8192 and 16384), spread
// over every CPU (make test runs 1, 2 and 4).  Every
// overrun must be caught - by the guard (the trap: claimed pages and the gap
// under each block are missing from the stack view) or by
// the canary - and none may pass unnoticed: after each trial the live arena
// objects' checksums show whether the stack reached them.  Half the trials
// first use the arena and reset it, as an earlier kernel entry would, so
// that they fill and dive into pages the reset kept claimed.
#include "checksum.h"
#include "collision.h"
#include "irq.h"
#include "kfast.h"
#include "kprintf.h"
#include "ktest.h"
#include "lib/string.h"
#include "mm/kfast_arena.h"
#include "smp.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define FRAME_WORDS 30 // a dense frame: ret + ebp + 30 written words
#define MAX_OBJECTS 64
#define TRIALS      120

struct trial {
    uint32_t fill;    // arena bytes to allocate before recursing
    uint32_t depth;   // recursion levels
    bool reset_first; // start from pages an earlier "entry" claimed and a reset kept
    // results
    bool kept;    // the reset kept claimed pages (blocks with a page to spare)
    bool overran; // the stack reached live arena objects
    bool caught;
    bool by_trap; // caught by the guard (#PF -> #DF)
    bool objects_intact;
    bool claimed_intact; // the objects in claimed pages (behind the trap)
};

static struct trial *s_trial;
static jmp_buf s_env;

// Each level writes every word of its frame, so the stack below esp is
// written densely (the kernel is built with 4-byte stack alignment).
static NOINLINE uint32_t
recurse(uint32_t depth)
{
    volatile uint32_t frame[FRAME_WORDS];
    for (unsigned i = 0; i < FRAME_WORDS; i++)
        frame[i] = 0x5AC0FFEEu ^ depth ^ i;
    uint32_t r = depth ? recurse(depth - 1) : 0;
    if (depth == 0)
        thread_yield(); // a context switch: the canary check
    return r + frame[depth % FRAME_WORDS];
}

// Recurses with a recovery point armed; kept apart so that no caller
// variable lives across setjmp.
static NOINLINE void
recurse_guarded(uint32_t depth)
{
    collision_recovery_arm(&s_env);
    if (setjmp(s_env) == 0) {
        recurse(depth);
        // The deepest frames (the switch at the bottom) came after the
        // switch's own check: the next check point - here, as the exit
        // path or a release would - must see them.
        kfast_check("the campaign's check");
    }
    collision_recovery_arm(NULL);
    sti(); // a recovery resumes with interrupts off
}

static void
collider(void *arg)
{
    (void)arg;
    struct trial *t = s_trial;
    struct {
        uint8_t *p;
        uint32_t n, sum;
    } obj[MAX_OBJECTS];
    unsigned count = 0;
    if (t->reset_first) {
        uintptr_t esp = read_esp() + g_current->arena.sp_offset;
        uintptr_t limit = esp > g_current->arena.base + KFAST_RESERVE
                              ? ALIGN_DOWN(esp - KFAST_RESERVE, PAGE_SIZE)
                              : 0;
        if (limit > g_kfast.top + 64)
            kfastmalloc(limit - g_kfast.top - 64);
        kfast_reset_quiescent();
        t->kept = g_kfast.guard > g_current->arena.base;
    }
    kfast_mark_t m = kfast_mark();
    uint32_t filled = 0, seed = t->fill * 2654435761u + t->depth;
    while (filled < t->fill && count < MAX_OBJECTS) {
        seed = seed * 1103515245u + 12345u;
        uint32_t n = 8 + (seed >> 16) % 256;
        uint8_t *p = kfastmalloc(n);
        struct kfast_arena *a = &g_current->arena;
        if (!p || (uintptr_t)p < a->base || (uintptr_t)p >= a->end)
            break; // spilled: only objects in the block count
        for (uint32_t i = 0; i < n; i++)
            p[i] = (uint8_t)(seed >> (i & 7));
        obj[count].p = p;
        obj[count].n = n;
        obj[count].sum = checksum(p, n);
        count++;
        filled += n;
    }
    uint32_t reports = g_current->arena.collisions;
    uintptr_t guard = g_kfast.guard;
    if (t->depth == 0) {
        // Aim just past the arena top: a few frames short of it, or a few
        // beyond, so the overruns end inside the block (the canary's case).
        uint32_t above =
            read_esp() - (kfast_arena_top(&g_current->arena) - g_current->arena.sp_offset);
        t->depth = above / (4 * (FRAME_WORDS + 3)) + (seed >> 28) % 6;
        if (t->depth > 2)
            t->depth -= 2;
    }
    recurse_guarded(t->depth);
    t->caught = g_current->arena.collisions != reports;
    t->by_trap = t->caught && g_last_collision.by_trap;
    t->objects_intact = t->claimed_intact = true;
    for (unsigned i = 0; i < count; i++) {
        bool same = checksum(obj[i].p, obj[i].n) == obj[i].sum;
        t->objects_intact &= same;
        if ((uintptr_t)obj[i].p + obj[i].n <= guard)
            t->claimed_intact &= same;
    }
    t->overran = t->caught || !t->objects_intact;
    kfast_release(m);
}

KTEST(collision, campaign_every_overrun_is_caught)
{
    struct trial trial;
    uint32_t seed = 20261127, overruns = 0, trap = 0, canary = 0, missed = 0, intact_after_trap = 0;
    uint32_t kept_overruns = 0, caught_on[SMP_MAX_CPUS] = { 0 };
    for (unsigned i = 0; i < TRIALS; i++) {
        seed = seed * 1103515245u + 12345u;
        memset(&trial, 0, sizeof(trial));
        trial.fill = (seed >> 8) % (KSTACK_SIZE * 3 / 4);
        // Half the trials recurse to a random depth, half aim at the arena top.
        trial.depth = i % 2 ? 1 + (seed >> 20) % (KSTACK_SIZE / (4 * FRAME_WORDS)) : 0;
        trial.reset_first = (i / 2) % 2;
        s_trial = &trial;
        // Spread over every CPU: each has its own double-fault task.
        unsigned cpu = smp_online_cpu(i);
        struct thread *th = kthread_create_on(cpu, "collider", collider, NULL);
        KASSERT_NOT_NULL(th);
        thread_join(th->tid);
        overruns += trial.overran;
        trap += trial.caught && trial.by_trap;
        canary += trial.caught && !trial.by_trap;
        missed += trial.overran && !trial.caught;
        intact_after_trap += trial.by_trap && trial.claimed_intact;
        kept_overruns += trial.kept && trial.overran;
        caught_on[cpu] += trial.caught;
        if (trial.overran && !trial.caught)
            kprintf("  # MISSED: fill %u, depth %u%s\n", trial.fill, trial.depth,
                    trial.reset_first ? ", after a reset" : "");
    }
    kprintf("  # campaign at KSTACK_SIZE %u: %u trials, %u overruns (%u after a reset that kept "
            "pages), %u caught by the trap, %u by the canary, %u missed\n",
            KSTACK_SIZE, TRIALS, overruns, kept_overruns, trap, canary, missed);
    KEXPECT_EQ(missed, 0);
    for (unsigned i = 0; i < g_smp.online; i++)
        KEXPECT_UGE(caught_on[smp_online_cpu(i)], 1); // on every CPU
    // The campaign really drives stacks into arenas (or, in a 4 KiB block,
    // whose objects all spill, off the bottom of the block).
    KEXPECT_GT(overruns + trap, TRIALS / 4);
    // The trap stops the stack before it writes into a claimed page: the
    // objects there survive it (those past the claimed pages may not).
    KEXPECT_EQ(intact_after_trap, trap);
    if (KSTACK_SIZE > 4096) {
        KEXPECT_GT(trap, 0); // blocks with a page to spare have the trap
        KEXPECT_GT(kept_overruns, TRIALS / 8);
    }
}

// An interrupt taken with esp just above the guard: the CPU cannot push its
// frame (#PF, then #DF), so the handler never runs and never sends its EOI.
// The recovery must end the interrupt's service at its controller, or IRQ 0 stays
// in service and the timer never interrupts again.
static jmp_buf s_irq_env;
static volatile uint32_t s_irq_ticks, s_irq_periods;
static volatile uint16_t s_irq_in_service;

static void
irq_collider(void *arg)
{
    (void)arg;
    collision_recovery_arm(&s_irq_env);
    if (setjmp(s_irq_env) == 0) {
        // The page under the block is missing from the stack view; the
        // frame's third word would go there.  Nothing but an interrupt
        // leaves the hlt.
        uint32_t esp = (uint32_t)g_current->block + 8;
        __asm__ volatile("mov %0, %%esp; sti; 1: hlt; jmp 1b" : : "r"(esp) : "memory");
    }
    collision_recovery_arm(NULL);
    s_irq_in_service = irq_in_service();
    sti(); // a recovery resumes with interrupts off
    struct pit_watch clock;
    uint32_t start = timer_ticks();
    pit_watch_start(&clock);
    while (timer_ticks() - start < 5 && pit_watch_poll(&clock) < 50 && clock.still < 100000)
        ;
    s_irq_ticks = timer_ticks() - start;
    s_irq_periods = clock.periods;
}

KTEST(collision, interrupt_frame_in_the_guard_keeps_the_timer)
{
    struct thread *th = kthread_create("irq-collider", irq_collider, NULL);
    KASSERT_NOT_NULL(th);
    thread_join(th->tid);
    KEXPECT_TRUE(g_last_collision.by_trap);
    KEXPECT_TRUE(g_last_collision.irqs_ended != 0); // the interrupt was in service
    KEXPECT_UEQ(s_irq_in_service, 0);               // and is no longer
    if (s_irq_ticks < 5)
        ktest_fail(__FILE__, __LINE__, false,
                   "timer ticks did not advance: %u ticks while the "
                   "PIT counted %u periods",
                   s_irq_ticks, s_irq_periods);
}
