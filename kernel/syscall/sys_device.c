// What user-space drivers and the console use: notify_bind, irq_ack,
// mem_map, log_read, console_take; and thread_list, the figures `ps` and
// `top` show.
#include "boot.h"
#include "cap.h"
#include "kfast.h"
#include "lib/string.h"
#include "log.h"
#include "syscall.h"
#include "thread.h"
#include "trap.h"
#include "uaccess.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

int32_t
sys_notify_bind(struct trap_frame *f)
{
    struct process *p = g_current->proc;
    struct cap *src, *ep = NULL;
    int err = cap_lookup(p, (int32_t)f->ebx, 0, 0, &src);
    if (err)
        return err;
    if (src->obj->type != CAP_TYPE_IRQ && src->obj->type != CAP_TYPE_LOG)
        return -EBADF; // the kind first, as cap_lookup does
    if (!(src->rights & CAP_USE))
        return -EPERM;
    if (f->ecx != 0 && (err = cap_lookup(p, (int32_t)f->ecx, CAP_TYPE_ENDPOINT, CAP_SEND, &ep)))
        return err;
    if (f->edx > BADGE_MAX || (ep && f->edx == 0))
        return -EINVAL; // a notification's badge is all it says
    return boot_object_bind(src->obj, src, ep ? (struct endpoint *)ep->obj : NULL, f->edx);
}

int32_t
sys_irq_ack(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, CAP_TYPE_IRQ, CAP_USE, &c);
    if (err)
        return err;
    boot_object_irq_ack(c->obj);
    return 0;
}

int32_t
sys_mem_map(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, CAP_TYPE_MEMORY, CAP_USE, &c);
    return err ? err : cap_memory_map(c, f->ecx);
}

// Copies the log through a bounce buffer in the arena, then the cursor;
// the cursor moves only if both copies succeed.
int32_t
sys_log_read(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, CAP_TYPE_LOG, CAP_USE, &c);
    if (err)
        return err;
    uintptr_t ucursor = f->ecx, ubuf = f->edx;
    uint32_t size = f->esi < LOG_READ_MAX ? f->esi : LOG_READ_MAX;
    struct log_read cur;
    if ((err = copy_from_user(&cur, ucursor, sizeof(cur))) != 0)
        return err;
    if ((err = user_buffer_check(ucursor, sizeof(cur), true)) != 0 ||
        (size && (err = user_buffer_check(ubuf, size, true)) != 0))
        return err;
    // The bounce holds what there is to read, at most size: a strict arena
    // (kfast=strict) refuses big blocks, and a reader in step reads little.
    uint32_t behind = log_head() - cur.pos;
    if (size > behind)
        size = behind;
    char *text = size ? kfastmalloc(size) : NULL;
    if (size && !text)
        return -ENOMEM;
    uint32_t n = log_read(&cur.pos, text, size, &cur.lost);
    cur.dropped = log_overwritten();
    if ((n && (err = copy_to_user(ubuf, text, n)) != 0) ||
        (err = copy_to_user(ucursor, &cur, sizeof(cur))) != 0)
        return err;
    return (int32_t)n;
}

int32_t
sys_console_take(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, CAP_TYPE_LOG, CAP_USE, &c);
    if (err)
        return err;
    // In test mode the devices carry the KTAP protocol: they stay the kernel's.
    if (!g_boot.test_mode)
        boot_object_take_console(c->obj, c);
    return 0;
}

// One thread's figures.
static void
thread_info_fill(struct thread *t, struct thread_info *out)
{
    struct kfast_stats ks;
    memset(out, 0, sizeof(*out));
    out->tid = t->tid;
    out->pid = t->proc ? t->proc->pid : 0;
    out->state = t->state == THREAD_RUNNABLE  ? THREAD_STATE_RUNNABLE
                 : t->state == THREAD_BLOCKED ? THREAD_STATE_BLOCKED
                                              : THREAD_STATE_DEAD;
    strlcpy(out->name, t->name, sizeof(out->name));
    if (t->proc)
        strlcpy(out->process, t->proc->name, sizeof(out->process));
    kfast_stats(t, &ks);
    uint32_t top = (uint32_t)t->block + KSTACK_SIZE;
    uint32_t esp = t == g_current ? read_esp() : t->saved_esp;
    out->block_size = KSTACK_SIZE;
    out->stack_in_use = top - esp;
    out->stack_low_water = ks.stack_low_water;
    out->stack_peak = KSTACK_SIZE - ks.stack_low_water;
    out->arena_in_use = ks.in_use;
    out->arena_peak = ks.peak;
    out->spills = ks.spills;
    out->resets = ks.resets;
    out->collisions = ks.collisions;
    out->ticks = t->ticks_run;
    out->kernel_entries = t->kernel_entries;
}

int32_t
sys_thread_list(struct trap_frame *f)
{
    uintptr_t uptr = f->ebx;
    uint32_t max = f->ecx, n = 0;
    if (max > THREADS_MAX)
        max = THREADS_MAX;
    if (max && !user_range_ok(uptr, max * sizeof(struct thread_info)))
        return -EFAULT;
    struct thread *t;
    thread_for_each(t) {
        if (n < max) {
            struct thread_info info;
            thread_info_fill(t, &info);
            int err = copy_to_user(uptr + n * sizeof(info), &info, sizeof(info));
            if (err)
                return err;
        }
        n++;
    }
    return (int32_t)n;
}
