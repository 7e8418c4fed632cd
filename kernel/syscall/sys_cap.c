// Handles: cap_info, cap_dup, cap_close, cap_revoke, cap_list, endpoint_create.
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

int32_t
sys_cap_info(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, 0, 0, &c);
    if (err)
        return err;
    struct cap_info info;
    memset(&info, 0, sizeof(info));
    info.type = c->obj->type;
    info.rights = c->rights;
    info.badge = c->badge;
    if (c->obj->type == CAP_TYPE_PROCESS) {
        const struct process *p = (const struct process *)c->obj;
        info.base = p->pid;
        strlcpy(info.name, p->name, sizeof(info.name));
    } else if (c->obj->type == CAP_TYPE_ENDPOINT) {
        info.base = ((const struct endpoint *)c->obj)->serial;
    } else if (c->obj->type == CAP_TYPE_THREAD) {
        const struct thread_record *r = (const struct thread_record *)c->obj;
        info.base = r->tid;
        strlcpy(info.name, r->name, sizeof(info.name));
    } else {
        boot_object_info(c->obj, &info); // modules and devices; others have no more
    }
    return copy_to_user(f->ecx, &info, sizeof(info));
}

int32_t
sys_cap_dup(struct trap_frame *f)
{
    struct cap *c;
    uint32_t rights = f->ecx, badge = f->edx;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, 0, 0, &c);
    if (err)
        return err;
    if (c->obj->type == CAP_TYPE_REPLY)
        return -EPERM; // one call, one answer
    if (badge > BADGE_MAX)
        return -EINVAL;
    if (badge != 0 && c->badge != 0)
        return -EPERM; // a badge, once given, is what the holder is
    return cap_install(g_current->proc, c->obj, c->rights & rights, badge ? badge : c->badge, c);
}

int32_t
sys_cap_close(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, 0, 0, &c);
    if (err)
        return err;
    cap_close(c);
    return 0;
}

int32_t
sys_cap_revoke(struct trap_frame *f)
{
    struct cap *c;
    int err = cap_lookup(g_current->proc, (int32_t)f->ebx, 0, 0, &c);
    if (err)
        return err;
    return (int32_t)cap_revoke(c);
}

// Copies the open handles, lowest slot first, through a list in the arena.
int32_t
sys_cap_list(struct trap_frame *f)
{
    uintptr_t uptr = f->ebx;
    uint32_t max = f->ecx < CAPS_PER_PROCESS ? f->ecx : CAPS_PER_PROCESS;
    struct cap_table *t = g_current->proc->caps;
    int32_t *list = kfastmalloc(CAPS_PER_PROCESS * sizeof(*list));
    if (!list)
        return -ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < CAPS_PER_PROCESS; i++)
        if (t->slots[i].obj)
            list[n++] = cap_handle(&t->slots[i]);
    uint32_t stored = n < max ? n : max;
    if (stored && copy_to_user(uptr, list, stored * sizeof(*list)) != 0)
        return -EFAULT;
    return (int32_t)n;
}

int32_t
sys_endpoint_create(struct trap_frame *f)
{
    (void)f;
    struct process *p = g_current->proc;
    if (cap_table_room(p) == 0)
        return -EMFILE;
    struct endpoint *ep = endpoint_create();
    if (!ep)
        return -ENOMEM;
    return cap_install(p, &ep->obj, CAP_SEND | CAP_RECV | CAP_GRANT, 0, NULL);
}
