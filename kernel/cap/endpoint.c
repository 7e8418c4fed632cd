// Endpoints: the objects IPC meets on (kernel/syscall/ipc.c moves the
// messages).  Here: their life, and the waits their handles can end.
#include "cap.h"
#include "kmalloc.h"
#include "panic.h"
#include "thread.h"
#include "uapi/errno.h"

static uint32_t s_endpoint_count;
static void (*s_notify_hook)(struct endpoint *ep, uint32_t badge);
static uint32_t s_endpoint_serial;

struct endpoint *
endpoint_create(void)
{
    struct endpoint *ep = kzalloc(sizeof(*ep));
    if (!ep)
        return NULL;
    kobject_init(&ep->obj, CAP_TYPE_ENDPOINT);
    ep->obj.refs = 0; // the handle that names it takes the first
    list_init(&ep->senders);
    list_init(&ep->receivers);
    ep->serial = ++s_endpoint_serial;
    s_endpoint_count++;
    return ep;
}

void
endpoint_destroy(struct endpoint *ep)
{
    // Every waiter came through a handle, and closing the last one ended its wait.
    KASSERT(list_empty(&ep->senders) && list_empty(&ep->receivers));
    s_endpoint_count--;
    kfree(ep);
}

uint32_t
endpoint_count(void)
{
    return s_endpoint_count;
}

void
ipc_wake(struct thread *t, int32_t result)
{
    ipc_wait_end(t, result);
    thread_wake(t);
}

// Ends with result the wait of every thread on list that matches (via ==
// NULL: all of them).
static void
wake_waiters(struct list_node *list, const struct cap *via, int32_t result)
{
    for (struct list_node *n = list->next, *next; n != list; n = next) {
        next = n->next;
        struct thread *t = list_entry(n, struct thread, ipc.link);
        if (!via || t->ipc.via == via)
            ipc_wake(t, result);
    }
}

void
endpoint_receiver_opened(struct endpoint *ep)
{
    ep->receive_holders++;
}

void
endpoint_receiver_closed(struct endpoint *ep)
{
    KASSERT(ep->receive_holders > 0);
    if (--ep->receive_holders == 0)
        wake_waiters(&ep->senders, NULL, -EPIPE);
}

void
endpoint_slot_closing(struct endpoint *ep, struct cap *c)
{
    wake_waiters(&ep->senders, c, -EBADF);
    wake_waiters(&ep->receivers, c, -EBADF);
}

void
endpoint_set_notify_hook(void (*fn)(struct endpoint *ep, uint32_t badge))
{
    s_notify_hook = fn;
}

void
notify_fire(struct notify_source *src)
{
    if (src->ep && s_notify_hook)
        s_notify_hook(src->ep, src->badge);
}
