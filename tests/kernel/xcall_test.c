// Cross-CPU calls (kernel/smp/xcall.c) and the TLB shootdown on them
// (kernel/smp/tlb.c): every CPU runs a call and acknowledges it, every CPU
// calls every other (one at a time and all at once), the request lives in
// the caller's arena, a reset under an outstanding call is caught, and an
// unmapped kernel page faults on every CPU that had it in its TLB.  With
// one CPU the tests that need another say so and pass.
#include "kfast.h"
#include "kprintf.h"
#include "ktest.h"
#include "lib/setjmp.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "panic.h"
#include "probe.h"
#include "percpu.h"
#include "smp.h"
#include "smp/lapic.h"
#include "smp/tlb.h"
#include "smp/xcall.h"
#include "spinlock.h"
#include "thread.h"
#include "x86.h"

#define ALL_AT_ONCE_ROUNDS 100
#define SHOOT_VA           (HEAP_LIMIT - 2 * PAGE_SIZE) // paging_test uses the last page

static bool
another_cpu(void)
{
    if (g_smp.online > 1)
        return true;
    kprintf("  # one CPU online: no other CPU to call (%s)\n",
            g_smp.why[0] ? g_smp.why : "the firmware lists one");
    return false;
}

struct roll {
    volatile cpumask_t ran;
    volatile uint32_t apic_id[SMP_MAX_CPUS]; // as each CPU's own APIC says
};

static void
record(void *arg)
{
    struct roll *r = arg;
    unsigned me = this_cpu_index();
    r->apic_id[me] = g_smp.lapic_phys ? lapic_id() : 0;
    __atomic_or_fetch(&r->ran, 1u << me, __ATOMIC_RELEASE);
}

// One call to every online CPU: each ran it once, on itself (its APIC says
// so), and each other CPU counts it served; the caller counts one call made.
KTEST(smp, every_cpu_runs_the_call_and_acknowledges)
{
    static struct roll r;
    memset((void *)&r, 0, sizeof(r));
    uint32_t served[SMP_MAX_CPUS];
    for (unsigned i = 0; i < g_smp.count; i++)
        served[i] = g_xcall_cpus[i].served;
    uint32_t made = g_xcall_cpus[0].made;
    cpumask_t online = xcall_online();
    xcall(online, record, &r);
    KEXPECT_UEQ(r.ran, online);
    for (unsigned i = 0; i < g_smp.count; i++) {
        if (!(online & (1u << i)))
            continue;
        if (g_smp.lapic_phys)
            KEXPECT_UEQ(r.apic_id[i], g_smp.cpus[i].apic_id);
        KEXPECT_UEQ(g_xcall_cpus[i].served - served[i], i == 0 ? 0 : 1);
        KEXPECT_NULL(g_xcall_cpus[i].inbox);
    }
    KEXPECT_UEQ(g_xcall_cpus[0].made - made, 1);
    KEXPECT_UEQ(g_current->arena.calls_pending, 0);
}

// s_ran[caller]: how many calls from caller each CPU ran.
static volatile uint32_t s_ran[SMP_MAX_CPUS][SMP_MAX_CPUS];

static void
count_for_caller(void *arg)
{
    unsigned caller = (unsigned)(uintptr_t)arg;
    __atomic_add_fetch(&s_ran[caller][this_cpu_index()], 1, __ATOMIC_RELAXED);
}

// Runs on a CPU (as a call, or on the boot CPU directly): calls every
// other online CPU.  On an AP this is a call made while serving one: the
// boot CPU, waiting on it with interrupts off, must serve it from its wait.
static void
call_the_others(void *arg)
{
    (void)arg;
    unsigned me = this_cpu_index();
    xcall(xcall_online() & ~(1u << me), count_for_caller, (void *)(uintptr_t)me);
}

static void
expect_each_ran(uint32_t times)
{
    cpumask_t online = xcall_online();
    for (unsigned c = 0; c < g_smp.count; c++)
        for (unsigned t = 0; t < g_smp.count; t++)
            if ((online >> c & 1) && (online >> t & 1) && c != t &&
                !KEXPECT_UEQ(s_ran[c][t], times))
                kprintf("  # cpu %u ran %u of cpu %u's calls, not %u\n", t, s_ran[c][t], c, times);
}

