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

// Copies a kernel string into a user buffer of cap bytes: -ENAMETOOLONG if
// it does not fit with its NUL, -EFAULT if the declared buffer is not all
// usable (checked up to the longest string this can copy).
static int32_t
copy_string_out(const char *s, uintptr_t ubuf, uint32_t cap, uint32_t max)
{
    uint32_t len = strlen(s);
    if (!user_range_ok(ubuf, cap))
        return -EFAULT;
    int err = user_buffer_check(ubuf, cap < max ? cap : max, true);
    if (err)
        return err;
    if (cap < len + 1)
        return -ENAMETOOLONG;
    err = copy_to_user(ubuf, s, len + 1);
    return err ? err : (int32_t)len;
}

int32_t
sys_cmdline(struct trap_frame *f)
{
    return copy_string_out(g_boot.cmdline, f->ebx, f->ecx, BOOT_CMDLINE_MAX);
}

int32_t
sys_module_name(struct trap_frame *f)
{
    uint32_t index = f->ebx;
    if (index >= g_boot.module_count)
        return -ENOENT;
    return copy_string_out(g_boot.modules[index].name, f->ecx, f->edx, BOOT_NAME_MAX);
}
