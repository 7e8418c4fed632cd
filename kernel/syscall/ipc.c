// Synchronous IPC: send, recv, call, reply.
//
// A message is two words in registers plus an optional payload of up to
// IPC_BUF_MAX bytes.  The sender first copies its payload into a bounce
// buffer in its own scratch arena: its block stays put while it waits, so the
// buffer lives exactly as long as the rendezvous needs it, and it dies at
// the sender's next return to user mode with no free.  Whoever completes the
// rendezvous moves the bytes into the receiver's address space: the
// receiver itself (copy_to_user) when it finds a queued sender, or the
// sender (through the receiver's page tables) when the receiver was already
// waiting.  Replies never block the replier.
#include "ipc.h"
#include "kfast.h"
#include "lib/string.h"
#include "mm/paging.h"
#include "process.h"
#include "syscall.h"
#include "thread.h"
#include "trap.h"
#include "uaccess.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

// Writes n bytes into another address space's user memory, page by page
// through the direct map.  The range was checked by its owner
// (user_buffer_check) and again just before (ipc_deliver).
static int
copy_to_space(struct addrspace *as, uintptr_t udst, const void *src, uint32_t n)
{
    const uint8_t *s = src;
    while (n > 0) {
        uintptr_t pa;
        uint32_t flags;
        if (!vm_query(as, udst, &pa, &flags) || !(flags & VM_USER) || !(flags & VM_WRITE))
            return -EFAULT;
        uint32_t chunk = PAGE_SIZE - (udst & (PAGE_SIZE - 1));
        if (chunk > n)
            chunk = n;
        memcpy(P2V(pa), s, chunk);
        s += chunk;
        udst += chunk;
        n -= chunk;
    }
    return 0;
}

// Reads the caller's struct ipc_buf (optional: 0 means none).
static int
ipc_buf_read(uintptr_t uptr, struct ipc_buf *b)
{
    if (uptr == 0) {
        memset(b, 0, sizeof(*b));
        return 0;
    }
    return copy_from_user(b, uptr, sizeof(*b));
}

// Sender side: the payload into a bounce buffer in the caller's arena.
static int
ipc_take_payload(uintptr_t ubuf, struct ipc_state *st)
{
    struct ipc_buf b;
    int err = ipc_buf_read(ubuf, &b);
    if (err)
        return err;
    if (b.len > IPC_BUF_MAX)
        return -EMSGSIZE;
    st->len = b.len;
    st->payload = NULL;
    if (b.len == 0)
        return 0;
    void *bounce = kfastmalloc(b.len);
    if (!bounce)
        return -ENOMEM;
    err = copy_from_user(bounce, (uintptr_t)b.data, b.len);
    st->payload = bounce;
    return err;
}

// Receiver side: where the payload and its length go.  Both the data
// buffer and the struct ipc_buf (whose len receives the length) are checked
// writable now, before any sender can be told its message arrived: another
// thread may fill them while this one sleeps, and a receive must not take a
// message it cannot store.
static int
ipc_take_buffer(uintptr_t ubuf, struct ipc_state *st)
{
    struct ipc_buf b;
    int err = ipc_buf_read(ubuf, &b);
    if (err)
        return err;
    if (ubuf && (err = user_buffer_check(ubuf, sizeof(b), true)) != 0)
        return err;
    st->ubuf = (uintptr_t)b.data;
    st->cap = b.cap < IPC_BUF_MAX ? b.cap : IPC_BUF_MAX;
    st->ubuf_len = ubuf ? ubuf + offsetof(struct ipc_buf, len) : 0;
    return st->cap ? user_buffer_check(st->ubuf, st->cap, true) : 0;
}

// Checks that n bytes at u are writable in t's address space.
static int
receiver_writable(struct thread *t, bool is_current, uintptr_t u, uint32_t n)
{
    return is_current ? user_buffer_check(u, n, true)
                      : user_buffer_check_in(t->proc->as, u, n, true);
}

