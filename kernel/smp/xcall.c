// Cross-CPU calls with the request in the caller's arena (include/smp/xcall.h;
// docs/design.md, "Cross-CPU calls").
#include "kfast.h"
#include "mm/kfast_arena.h"
#include "panic.h"
#include "percpu.h"
#include "smp.h"
#include "smp/lapic.h"
#include "smp/xcall.h"
#include "spinlock.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define CALIBRATE_US 10000u // the TSC is timed against the PIT this long

struct xcall_cpu g_xcall_cpus[SMP_MAX_CPUS];
static uint32_t s_tsc_per_ms; // 0 until measured: waits are then unbounded

void
xcall_init(void)
{
    spin_set_wait_hook(xcall_poll); // a lock's spin answers calls too
    struct pit_clock clock;
    pit_clock_start(&clock);
    uint64_t start = rdtsc();
    uint32_t us;
    while ((us = pit_clock_us(&clock)) < CALIBRATE_US && clock.still <= PIT_STILL_POLLS)
        cpu_relax();
    if (us >= CALIBRATE_US)
        s_tsc_per_ms = (uint32_t)(rdtsc() - start) / (us / 1000u); // 32 bits: < 400 GHz
}

cpumask_t
xcall_online(void)
{
    cpumask_t m = 0;
    for (unsigned i = 0; i < g_smp.count; i++)
        if (__atomic_load_n(&g_smp.cpus[i].state, __ATOMIC_ACQUIRE) == CPU_ONLINE)
            m |= 1u << i;
    return m;
}

// Runs the request in this CPU's mailbox, if there is one, and acknowledges
// it: after the acknowledgement the request may be gone (its caller returns
// and its arena is reset), so nothing reads it after that.
static void
serve(unsigned me)
{
    struct xcall_cpu *c = &g_xcall_cpus[me];
    struct xcall_request *r;
    while ((r = __atomic_exchange_n(&c->inbox, NULL, __ATOMIC_ACQUIRE))) {
        xcall_fn fn = r->fn;
        void *arg = r->arg;
        fn(arg);
        c->served++;
        __atomic_and_fetch(&r->pending, ~(1u << me), __ATOMIC_RELEASE);
    }
}

void
xcall_poll(void)
{
    serve(this_cpu_index());
}

void
xcall_interrupt(void)
{
    lapic_eoi();
    serve(this_cpu_index());
}

// A deadline XCALL_TIMEOUT_MS from now, in TSC cycles (0: none).
static uint64_t
deadline(void)
{
    return s_tsc_per_ms ? rdtsc() + (uint64_t)XCALL_TIMEOUT_MS * s_tsc_per_ms : 0;
}

static bool
past(uint64_t when)
{
    return when && rdtsc() > when;
}

// Fills r, posts it to every other online CPU in targets and sends each
// its IPI, then runs fn here if this CPU is named.  Interrupts are off
// (flags: the caller's) until xcall_wait.
static void
post(struct xcall_request *r, cpumask_t targets, xcall_fn fn, void *arg, uint32_t flags,
     struct kfast_arena *arena)
{
    unsigned me = this_cpu_index();
    cpumask_t others = targets & xcall_online() & ~(1u << me);
    *r = (struct xcall_request){ fn, arg, others, others, me, arena, flags };
    if (arena)
        arena->calls_pending++;
    g_xcall_cpus[me].made++;
    for (unsigned t = 0; t < g_smp.count; t++) {
        if (!(others & (1u << t)))
            continue;
        // The target's mailbox holds one request: while another caller's is
        // there, serve ours (that caller may be waiting on us).
        struct xcall_cpu *c = &g_xcall_cpus[t];
        uint64_t until = deadline();
        struct xcall_request *none = NULL;
        while (!__atomic_compare_exchange_n(&c->inbox, &none, r, false, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED)) {
            none = NULL;
            serve(me);
            if (past(until))
                panic("xcall: cpu %u (APIC id %u) has not emptied its mailbox in %u ms", t,
                      g_smp.cpus[t].apic_id, XCALL_TIMEOUT_MS);
            cpu_relax();
        }
        lapic_send_fixed(g_smp.cpus[t].apic_id, VEC_XCALL);
    }
    if (targets & (1u << me))
        fn(arg);
}

struct xcall_request *
xcall_post(cpumask_t targets, xcall_fn fn, void *arg)
{
    uint32_t flags = irq_save();
    struct xcall_request *r = kfastmalloc(sizeof(*r));
    if (!r)
        panic("xcall: the arena refused the %u-byte request", (unsigned)sizeof(*r));
    post(r, targets, fn, arg, flags, g_kfast.arena);
    return r;
}

void
xcall_wait(struct xcall_request *r)
{
    unsigned me = r->initiator;
    struct xcall_request *outer = g_xcall_cpus[me].waiting; // a call this one nests in
    g_xcall_cpus[me].waiting = r;
    uint64_t until = deadline();
    cpumask_t left;
    while ((left = __atomic_load_n(&r->pending, __ATOMIC_ACQUIRE))) {
        serve(me);
        if (past(until)) {
            unsigned t = (unsigned)__builtin_ctz(left);
            panic("xcall: cpu %u (APIC id %u) did not answer a call from cpu %u in %u ms "
                  "(still waiting on mask %#x of %#x)",
                  t, g_smp.cpus[t].apic_id, me, XCALL_TIMEOUT_MS, left, r->targets);
        }
        cpu_relax();
    }
    g_xcall_cpus[me].waiting = outer;
    if (r->arena)
        r->arena->calls_pending--;
    irq_restore(r->flags);
}

void
xcall(cpumask_t targets, xcall_fn fn, void *arg)
{
    uint32_t flags = irq_save();
    // A CPU not yet running threads has no arena, and a strict arena may
    // refuse: the request then lives on the caller's stack, which the wait
    // keeps just as long.
    struct xcall_request on_stack, *r = NULL;
    struct kfast_arena *arena = g_kfast.arena;
    if (arena)
        r = kfastmalloc(sizeof(*r));
    if (!r) {
        r = &on_stack;
        arena = NULL;
    }
    post(r, targets, fn, arg, flags, arena);
    xcall_wait(r);
}
