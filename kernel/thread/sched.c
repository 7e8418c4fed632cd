// The scheduler: preemptive round robin over one run queue that every CPU
// takes from, driven by the boot CPU's tick (include/irq.h) and each AP's
// local APIC timer, with an idle thread per CPU for when nothing is runnable.
//
// Everything here runs with interrupts off and under the big kernel lock
// (include/spinlock.h), which a switch hands from one thread to the next.
// One shared queue is the simple choice the lock allows: a thread runs on
// whichever CPU is free first (it migrates freely), unless it is pinned.
// A CPU that queues a thread wakes an idle one with the reschedule IPI.
// The tick handler only sets g_need_resched; the switch happens where it is
// safe: on the way out to user mode (kernel/entry/exit.c), or when a
// kernel thread was interrupted with interrupts on (kernel/entry/trap.c).
#include "collision.h"
#include "cpu.h"
#include "gdt.h"
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "panic.h"
#include "process.h"
#include "smp.h"
#include "smp/lapic.h"
#include "spinlock.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

static struct list_node s_runq = LIST_INIT(s_runq);
static struct list_node s_sleepers = LIST_INIT(s_sleepers);
static struct list_node s_timed = LIST_INIT(s_timed); // in waitq_wait_for with a limit
static uint32_t s_lapic_tick; // the APs' timer counts in one tick (0: no timer)
// Threads on s_runq that any CPU may take (each CPU counts those pinned to
// it in its queued_here).  Read without the lock by idle CPUs as a hint of
// whether taking it is worth it; written under it.
static volatile uint32_t s_queued_anywhere;
static unsigned s_aps_started, s_aps_expected;

static void
runq_push(struct thread *t)
{
    list_push_back(&s_runq, &t->run_link);
    if (t->pinned_to)
        g_percpu[t->pinned_to - 1].queued_here++;
    else
        s_queued_anywhere++;
}

static void
runq_remove(struct thread *t)
{
    list_remove(&t->run_link);
    if (t->pinned_to)
        g_percpu[t->pinned_to - 1].queued_here--;
    else
        s_queued_anywhere--;
}

// Whether the run queue holds a thread this CPU may run (a hint without
// the lock).
static bool
runnable_here(void)
{
    return s_queued_anywhere || THIS_CPU(queued_here);
}

// Inline in both its callers: it is most of a context switch.
static FORCE_INLINE void
switch_to(struct thread *prev, struct thread *next)
{
    uint32_t top = (uint32_t)next->block + KSTACK_SIZE;
    kfast_arena_switch(&prev->arena, &next->arena);
    entry_stack_set(top);
    // Kernel threads run in whichever address space is loaded: the kernel
    // half is the same in all of them.  With several CPUs they load the
    // kernel's own, so that a process's directory, freed once its last
    // thread is reaped, is loaded on no CPU (as_destroy checks).
    if (next->proc) {
        as_activate(next->proc->as);
        tss_io_load(next->proc->has_ports ? next->proc->iomap : NULL);
    } else if (g_tlb_shared) {
        as_activate(&g_kernel_space);
    }
    g_current = next;
    THIS_CPU(dispatches)++;
    switch_context(&prev->saved_esp, next->saved_esp);
}

// Switches from prev to the first queued thread this CPU may run, or to its
// idle thread; prev, if it is to run again, is queued already.
static FORCE_INLINE void
switch_to_next(struct thread *prev)
{
    struct thread *next = THIS_CPU(idle);
    uint32_t me = THIS_CPU(lock_id);
    list_for_each(n, &s_runq) {
        struct thread *t = list_entry(n, struct thread, run_link);
        if (!t->pinned_to || t->pinned_to == me) {
            runq_remove(t);
            next = t;
            break;
        }
    }
    if (next != prev)
        switch_to(prev, next);
}

void
schedule(void)
{
    struct thread *prev = g_current;
    bkl_assert_alone("a context switch");
    g_need_resched = 0;
    kfast_check("a context switch"); // prev is still the running thread
    if (prev->state == THREAD_RUNNABLE && prev != THIS_CPU(idle))
        runq_push(prev);
    switch_to_next(prev);
}

// t was queued: the CPU that should look at the queue now is told.  This
// CPU looks at its next safe point (g_need_resched); an idle one, or the
// one t is pinned to, gets the reschedule IPI.
static void
sched_kick(struct thread *t)
{
    uint32_t me = THIS_CPU(lock_id);
    if (t->pinned_to && t->pinned_to != me) {
        smp_send_reschedule(t->pinned_to - 1);
        return;
    }
    g_need_resched = 1;
    for (unsigned i = 0; i < g_smp.count && g_tlb_shared; i++) {
        struct percpu *p = &g_percpu[i];
        if (i + 1 != me && p->idle && p->current == p->idle) {
            smp_send_reschedule(i);
            return;
        }
    }
}

void
schedule_with_lock(void)
{
    bool took = !bkl_held();
    if (took)
        bkl_lock();
    schedule();
    if (took)
        bkl_unlock();
}

