// Handle tables: install, look up, derive, close, revoke (see include/cap.h).
#include "cap.h"
#include "kmalloc.h"
#include "panic.h"
#include "thread.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

// The one object every reply slot names: a reply is not shared, its state
// is the slot itself (caller), so the object only carries the type.
static struct kobject s_reply_object = { CAP_TYPE_REPLY, 1 };
static uint32_t s_handles_open;

int
cap_table_create(struct process *p)
{
    struct cap_table *t = kzalloc(sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->owner = p;
    list_init(&t->free);
    for (uint32_t i = 0; i < CAPS_PER_PROCESS; i++) {
        struct cap *c = &t->slots[i];
        c->table = t;
        list_init(&c->children);
        list_push_back(&t->free, &c->sibling);
    }
    t->free_count = CAPS_PER_PROCESS;
    p->caps = t;
    return 0;
}

void
cap_table_destroy(struct process *p)
{
    struct cap_table *t = p->caps;
    if (!t)
        return;
    for (uint32_t i = 0; i < CAPS_PER_PROCESS; i++)
        if (t->slots[i].obj)
            cap_close(&t->slots[i]);
    p->caps = NULL;
    kfree(t);
}

uint32_t
cap_table_room(const struct process *p)
{
    return p->caps->free_count;
}

int32_t
cap_handle(const struct cap *c)
{
    uint32_t index = (uint32_t)(c - c->table->slots);
    return (int32_t)((c->gen << CAP_INDEX_BITS) | (index + 1));
}

// Takes a free slot of p and links it under parent.
static struct cap *
cap_alloc(struct process *p, struct cap *parent)
{
    struct list_node *n = list_pop_front(&p->caps->free);
    if (!n)
        return NULL;
    struct cap *c = list_entry(n, struct cap, sibling);
    p->caps->free_count--;
    c->parent = parent;
    if (parent)
        list_push_back(&parent->children, &c->sibling);
    p->caps->open++;
    s_handles_open++;
    return c;
}

int32_t
cap_install(struct process *p, struct kobject *obj, uint32_t rights, uint32_t badge,
            struct cap *parent)
{
    struct cap *c = cap_alloc(p, parent);
    if (!c)
        return -EMFILE;
    c->obj = obj;
    c->rights = rights;
    c->badge = badge;
    c->caller = NULL; // and mapped_at, its union twin
    if (obj != &s_reply_object)
        kobject_get(obj);
    if (obj->type == CAP_TYPE_ENDPOINT && (rights & CAP_RECV))
        endpoint_receiver_opened((struct endpoint *)obj);
    if (obj->type == CAP_TYPE_IOPORT)
        cap_ioports_changed(p);
    return cap_handle(c);
}

int32_t
cap_copy(struct process *p, struct cap *src)
{
    return cap_install(p, src->obj, src->rights, src->badge, src);
}

// A reply slot is a root with no rights, no badge and no reference (its
// object is shared and static): taking one is only cap_alloc's work.
int32_t
cap_install_reply(struct process *p, struct thread *caller)
{
    struct cap *c = cap_alloc(p, NULL);
    if (!c)
        return -EMFILE;
    c->obj = &s_reply_object;
    c->rights = c->badge = 0;
    c->caller = caller;
    caller->ipc.reply_cap = c;
    return cap_handle(c);
}

// Empties slot c and gives it back to its table.
static void
cap_slot_free(struct cap *c)
{
    c->obj = NULL;
    c->rights = c->badge = 0;
    c->table->open--;
    s_handles_open--;
    // A slot whose generation would wrap is retired: a stale handle must
    // never name a later object.
    if (++c->gen < CAP_GEN_LIMIT) {
        list_push_back(&c->table->free, &c->sibling);
        c->table->free_count++;
    }
}

void
cap_close_answered(struct cap *c)
{
    // Nothing derives from a reply slot (it has no GRANT, and cannot be
    // duplicated), and nobody waits on it once answered.
    KASSERT(c->obj == &s_reply_object && !c->caller && !c->parent && list_empty(&c->children));
    cap_slot_free(c);
}

void
cap_close(struct cap *c)
{
    KASSERT(c->obj);
    struct kobject *o = c->obj;
    // Derived slots move up to c's parent (or become roots).
    struct list_node *n;
    while ((n = list_pop_front(&c->children)) != NULL) {
        struct cap *d = list_entry(n, struct cap, sibling);
        d->parent = c->parent;
        if (c->parent)
            list_push_back(&c->parent->children, &d->sibling);
    }
    if (c->parent)
        list_remove(&c->sibling);
    c->parent = NULL;
    if (o->type == CAP_TYPE_REPLY) {
        struct thread *caller = c->caller;
        if (caller) { // dropped unanswered: the caller hears it
            caller->ipc.reply_cap = NULL;
            ipc_wake(caller, -EPIPE);
        }
        c->caller = NULL;
    } else if (o->type == CAP_TYPE_ENDPOINT) {
        struct endpoint *ep = (struct endpoint *)o;
        endpoint_slot_closing(ep, c);
        if (c->rights & CAP_RECV)
            endpoint_receiver_closed(ep);
    } else if (o->type == CAP_TYPE_MEMORY) {
        cap_memory_unmap(c);
    } else if (o->type == CAP_TYPE_IRQ || o->type == CAP_TYPE_LOG) {
        boot_object_slot_closing(o, c);
    }
    cap_slot_free(c);
    if (o->type == CAP_TYPE_IOPORT)
        cap_ioports_changed(c->table->owner);
    if (o != &s_reply_object)
        kobject_put(o);
}

uint32_t
cap_revoke(struct cap *c)
{
    uint32_t closed = 0;
    while (!list_empty(&c->children)) {
        // Close a leaf: the first child's first child's ..., so nothing moves.
        struct cap *d = list_entry(c->children.next, struct cap, sibling);
        while (!list_empty(&d->children))
            d = list_entry(d->children.next, struct cap, sibling);
        cap_close(d);
        closed++;
    }
    return closed;
}

void
cap_transfer_record(struct cap_transfer *t, struct cap *c)
{
    t->src = c;
    t->gen = c->gen;
}

bool
cap_transfer_valid(const struct cap_transfer *t)
{
    return t->src->obj && t->src->gen == t->gen;
}

uint32_t
cap_handles_open(void)
{
    return s_handles_open;
}