// Writes n bytes at u in t's address space.
static int
receiver_write(struct thread *t, bool is_current, uintptr_t u, const void *src, uint32_t n)
{
    return is_current ? copy_to_user(u, src, n) : copy_to_space(t->proc->as, u, src, n);
}

// Moves sender's message into receiver (which must accept it): the payload
// and its length together, both checked before either is written, so the
// receiver gets all of it or none of it.
static int
ipc_deliver(struct thread *sender, struct thread *receiver, bool receiver_is_current)
{
    struct ipc_state *s = &sender->ipc, *r = &receiver->ipc;
    if (s->len > r->cap)
        return -EMSGSIZE;
    int err = receiver_writable(receiver, receiver_is_current, r->ubuf, s->len);
    if (!err && r->ubuf_len)
        err = receiver_writable(receiver, receiver_is_current, r->ubuf_len, sizeof(s->len));
    if (!err)
        err = receiver_write(receiver, receiver_is_current, r->ubuf, s->payload, s->len);
    if (!err && r->ubuf_len)
        err = receiver_write(receiver, receiver_is_current, r->ubuf_len, &s->len, sizeof(s->len));
    if (err)
        return err;
    r->w0 = s->w0;
    r->w1 = s->w1;
    r->len = s->len;
    r->from = sender->tid;
    r->result = 0;
    return 0;
}

// The peer thread of a send or call, checked.
static int
ipc_peer(uint32_t tid, struct thread **out)
{
    struct thread *t = thread_find(tid);
    if (!t || !t->proc)
        return -ESRCH;
    if (t == g_current)
        return -EDEADLK;
    *out = t;
    return 0;
}

// Blocks in phase until a peer completes the rendezvous and sets the phase
// back to idle (a call goes from sending to awaiting-reply without waking),
// or the thread is killed, or the peer dies.  Returns the peer's result.
static int32_t
ipc_wait(enum ipc_phase phase, const char *reason)
{
    struct ipc_state *st = &g_current->ipc;
    st->phase = phase;
    st->result = -EINTR;
    while (st->phase != IPC_IDLE) {
        if (!thread_block(reason)) {
            if (st->phase == IPC_SENDING)
                list_remove(&st->link);
            st->phase = IPC_IDLE;
            return -EINTR;
        }
    }
    return st->result;
}

// Ends a peer's wait with result.
static void
ipc_finish(struct thread *t, int32_t result)
{
    t->ipc.result = result;
    t->ipc.phase = IPC_IDLE;
    thread_wake(t);
}

// The send half of send and call.
static int32_t
ipc_send_common(struct trap_frame *f, bool call)
{
    struct thread *self = g_current, *dest;
    struct ipc_state *st = &self->ipc;
    int err = ipc_peer(f->ebx, &dest);
    if (err)
        return err;
    st->w0 = f->ecx;
    st->w1 = f->edx;
    st->call = call;
    if ((err = ipc_take_payload(f->esi, st)) != 0)
        return err;
    if (call && (err = ipc_take_buffer(f->esi, st)) != 0)
        return err;
    st->peer = dest->tid;
    struct ipc_state *d = &dest->ipc;
    if (d->phase == IPC_RECEIVING && (d->peer == IPC_ANY || d->peer == self->tid)) {
        if ((err = ipc_deliver(self, dest, false)) != 0) {
            if (err != -EMSGSIZE)
                ipc_finish(dest, err);  // its memory changed under it: both are told
            return err;
        }
        ipc_finish(dest, 0);
        return call ? ipc_wait(IPC_AWAITING_REPLY, "ipc: waiting for the reply") : 0;
    }
    list_push_back(&d->senders, &st->link);
    return ipc_wait(IPC_SENDING, call ? "ipc: calling, waiting for the receiver"
                                      : "ipc: sending, waiting for the receiver");
}

