// The scheduler: preemptive round robin over one run queue, driven by the
// PIT, with an idle thread for when nothing is runnable.
//
// Everything here runs with interrupts off (one CPU: that is the lock).
// The tick handler only sets g_need_resched; the switch happens where it is
// safe: on the way out to user mode (kernel/entry/exit.c), or when a
// kernel thread was interrupted with interrupts on (kernel/entry/trap.c).
#include "cpu.h"
#include "gdt.h"
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "panic.h"
#include "process.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

uint32_t g_need_resched;
static struct list_node s_runq = LIST_INIT(s_runq);
static struct list_node s_sleepers = LIST_INIT(s_sleepers);
static struct list_node s_timed = LIST_INIT(s_timed); // in waitq_wait_for with a limit
static struct thread *s_idle;

// Inline in both its callers: it is most of a context switch.
static FORCE_INLINE void
switch_to(struct thread *prev, struct thread *next)
{
    uint32_t top = (uint32_t)next->block + KSTACK_SIZE;
    kfast_arena_switch(&prev->arena, &next->arena);
    entry_stack_set(top);
    // Kernel threads run in whichever address space is loaded: the kernel
    // half is the same in all of them.
    if (next->proc) {
        as_activate(next->proc->as);
        tss_io_load(next->proc->has_ports ? next->proc->iomap : NULL);
    }
    g_current = next;
    switch_context(&prev->saved_esp, next->saved_esp);
}

void
schedule(void)
{
    struct thread *prev = g_current;
    g_need_resched = 0;
    kfast_check("a context switch"); // prev is still the running thread
    if (prev->state == THREAD_RUNNABLE && prev != s_idle)
        list_push_back(&s_runq, &prev->run_link);
    struct list_node *n = list_pop_front(&s_runq);
    struct thread *next = n ? list_entry(n, struct thread, run_link) : s_idle;
    if (next != prev)
        switch_to(prev, next);
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
    list_push_back(&s_runq, &t->run_link);
    g_need_resched = 1;
}

void
thread_wake_new(struct thread *t)
{
    list_push_back(&s_runq, &t->run_link);
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
    if (!list_empty(&s_runq))
        g_need_resched = 1;
}

static void
idle_main(void *arg)
{
    (void)arg;
    for (;;) {
        kfast_reset_quiescent();
        cli();
        if (!list_empty(&s_runq))
            schedule();
        // sti takes effect after the next instruction, so no interrupt can
        // slip in between the check above and the hlt.
        __asm__ volatile("sti; hlt");
    }
}

void
sched_init(void)
{
    s_idle = kthread_create("idle", idle_main, NULL);
    if (!s_idle)
        panic("sched_init: no memory for the idle thread");
    // The idle thread is chosen when the run queue is empty, never queued.
    uint32_t flags = irq_save();
    list_remove(&s_idle->run_link);
    irq_restore(flags);
    entry_stack_set((uint32_t)g_current->block + KSTACK_SIZE);
    static struct timer_tick_hook tick = { .fn = sched_tick };
    timer_add_tick_hook(&tick);
    reaper_init();
}