// Each CPU in turn calls every other; then all of them at once, many times
// over, so that callers meet in each other's mailboxes and wait on each
// other - each must serve the calls to it while it waits.
KTEST(smp, calls_from_every_cpu_to_every_other)
{
    if (!another_cpu())
        return;
    memset((void *)s_ran, 0, sizeof(s_ran));
    call_the_others(NULL);
    for (unsigned i = 1; i < g_smp.count; i++)
        xcall(1u << i, call_the_others, NULL);
    expect_each_ran(1);
    memset((void *)s_ran, 0, sizeof(s_ran));
    for (int round = 0; round < ALL_AT_ONCE_ROUNDS; round++)
        xcall(xcall_online(), call_the_others, NULL);
    expect_each_ran(ALL_AT_ONCE_ROUNDS);
}

// Runs fn(arg) in a kernel thread of its own, whose block has two views
// (the boot thread's has one, and spills everything), and waits for it.
static bool
in_a_kernel_thread(const char *name, void (*fn)(void *), void *arg)
{
    uint32_t flags = irq_save();
    struct thread *t = kthread_create(name, fn, arg);
    irq_restore(flags);
    if (t)
        thread_join(t->tid);
    return t != NULL;
}

struct in_arena {
    struct roll roll;
    uintptr_t request, base, end;
    uint32_t spilled, pending_during, pending_after;
};

static void
call_from_a_thread(void *arg)
{
    struct in_arena *p = arg;
    struct kfast_arena *a = &g_current->arena;
    p->base = a->base;
    p->end = a->end;
    uint32_t spilled = a->spills;
    struct xcall_request *r = xcall_post(xcall_online(), record, &p->roll);
    p->request = (uintptr_t)r;
    p->spilled = a->spills - spilled;
    p->pending_during = a->calls_pending;
    xcall_wait(r);
    p->pending_after = a->calls_pending;
}

// The stages of a_cpu_spinning_on_the_lock_answers_calls, told across CPUs.
enum { SPIN_NONE, SPIN_GAVE_LOCK, SPIN_LOCK_TAKEN, SPIN_GOT_LOCK };
static volatile uint32_t s_spin_stage;

// Pinned to cpu 1: hands the big kernel lock to the test and, interrupts
// off, waits for it again - so only the lock's spin can answer a call.
static void
spin_for_the_lock(void *arg)
{
    (void)arg;
    uint32_t flags = irq_save();
    s_spin_stage = SPIN_GAVE_LOCK;
    bkl_unlock();
    while (s_spin_stage != SPIN_LOCK_TAKEN)
        cpu_relax();
    bkl_lock();
    s_spin_stage = SPIN_GOT_LOCK;
    irq_restore(flags);
}

// A CPU spinning on the big kernel lock with interrupts off takes no IPI;
// the caller holds the lock and waits: the spin itself must serve the call
// (spin_set_wait_hook), or the call times out and panics.
KTEST(smp, a_cpu_spinning_on_the_lock_answers_calls)
{
    if (!another_cpu())
        return;
    static struct roll r;
    memset((void *)&r, 0, sizeof(r));
    s_spin_stage = SPIN_NONE;
    struct thread *t = kthread_create_on(1, "lock_spinner", spin_for_the_lock, NULL);
    KASSERT_NOT_NULL(t);
    uint32_t tid = t->tid, flags = irq_save();
    bkl_unlock(); // for the spinner, which gives it back
    while (s_spin_stage != SPIN_GAVE_LOCK)
        cpu_relax();
    bkl_lock();
    s_spin_stage = SPIN_LOCK_TAKEN;
    xcall(1u << 1, record, &r);
    KEXPECT_UEQ(r.ran, 1u << 1);
    KEXPECT_UEQ(s_spin_stage, SPIN_LOCK_TAKEN); // it still waits for the lock
    irq_restore(flags);
    thread_join(tid);
    KEXPECT_UEQ(s_spin_stage, SPIN_GOT_LOCK);
}

// A kernel thread's call: its request is in the thread's own block (a
// 4 KiB block has no page to claim: there it spills, to the thread's own
// spill chain), counted while the call is outstanding, and every CPU ran it.
KTEST(smp, the_request_lives_in_the_callers_arena)
{
    static struct in_arena p;
    memset(&p, 0, sizeof(p));
    KASSERT_TRUE(in_a_kernel_thread("xcall-arena", call_from_a_thread, &p));
    KEXPECT_UEQ(p.roll.ran, xcall_online());
    if (KSTACK_SIZE > PAGE_SIZE) {
        KEXPECT_UGE(p.request, p.base);
        KEXPECT_ULT(p.request + sizeof(struct xcall_request), p.end);
        KEXPECT_UEQ(p.spilled, 0);
    } else {
        KEXPECT_UEQ(p.spilled, 1);
    }
    KEXPECT_UEQ(p.pending_during, 1);
    KEXPECT_UEQ(p.pending_after, 0);
}

