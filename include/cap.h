/* Capabilities (kernel/cap/): handle tables, the objects handles name, and
 * the endpoints IPC runs on.
 *
 * A process's handle table is a fixed array of CAPS_PER_PROCESS slots.  A
 * handle is (generation << CAP_INDEX_BITS) | (slot + 1): the slot gives
 * O(1) lookup, and the slot's generation, bumped at every close, makes a
 * closed handle's number dead for good (a slot whose generation would wrap
 * is retired instead of reused).  Each slot records the slot it was derived
 * from (SYS_CAP_DUP, a copy passed at spawn or in a message), so
 * SYS_CAP_REVOKE can close everything that came from a handle; closing a
 * slot hands its derived slots to its own parent, so a revoke from further
 * up still reaches them.
 *
 * Everything here runs with interrupts off (one CPU: that is the lock).
 */
#ifndef TANDEM_CAP_H
#define TANDEM_CAP_H

#include <stdbool.h>
#include <stdint.h>
#include "kobject.h"
#include "lib/list.h"
#include "thread.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

struct process;
struct thread;

#define CAP_INDEX_BITS 8                             // CAPS_PER_PROCESS + 1 slots fit
#define CAP_GEN_LIMIT  (1u << (31 - CAP_INDEX_BITS)) // handles stay positive

struct cap {
    struct kobject *obj; // NULL: the slot is free
    uint32_t rights;     // CAP_*
    uint32_t badge;      // reply slots: unused
    union {
        struct thread *caller; // reply slots: the caller it answers (NULL: the caller died)
        uintptr_t mapped_at;   // memory slots: where SYS_MEM_MAP mapped it (0: nowhere)
    };
    uint32_t gen;              // bumped at every close
    struct cap_table *table;   // the table it is in
    struct cap *parent;        // derived from (NULL: a root)
    struct list_node children; // slots derived from this one
    struct list_node sibling;  // on parent->children; on the free list while free
};

struct cap_table {
    struct process *owner;
    uint32_t open;         // slots in use
    uint32_t free_count;   // slots on the free list (retired ones are on neither)
    struct list_node free; // free slots, lowest first after creation
    struct cap slots[CAPS_PER_PROCESS];
};

// An endpoint: a rendezvous where senders meet receivers.
struct endpoint {
    struct kobject obj;         // CAP_TYPE_ENDPOINT
    struct list_node senders;   // threads blocked in send or call (ipc.link)
    struct list_node receivers; // threads blocked in receive (ipc.link)
    uint32_t receive_holders;   // open handles with CAP_RECV: at 0, sends get -EPIPE
    uint32_t notify_pending;    // badges of the sources that fired since the last receive
    uint32_t serial;            // SYS_CAP_INFO's base: no two endpoints share it
};

// An event source that can be bound to an endpoint (SYS_NOTIFY_BIND): an
// IRQ line, the kernel log.
struct notify_source {
    struct endpoint *ep; // bound to (holding a reference), or NULL
    uint32_t badge;
    struct cap *bound_by; // the slot that bound it: closing it unbinds
};

// A handle on its way to another table (SYS_SPAWN, a message): the slot,
// and its generation when the sender named it, so a slot closed meanwhile
// is noticed.  Lives in the sender's arena.
struct cap_transfer {
    struct cap *src;
    uint32_t gen;
};

// ---- Tables (kernel/cap/table.c) ---------------------------------------------

// Gives p an empty table; -ENOMEM.
int cap_table_create(struct process *p);
// Closes every handle of p's table and frees it.
void cap_table_destroy(struct process *p);
// Free slots in p's table.
uint32_t cap_table_room(const struct process *p);
// The handle naming slot c.
int32_t cap_handle(const struct cap *c);
// Looks up handle h of p: -EBADF unless it is open and names an object of
// type (0: any type), -EPERM unless it has every right in `rights`.
// Inline: every system call on a handle starts here, and its type and
// rights are constants at each call.
static inline int
cap_lookup(struct process *p, int32_t h, uint32_t type, uint32_t rights, struct cap **out)
{
    uint32_t u = (uint32_t)h;
    uint32_t index = (u & ((1u << CAP_INDEX_BITS) - 1)) - 1; // 0 wraps: refused below
    if (h <= 0 || index >= CAPS_PER_PROCESS || !p->caps)
        return -EBADF;
    struct cap *c = &p->caps->slots[index];
    if (!c->obj || c->gen != u >> CAP_INDEX_BITS || (type && c->obj->type != type))
        return -EBADF;
    if ((c->rights & rights) != rights)
        return -EPERM;
    *out = c;
    return 0;
}
// Puts obj into a free slot of p with rights and badge, derived from parent
// (NULL: a root), taking a reference on obj (none for reply slots); the new
// handle, or -EMFILE.
int32_t cap_install(struct process *p, struct kobject *obj, uint32_t rights, uint32_t badge,
                    struct cap *parent);
