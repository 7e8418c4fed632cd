// Kernel objects' lifetime, and how the capability layer joins the process
// life cycle: a process starts with handles (the first process with every
// boot object, a child with what its parent passed) and ends closing them.
#include "cap.h"
#include "panic.h"
#include "process.h"
#include "thread.h"
#include "uapi/errno.h"

void
kobject_put(struct kobject *o)
{
    KASSERT(o->refs > 0);
    switch (o->type) {
    case CAP_TYPE_ENDPOINT:
        if (--o->refs == 0)
            endpoint_destroy((struct endpoint *)o);
        break;
    case CAP_TYPE_PROCESS: process_put((struct process *)o); break;
    case CAP_TYPE_THREAD: thread_record_put((struct thread_record *)o); break;
    default: // boot modules and devices live for ever
        o->refs--;
        break;
    }
}

uint32_t
kobject_count(void)
{
    return endpoint_count() + process_count() + thread_record_count();
}

int
cap_setup_child(struct process *p, void *args)
{
    const struct cap_spawn_args *a = args;
    int err = cap_table_create(p);
    if (err)
        return err;
    for (uint32_t i = 0; i < a->count; i++) {
        if (!cap_transfer_valid(&a->handles[i])) {
            cap_table_destroy(p);
            return -EBADF;
        }
        cap_copy(p, a->handles[i].src); // count <= SPAWN_HANDLES_MAX: room enough
    }
    return 0;
}

void
cap_init(void)
{
    process_set_end_hook(cap_table_destroy);
    boot_objects_init();
}