// Panics unless thread t may be pinned to cpu (who asks, for the report).
static void
pin_check(const struct thread *t, unsigned cpu, const char *who)
{
    if (cpu >= g_smp.count || g_smp.cpus[cpu].state != CPU_ONLINE)
        panic("%s: thread %u (%s) cannot be pinned to cpu %u", who, t->tid, t->name, cpu);
}

void
thread_move_to(unsigned cpu)
{
    struct thread *t = g_current;
    pin_check(t, cpu, "thread_move_to");
    uint32_t flags = irq_save();
    t->pinned_to = cpu + 1;
    if (cpu != this_cpu_index()) {
        bkl_assert_alone("a move to another CPU");
        kfast_check("a context switch");
        // Queued first, then that CPU told (its idle loop looks at the
        // queue when the IPI wakes it); it cannot take t before this CPU
        // has switched away from it, as it needs the lock this one holds.
        runq_push(t);
        sched_kick(t);
        switch_to_next(t);
    }
    if (this_cpu_index() != cpu)
        panic("thread_move_to: thread %u (%s) asked for cpu %u and runs on cpu %u", t->tid, t->name,
              cpu, this_cpu_index());
    irq_restore(flags);
}

void
thread_pin(struct thread *t, unsigned cpu)
{
    uint32_t flags = irq_save();
    for (unsigned i = 0; i < g_smp.count; i++)
        if (g_percpu[i].current == t)
            panic("thread_pin: thread %u (%s) runs on cpu %u", t->tid, t->name, i);
    pin_check(t, cpu, "thread_pin");
    // On the run queue it is counted where it may run: taken off, pinned,
    // queued again, and that CPU told.
    bool queued = t->state == THREAD_RUNNABLE;
    if (queued)
        runq_remove(t);
    t->pinned_to = cpu + 1;
    if (queued) {
        runq_push(t);
        sched_kick(t);
    }
    irq_restore(flags);
}

void
thread_yield(void)
{
    uint32_t flags = irq_save();
    schedule();
    irq_restore(flags);
}

bool
thread_block(const char *reason)
{
    struct thread *t = g_current;
    // Killed while it ran in ring 3 on this CPU and another CPU did the
    // killing: that wake-up came before this wait, so none will end it.
    // It leaves the wait queue or sleepers' list it was put on.
    if (unlikely(t->killed)) {
        if (list_linked(&t->run_link))
            list_remove(&t->run_link);
        return false;
    }
    t->state = THREAD_BLOCKED;
    t->wait_reason = reason;
    schedule();
    t->wait_reason = NULL;
    return !t->killed;
}

bool
thread_block_run(struct thread *next, const char *reason)
{
    struct thread *t = g_current;
    KASSERT(next->state == THREAD_BLOCKED && !list_linked(&next->run_link) && next != t);
    // A thread pinned to another CPU runs only there: it goes through the
    // run queue and that CPU's reschedule IPI like any wake-up.  A killed
    // caller does not wait (thread_block).
    if ((next->pinned_to && next->pinned_to != THIS_CPU(lock_id)) || t->killed) {
        thread_wake(next);
        return thread_block(reason);
    }
    bkl_assert_alone("a context switch");
    t->state = THREAD_BLOCKED;
    t->wait_reason = reason;
    next->state = THREAD_RUNNABLE;
    kfast_check("a context switch");
    switch_to(t, next);
    t->wait_reason = NULL;
    return !t->killed;
}

void
thread_wake(struct thread *t)
{
    if (t->state != THREAD_BLOCKED)
        return;
    if (list_linked(&t->run_link))
        list_remove(&t->run_link); // off its wait queue
    t->state = THREAD_RUNNABLE;
    runq_push(t);
    sched_kick(t);
}

void
thread_wake_new(struct thread *t)
{
    runq_push(t);
    if (g_tlb_shared)
        sched_kick(t);
}

void
thread_sleep(uint32_t ticks)
{
    uint32_t flags = irq_save();
    if (ticks == 0) {
        schedule();
    } else {
        g_current->wake_tick = timer_ticks() + ticks;
        list_push_back(&s_sleepers, &g_current->run_link);
        thread_block("sleep");
    }
    irq_restore(flags);
}

void
waitq_init(struct waitq *q)
{
    list_init(&q->waiters);
}

bool
waitq_wait(struct waitq *q, const char *reason)
{
    list_push_back(&q->waiters, &g_current->run_link);
    return thread_block(reason);
}

int
waitq_wait_for(struct waitq *q, const bool *done, uint32_t ticks, const char *reason)
{
    struct thread *self = g_current;
    uint32_t deadline = timer_ticks() + ticks;
    while (!*done) {
        if (self->killed)
            return -EINTR;
        if (ticks != WAIT_FOREVER && (int32_t)(timer_ticks() - deadline) >= 0)
            return -ETIMEDOUT;
        // On q (run_link) and, with a limit, on the timed list (timer_link):
        // whichever comes first wakes it, and it leaves both.
        if (ticks != WAIT_FOREVER) {
            self->wake_tick = deadline;
            list_push_back(&s_timed, &self->timer_link);
        }
        waitq_wait(q, reason);
        if (list_linked(&self->timer_link))
            list_remove(&self->timer_link);
    }
    return 0;
}

