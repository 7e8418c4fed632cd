// Processes: spawn, wait, kill, cmdline.
#include "boot.h"
#include "cap.h"
#include "kfast.h"
#include "lib/string.h"
#include "process.h"
#include "syscall.h"
#include "thread.h"
#include "trap.h"
#include "uaccess.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

// The handles a spawn passes, checked and recorded as transfers in the
// arena (the user's list, copied there first): they live until the child's
// table holds its copies, within this entry.
static int
spawn_transfers(uintptr_t ulist, uint32_t count, struct cap_transfer **out)
{
    if (count > SPAWN_HANDLES_MAX)
        return -EINVAL;
    *out = NULL;
    if (count == 0)
        return 0;
    int32_t *handles = kfastmalloc(count * sizeof(*handles));
    struct cap_transfer *t = kfastmalloc(count * sizeof(*t));
    if (!handles || !t)
        return -ENOMEM;
    if (copy_from_user(handles, ulist, count * sizeof(*handles)) != 0)
        return -EFAULT;
    for (uint32_t i = 0; i < count; i++) {
        struct cap *c;
        int err = cap_lookup(g_current->proc, handles[i], 0, CAP_GRANT, &c);
        if (err)
            return err;
        cap_transfer_record(&t[i], c);
    }
    *out = t;
    return 0;
}

int32_t
sys_spawn(struct trap_frame *f)
{
    struct process *self = g_current->proc;
    struct cap *module;
    int err = cap_lookup(self, (int32_t)f->ebx, CAP_TYPE_MODULE, CAP_SPAWN, &module);
    if (err)
        return err;
    struct cap_spawn_args args = { NULL, f->edx };
    struct cap_transfer *transfers;
    if ((err = spawn_transfers(f->ecx, f->edx, &transfers)) != 0)
        return err;
    args.handles = transfers;
    char *text = NULL;
    if (f->esi) {
        if (!(text = kfastmalloc(SPAWN_ARGS_MAX)))
            return -ENOMEM;
        int32_t len = strncpy_from_user(text, f->esi, SPAWN_ARGS_MAX);
        if (len < 0)
            return len; // -EFAULT, or -ENAMETOOLONG past SPAWN_ARGS_MAX - 1
    }
    if (cap_table_room(self) == 0)
        return -EMFILE; // checked first: the child's handle cannot fail
    struct spawn_request req = {
        boot_module_index(module->obj), self, cap_setup_child, &args, text,
    };
    struct process *p = process_spawn(&req, &err);
    if (!p)
        return err;
    return cap_install(self, &p->obj, CAP_WAIT | CAP_KILL | CAP_GRANT, 0, NULL);
}

int32_t
sys_wait(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, 0, 0, &c);
    if (err)
        return err;
    // The kind first, as cap_lookup does: -EBADF for what cannot be waited
    // for at all, -EPERM only for a process or thread without CAP_WAIT.
    uint32_t type = c->obj->type;
    if (type != CAP_TYPE_PROCESS && type != CAP_TYPE_THREAD)
        return -EBADF;
    if (!(c->rights & CAP_WAIT))
        return -EPERM;
    if (f->ecx > WAIT_TICKS_MAX && f->ecx != WAIT_FOREVER)
        return -EINVAL; // a deadline that far would wrap the tick count
    if (type == CAP_TYPE_PROCESS)
        return process_wait((struct process *)c->obj, f->ecx);
    return thread_record_wait((struct thread_record *)c->obj, f->ecx);
}

int32_t
sys_kill(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, CAP_TYPE_PROCESS, CAP_KILL, &c);
    if (err)
        return err;
    process_kill((struct process *)c->obj);
    return 0;
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
