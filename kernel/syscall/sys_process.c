// Processes: spawn, wait, module_name.
#include "boot.h"
#include "lib/string.h"
#include "process.h"
#include "syscall.h"
#include "trap.h"
#include "uaccess.h"
#include "uapi/errno.h"

int32_t
sys_spawn(struct trap_frame *f)
{
    int err;
    struct process *p = process_spawn(f->ebx, g_current->proc, &err);
    return p ? (int32_t)p->pid : err;
}

int32_t
sys_wait(struct trap_frame *f)
{
    struct process *p = process_find(f->ebx);
    if (p == g_current->proc)
        return -EDEADLK;
    // Only the parent may wait, and only once (another thread may be at it).
    if (!p || p->parent != g_current->proc || p->has_waiter)
        return -ESRCH;
    return process_wait(p);
}

int32_t
sys_module_name(struct trap_frame *f)
{
    uint32_t index = f->ebx, cap = f->edx;
    if (index >= g_boot.module_count)
        return -ENOENT;
    const char *name = g_boot.modules[index].name;
    uint32_t len = strlen(name);
    // The whole buffer the caller declared must be usable, not only the
    // bytes this name needs (the page walk is bounded by the longest name).
    if (!user_range_ok(f->ecx, cap))
        return -EFAULT;
    int err = user_buffer_check(f->ecx, cap < BOOT_NAME_MAX ? cap : BOOT_NAME_MAX, true);
    if (err)
        return err;
    if (cap < len + 1)
        return -ENAMETOOLONG;
    err = copy_to_user(f->ecx, name, len + 1);
    return err ? err : (int32_t)len;
}