void
waitq_wake_all(struct waitq *q)
{
    struct list_node *n;
    while ((n = list_pop_front(&q->waiters)) != NULL)
        thread_wake(list_entry(n, struct thread, run_link));
}

// The timer's tick hook (installed by sched_init): wake the sleepers that are due, and ask for a switch
// if anyone else wants the CPU (a quantum is one tick, 10 ms).
void
sched_tick(void)
{
    uint32_t now = timer_ticks();
    g_current->ticks_run++;
    for (struct list_node *n = s_sleepers.next, *next; n != &s_sleepers; n = next) {
        next = n->next;
        struct thread *t = list_entry(n, struct thread, run_link);
        if ((int32_t)(now - t->wake_tick) >= 0)
            thread_wake(t);
    }
    list_for_each(n, &s_timed) {
        struct thread *t = list_entry(n, struct thread, timer_link);
        if ((int32_t)(now - t->wake_tick) >= 0)
            thread_wake(t); // it takes itself off s_timed
    }
    if (runnable_here())
        g_need_resched = 1;
}

void
sched_local_tick(void)
{
    lapic_eoi();
    g_current->ticks_run++;
    if (runnable_here())
        g_need_resched = 1;
}

void
sched_reschedule_ipi(void)
{
    lapic_eoi();
    THIS_CPU(resched_taken)++;
    g_need_resched = 1;
    // The sender may have changed the running process's ports or mappings
    // (sched_kick_process): this CPU catches up before it returns to it.
    struct process *p = g_current->proc;
    if (p)
        tss_io_load(p->has_ports ? p->iomap : NULL);
    if (THIS_CPU(tlb_gen) != g_kernel_tlb_gen)
        tlb_catch_up();
}

void
sched_kick_process(struct process *p)
{
    for (unsigned i = 0; i < g_smp.count && g_tlb_shared; i++) {
        struct thread *t = g_percpu[i].current;
        if (i != this_cpu_index() && t && t->proc == p)
            smp_send_reschedule(i);
    }
}

uint32_t
sched_dispatches(unsigned cpu)
{
    return g_percpu[cpu].dispatches;
}

// Holds the big kernel lock like every thread, except while it waits: it
// halts until the run queue has something for this CPU, and only then
// takes the lock again, so an idle CPU does not spin on a lock a busy one
// holds.  (An interrupt that needs the lock, the boot CPU's tick and device
// interrupts, takes it for its handler.)
static void
idle_main(void *arg)
{
    (void)arg;
    for (;;) {
        kfast_reset_quiescent();
        cli();
        if (runnable_here())
            schedule();
        bkl_unlock();
        // sti takes effect after the next instruction, so no interrupt can
        // slip in between the check and the hlt.
        while (!runnable_here())
            __asm__ volatile("sti; hlt; cli");
        bkl_lock();
        sti();
    }
}

// CPU cpu's idle thread, chosen when the run queue has nothing for it,
// never queued.
static struct thread *
idle_create(unsigned cpu)
{
    struct thread *idle = kthread_create_on(cpu, "idle", idle_main, NULL);
    if (!idle)
        panic("sched_init: no memory for cpu %u's idle thread", cpu);
    uint32_t flags = irq_save();
    list_remove(&idle->run_link);
    irq_restore(flags);
    g_percpu[cpu].idle = idle;
    return idle;
}

void
sched_ap_start(unsigned cpu)
{
    bkl_lock();
    s_aps_started++;
    double_fault_init();
    lapic_accept_interrupts();
    if (s_lapic_tick)
        lapic_timer_start(VEC_LAPIC_TIMER, s_lapic_tick);
    struct thread *idle = g_percpu[cpu].idle;
    kfast_arena_activate(&idle->arena);
    entry_stack_set((uint32_t)idle->block + KSTACK_SIZE);
    g_current = idle;
    uint32_t unused;
    switch_context(&unused, idle->saved_esp);
    panic("cpu %u: its bring-up stack was switched back to", cpu);
}

void
sched_wait_for_aps(void)
{
    // Each AP takes the lock to become its idle thread: let it.
    while (__atomic_load_n(&s_aps_started, __ATOMIC_ACQUIRE) < s_aps_expected) {
        bkl_unlock();
        cpu_relax();
        bkl_lock();
    }
}

void
sched_init(void)
{
    idle_create(0);
    unsigned aps = 0;
    for (unsigned i = 1; i < g_smp.count; i++) {
        if (g_smp.cpus[i].state == CPU_ONLINE) {
            idle_create(i);
            aps++;
        }
    }
    if (aps) {
        // The APs' timers tick as the PIT does: counts measured once, here.
        s_lapic_tick = lapic_timer_calibrate();
        g_tlb_shared = true;
    }
    s_aps_expected = aps;
    entry_stack_set((uint32_t)g_current->block + KSTACK_SIZE);
    static struct timer_tick_hook tick = { .fn = sched_tick };
    timer_add_tick_hook(&tick);
    reaper_init();
}