// Copies slot src into p (same object, rights and badge), derived from src.
int32_t cap_copy(struct process *p, struct cap *src);
// A reply slot in p answering caller's call (the caller's ipc.reply_cap
// points back to it); the handle, or -EMFILE.
int32_t cap_install_reply(struct process *p, struct thread *caller);
// Closes slot c: ends waits through it, drops its object's reference.
void cap_close(struct cap *c);
// Closes reply slot c once its call is answered (its caller already
// cleared): cap_close's work without the cases that cannot arise.
void cap_close_answered(struct cap *c);
// Closes every slot derived from c, at any depth; returns how many.
uint32_t cap_revoke(struct cap *c);
// Records where handle c is now, for a transfer; validates one later.
void cap_transfer_record(struct cap_transfer *t, struct cap *c);
bool cap_transfer_valid(const struct cap_transfer *t);
// Open handles in every table.
uint32_t cap_handles_open(void);

// ---- Objects (kernel/cap/object.c) -------------------------------------------

// Drops a reference; the last frees the object through its subsystem.
void kobject_put(struct kobject *o);
// Kernel objects alive that handles may name (sysinfo.objects).
uint32_t kobject_count(void);
// Installs the capability layer's hooks (a process's end closes its
// handles).  Before the first process starts.
void cap_init(void);
// process_spawn setups: the first process's (every module and device) and
// a child's (the transfers of a SYS_SPAWN, arg: struct cap_spawn_args).
int cap_setup_first(struct process *p, void *unused);
struct cap_spawn_args {
    const struct cap_transfer *handles;
    uint32_t count;
};
int cap_setup_child(struct process *p, void *args);

// ---- Endpoints (kernel/cap/endpoint.c) ---------------------------------------

struct endpoint *endpoint_create(void);
void endpoint_destroy(struct endpoint *ep);
uint32_t endpoint_count(void);
// A slot with CAP_RECV to ep opened or closed; the last close fails every
// waiting sender with -EPIPE.
void endpoint_receiver_opened(struct endpoint *ep);
void endpoint_receiver_closed(struct endpoint *ep);
// Slot c (naming ep) is closing: every thread waiting on ep through it
// returns -EBADF.
void endpoint_slot_closing(struct endpoint *ep, struct cap *c);
// Ends thread t's IPC wait with result and wakes it.
void ipc_wake(struct thread *t, int32_t result);
// The same without the wake-up, for a caller that runs t at once
// (thread_block_run).
static inline void
ipc_wait_end(struct thread *t, int32_t result)
{
    if (t->ipc.phase == IPC_SENDING || t->ipc.phase == IPC_RECEIVING)
        list_remove(&t->ipc.link);
    t->ipc.ep = NULL;
    t->ipc.via = NULL;
    t->ipc.result = result;
    t->ipc.phase = IPC_IDLE;
}

// What IPC does when a source fires: ORs badge into ep's pending
// notifications and hands them to a waiting receiver (kernel/syscall/ipc.c
// installs it).  Runs in interrupts too.
void endpoint_set_notify_hook(void (*fn)(struct endpoint *ep, uint32_t badge));
void notify_fire(struct notify_source *src);

// ---- Boot objects (kernel/cap/boot_objects.c) --------------------------------

// Describes a static object (a module or a device) for SYS_CAP_INFO.
struct cap_info;
bool boot_object_info(const struct kobject *o, struct cap_info *out);
// The boot module a CAP_TYPE_MODULE object stands for.
unsigned boot_module_index(const struct kobject *o);
// Binds the source of o (an IRQ line or the log) to ep with badge, or with
// ep NULL unbinds it; by is the slot asking.  -EBUSY if another slot bound it.
int boot_object_bind(struct kobject *o, struct cap *by, struct endpoint *ep, uint32_t badge);
// SYS_IRQ_ACK: unmasks the line of IRQ object o if it waits for that.
void boot_object_irq_ack(struct kobject *o);
// SYS_MEM_MAP's range, and SYS_CONSOLE_TAKE's record, for object o.
void boot_object_range(const struct kobject *o, uint32_t *base, uint32_t *size);
void boot_object_take_console(struct kobject *o, struct cap *by);
// Installs the log's tick (its notifications).  At init.
void boot_objects_init(void);
// Slot c, naming boot object o, is closing: what it bound or took ends.
void boot_object_slot_closing(struct kobject *o, struct cap *c);
// Device memory (kernel/cap/memory.c): maps memory slot c's range at
// vaddr in its process (SYS_MEM_MAP), and takes it away again (when c closes).
int cap_memory_map(struct cap *c, uintptr_t vaddr);
void cap_memory_unmap(struct cap *c);
// Recomputes p's I/O bitmap from its open I/O port handles with CAP_USE
// (kernel/cap/ioport.c); reloads it at once if p is running.
void cap_ioports_changed(struct process *p);

#endif