static void
nothing(void *arg)
{
    (void)arg;
}

static jmp_buf s_env;

struct misuse {
    bool panicked;
    char message[sizeof(g_panic_message)];
};

// Posts a call and, before waiting on it, empties the arena as a return to
// user mode would: what an asynchronous call would do.
static NOINLINE void
reset_under_a_call(void *arg)
{
    struct misuse *m = arg;
    struct xcall_request *r = xcall_post(xcall_online(), nothing, NULL);
    g_panic_message[0] = '\0';
    panic_recovery_arm(&s_env);
    if (setjmp(s_env) == 0) {
        kfast_reset_quiescent();
        panic_recovery_arm(NULL);
    } else {
        m->panicked = true;
    }
    memcpy(m->message, g_panic_message, sizeof(m->message));
    xcall_wait(r);
}

// A debug build's check: an arena reset while a call whose request is in
// that arena is outstanding panics, before anything is freed.
KTEST(smp, a_reset_under_an_outstanding_call_is_caught)
{
    if (!TANDEM_DEBUG) {
        kprintf("  # release build: the check is a debug build's (kfast_reset)\n");
        return;
    }
    static struct misuse m;
    memset(&m, 0, sizeof(m));
    KASSERT_TRUE(in_a_kernel_thread("xcall-misuse", reset_under_a_call, &m));
    KEXPECT_TRUE(m.panicked);
    KEXPECT_EQ(strncmp(m.message, "kfast_reset: 1 cross-CPU call", 29), 0);
}

struct probe_at {
    uintptr_t va;
    uint32_t value;
    bool faulted;
};

static void
probe_here(void *arg)
{
    struct probe_at *p = arg;
    p->faulted = read_faults((volatile uint32_t *)p->va, &p->value);
}

// The page-table entry of a kernel page (its table exists from boot).
static uint32_t *
kernel_pte(uintptr_t va)
{
    const uint32_t *pd = g_kernel_space.pd;
    return (uint32_t *)P2V(pd[va >> 22] & PTE_ADDR_MASK) + ((va >> 12) & 0x3FF);
}

// Every other CPU reads the page (so its TLB holds the entry); returns how
// many read want.
static unsigned
others_read(uint32_t want)
{
    unsigned n = 0;
    for (unsigned t = 1; t < g_smp.count; t++) {
        struct probe_at p = { SHOOT_VA, 0, false };
        xcall(1u << t, probe_here, &p);
        n += !p.faulted && p.value == want;
    }
    return n;
}

// A kernel page mapped on the boot CPU and read by every other CPU, then
// unmapped: every other CPU's next read faults.  Before that, the control:
// the same entry cleared with only this CPU's invlpg, which QEMU's TCG and
// Bochs both show the other CPUs still reading through their stale entries.
KTEST(smp, an_unmapped_page_faults_on_every_cpu)
{
    if (!another_cpu())
        return;
    uintptr_t pa = frame_alloc();
    KASSERT_NE(pa, 0);
    volatile uint32_t *frame = P2V(pa);
    *frame = 0x5EED0001;
    KASSERT_EQ(vm_map(&g_kernel_space, SHOOT_VA, pa, VM_WRITE), 0);
    KEXPECT_UEQ(others_read(0x5EED0001), g_smp.online - 1);
    uint32_t pte = *kernel_pte(SHOOT_VA);
    *kernel_pte(SHOOT_VA) = 0;
    invlpg(SHOOT_VA);
    *frame = 0x5EED0002;
    kprintf("  # control, the entry cleared with a local invlpg only: %u of %u other CPUs "
            "still read the page through a stale TLB entry\n",
            others_read(0x5EED0002), g_smp.online - 1);
    *kernel_pte(SHOOT_VA) = pte;
    tlb_shootdown(SHOOT_VA, 1);
    *frame = 0x5EED0003;
    KEXPECT_UEQ(others_read(0x5EED0003), g_smp.online - 1);
    KEXPECT_UEQ(vm_unmap(&g_kernel_space, SHOOT_VA), pa);
    *frame = 0x5EED0004;
    for (unsigned t = 1; t < g_smp.count; t++) {
        struct probe_at p = { SHOOT_VA, 0, false };
        xcall(1u << t, probe_here, &p);
        if (!KEXPECT_TRUE(p.faulted))
            kprintf("  # cpu %u read %#x from the unmapped page\n", t, p.value);
    }
    frame_free(pa);
}
