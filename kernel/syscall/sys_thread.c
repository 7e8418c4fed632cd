// Threads and time: exit, thread_create, thread_exit, yield, sleep, gettid, time.
#include "cap.h"
#include "mm/paging.h"
#include "process.h"
#include "syscall.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

#define SLEEP_MAX_TICKS 100000 // 1000 s: longer is surely a mistake

int32_t
sys_exit(struct trap_frame *f)
{
    process_exit((int)f->ebx);
}

int32_t
sys_thread_create(struct trap_frame *f)
{
    uint32_t entry = f->ebx, stack_top = f->ecx, arg = f->edx;
    struct process *p = g_current->proc;
    if (entry < USER_BASE || entry >= USER_TOP || stack_top <= USER_BASE || stack_top > USER_TOP)
        return -EFAULT;
    if (p->live_threads >= THREADS_PER_PROCESS || thread_count() >= THREADS_MAX)
        return -EAGAIN;
    if (cap_table_room(p) == 0)
        return -EMFILE;
    // Interrupts are off: the new thread cannot run, or end, before its
    // record and handle exist.
    struct thread *t = uthread_create(p, p->name, entry, stack_top, arg);
    if (!t)
        return -ENOMEM;
    struct thread_record *r = thread_record_create(t);
    if (!r) {
        t->killed = true; // dies before its first instruction
        return -ENOMEM;
    }
    int32_t h = cap_install(p, &r->obj, CAP_WAIT, 0, NULL);
    thread_record_put(r); // the handle holds it now
    return h;
}

int32_t
sys_thread_exit(struct trap_frame *f)
{
    thread_exit((int)f->ebx);
}

int32_t
sys_yield(struct trap_frame *f)
{
    (void)f;
    schedule();
    return 0;
}

int32_t
sys_sleep(struct trap_frame *f)
{
    if (f->ebx > SLEEP_MAX_TICKS)
        return -EINVAL;
    thread_sleep(f->ebx);
    return 0;
}

int32_t
sys_gettid(struct trap_frame *f)
{
    (void)f;
    return (int32_t)g_current->tid;
}

int32_t
sys_time(struct trap_frame *f)
{
    (void)f;
    return (int32_t)timer_ticks();
}