// Puts the received words into ebx and esi (ipc_deliver wrote the payload
// and its length).
static void
ipc_return_message(struct trap_frame *f)
{
    struct ipc_state *st = &g_current->ipc;
    f->ebx = st->w0;
    f->esi = st->w1;
}

int32_t
sys_ipc_send(struct trap_frame *f)
{
    return ipc_send_common(f, false);
}

int32_t
sys_ipc_call(struct trap_frame *f)
{
    int32_t r = ipc_send_common(f, true);
    if (r == 0)
        ipc_return_message(f);
    return r;
}

int32_t
sys_ipc_recv(struct trap_frame *f)
{
    struct thread *self = g_current;
    struct ipc_state *st = &self->ipc;
    uint32_t from = f->ebx;
    uintptr_t ubuf = f->esi;
    int err;
    if (from != IPC_ANY) {
        struct thread *peer;
        if ((err = ipc_peer(from, &peer)) != 0)
            return err;
    }
    if ((err = ipc_take_buffer(ubuf, st)) != 0)
        return err;
    // A sender already waiting?  Take the first that matches and fits.
    for (struct list_node *n = st->senders.next, *next; n != &st->senders; n = next) {
        next = n->next;
        struct thread *s = list_entry(n, struct thread, ipc.link);
        if (from != IPC_ANY && s->tid != from)
            continue;
        list_remove(&s->ipc.link);
        err = ipc_deliver(s, self, true);
        if (err == -EMSGSIZE) {
            ipc_finish(s, -EMSGSIZE);   // too big for us: the sender hears it
            continue;
        }
        if (err) {
            list_insert_before(next, &s->ipc.link);
            return err;
        }
        if (s->ipc.call)
            s->ipc.phase = IPC_AWAITING_REPLY;      // still blocked, now on our reply
        else
            ipc_finish(s, 0);
        ipc_return_message(f);
        return (int32_t)s->tid;
    }
    st->peer = from;
    if ((err = ipc_wait(IPC_RECEIVING, "ipc: waiting for a sender")) != 0)
        return err;
    ipc_return_message(f);
    return (int32_t)st->from;
}

int32_t
sys_ipc_reply(struct trap_frame *f)
{
    struct thread *self = g_current;
    struct thread *caller = thread_find(f->ebx);
    if (!caller || !caller->proc)
        return -ESRCH;
    if (caller->ipc.phase != IPC_AWAITING_REPLY || caller->ipc.peer != self->tid)
        return -EPERM;
    struct ipc_state *st = &self->ipc;
    st->w0 = f->ecx;
    st->w1 = f->edx;
    int err = ipc_take_payload(f->esi, st);
    if (err)
        return err;
    if ((err = ipc_deliver(self, caller, false)) != 0) {
        if (err != -EMSGSIZE)
            ipc_finish(caller, err);    // its memory changed under it: both are told
        return err;
    }
    ipc_finish(caller, 0);
    return 0;
}

// The thread-exit hook: a dying thread's waiting peers get -ESRCH.
static void
ipc_thread_exit(struct thread *t)
{
    struct ipc_state *st = &t->ipc;
    if (st->phase == IPC_SENDING)
        list_remove(&st->link);
    st->phase = IPC_IDLE;
    struct list_node *n;
    while ((n = list_pop_front(&st->senders)) != NULL)
        ipc_finish(list_entry(n, struct thread, ipc.link), -ESRCH);
    // Whoever waits on t specifically - its reply, or a message from it - is told.
    struct thread *w;
    thread_for_each(w) {
        if (w->ipc.peer == t->tid &&
            (w->ipc.phase == IPC_AWAITING_REPLY || w->ipc.phase == IPC_RECEIVING))
            ipc_finish(w, -ESRCH);
    }
}

static struct thread_exit_hook s_exit_hook = { .fn = ipc_thread_exit };

void
ipc_init(void)
{
    thread_exit_hook_add(&s_exit_hook);
}
