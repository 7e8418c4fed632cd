// Synchronous IPC on endpoints: send, receive, call, reply, and the
// reply-and-receive a server loops on.
//
// A message is two words in registers plus an optional payload of up to
// IPC_BUF_MAX bytes and an optional handle.  The sender first copies its
// payload into a bounce buffer in its own scratch arena, and records the
// handle it passes on (a struct cap_transfer) there too: its block stays put
// while it waits, so both live exactly as long as the rendezvous needs them,
// and they die at the sender's next return to user mode with no free.
// Whoever completes the rendezvous moves the message into the receiver: the
// receiver itself (copy_to_user) when it finds a queued sender, or the
// sender (through the receiver's page tables) when the receiver was already
// waiting.  A call delivered gives the receiver a reply handle (kernel/cap/
// table.c), the one right to answer it.  Replies never block the replier.
#include "cap.h"
#include "compiler.h"
#include "ipc.h"
#include "ipc_deliver.h"
#include "ipc_internal.h"
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

int
ipc_buf_read(uintptr_t uptr, struct ipc_buf *b)
{
    if (uptr == 0) {
        *b = (struct ipc_buf){ 0 };
        return 0;
    }
    return copy_from_user(b, uptr, sizeof(*b));
}

// Sender side: the payload into a bounce buffer in the caller's arena,
// and the handle it passes on, if any, checked and recorded there.  ep is
// the endpoint's handle (NULL for a reply, which needs no right to carry
// a handle).
static int
ipc_take_message(uintptr_t ubuf, const struct cap *ep, struct ipc_state *st)
{
    struct ipc_buf b;
    int err = ipc_buf_read(ubuf, &b);
    if (err)
        return err;
    if (b.len > IPC_BUF_MAX)
        return -EMSGSIZE;
    st->len = b.len;
    st->payload = NULL;
    st->grant = NULL;
    if (b.handle != 0) {
        struct cap *c;
        if ((err = cap_lookup(g_current->proc, b.handle, 0, CAP_GRANT, &c)) != 0)
            return err;
        if (ep && !(ep->rights & CAP_GRANT))
            return -EPERM;
        if (!(st->grant = kfastmalloc(sizeof(*st->grant))))
            return -ENOMEM;
        cap_transfer_record(st->grant, c);
    }
    if (b.len == 0)
        return 0;
    void *bounce = kfastmalloc(b.len);
    if (!bounce)
        return -ENOMEM;
    err = copy_from_user(bounce, (uintptr_t)b.data, b.len);
    st->payload = bounce;
    return err;
}

int
ipc_take_read_buffer(uintptr_t ubuf, const struct ipc_buf *b, struct ipc_state *st)
{
    struct addrspace *as = g_current->proc->as;
    struct ipc_checked *c = &st->checked;
    uintptr_t data = (uintptr_t)b->data;
    uint32_t size = b->size < IPC_BUF_MAX ? b->size : IPC_BUF_MAX;
    if (ubuf != c->meta || data != c->data || size != c->size || as->unmaps != c->unmaps) {
        // Recorded only once everything passed: a half-made check must
        // not stand for the buffers it did not finish with.
        struct user_span meta = { { NULL, NULL }, 0 };
        int err;
        if (ubuf && ((err = user_buffer_check(ubuf, sizeof(*b), true)) != 0 ||
                     (err = span_resolve(as, ubuf, sizeof(*b), &meta)) != 0))
            return err;
        struct user_span bytes;
        if (size && ((err = user_buffer_check(data, size, true)) != 0 ||
                     (err = span_resolve(as, data, size, &bytes)) != 0))
            return err;
        *c = (struct ipc_checked){ ubuf, data, size, as->unmaps, meta };
    }
    st->ubuf = data;
    st->size = size;
    st->ubuf_meta = ubuf;
    return 0;
}

// Receiver side: ipc_take_read_buffer of the struct ipc_buf at ubuf.
static int
ipc_take_buffer(uintptr_t ubuf, struct ipc_state *st)
{
    struct ipc_buf b;
    int err = ipc_buf_read(ubuf, &b);
    return err ? err : ipc_take_read_buffer(ubuf, &b, st);
}

// Whether a failed delivery is the sender's alone (its message is too big,
// or the handle it passes was closed meanwhile): then the receiver goes on
// waiting.  Any other failure lies with the receiver, and both hear it.
static bool
ipc_sender_fault(int err)
{
    return err == -EMSGSIZE || err == -EBADF;
}

// A thread's message (its ipc state) into receiver.
static int
ipc_deliver(struct thread *sender, struct thread *receiver, uint32_t badge)
{
    return ipc_deliver_state(&sender->ipc, sender, receiver, badge);
}

// The pending notifications of ep, as one message, into receiver; they
// stay pending if it cannot take them.
static int
ipc_deliver_notification(struct endpoint *ep, struct thread *receiver)
{
    static const struct ipc_state notification = { .w0 = IPC_NOTIFICATION };
    int err = ipc_deliver_state(&notification, NULL, receiver, ep->notify_pending);
    if (!err)
        ep->notify_pending = 0;
    return err;
}

// The notify hook (kernel/cap/): a source bound to ep fired.  A waiting
// receiver takes the notifications at once; one whose buffer went bad
// hears -EFAULT, and the next is tried.
static void
endpoint_notify(struct endpoint *ep, uint32_t badge)
{
    ep->notify_pending |= badge;
    while (!list_empty(&ep->receivers)) {
        struct thread *t = list_entry(ep->receivers.next, struct thread, ipc.link);
        int err = ipc_deliver_notification(ep, t);
        ipc_wake(t, err);
        if (!err)
            return;
    }
}

int32_t
ipc_wait(enum ipc_phase phase, const char *reason, struct thread *next)
{
    struct ipc_state *st = &g_current->ipc;
    st->phase = phase;
    st->result = -EINTR;
    while (st->phase != IPC_IDLE) {
        bool alive = next ? thread_block_run(next, reason) : thread_block(reason);
        next = NULL;
        if (!alive) {
            if (st->phase == IPC_SENDING || st->phase == IPC_RECEIVING)
                list_remove(&st->link);
            if (st->reply_cap) { // a reply now would find nobody
                st->reply_cap->caller = NULL;
                st->reply_cap = NULL;
            }
            st->phase = IPC_IDLE;
            return -EINTR;
        }
    }
    return st->result;
}

void
ipc_return_message(struct trap_frame *f, bool receive)
{
    struct ipc_state *st = &g_current->ipc;
    f->ebx = st->w0;
    f->esi = st->w1;
    if (receive)
        f->edi = (uint32_t)st->reply_handle;
}

// The send half of send and call.
static int32_t
ipc_send_common(struct trap_frame *f, bool call)
{
    struct thread *self = g_current;
    struct ipc_state *st = &self->ipc;
    struct cap *via;
    int err = cap_lookup(self->proc, (int32_t)f->ebx, CAP_TYPE_ENDPOINT, CAP_SEND, &via);
    if (err)
        return err;
    struct endpoint *ep = (struct endpoint *)via->obj;
    if (ep->receive_holders == 0)
        return -EPIPE;
    st->w0 = f->ecx;
    st->w1 = f->edx;
    st->call = call;
    if ((err = ipc_take_message(f->esi, via, st)) != 0)
        return err;
    if (call && (err = ipc_take_buffer(f->esi, st)) != 0)
        return err;
    if (!list_empty(&ep->receivers)) {
        struct thread *dest = list_entry(ep->receivers.next, struct thread, ipc.link);
        if ((err = ipc_deliver(self, dest, via->badge)) != 0) {
            if (!ipc_sender_fault(err))
                ipc_wake(dest, err); // its memory or table changed under it: both are told
            return err;
        }
        ipc_wake(dest, 0);
        return call ? ipc_wait(IPC_AWAITING_REPLY, IPC_REASON_REPLY, NULL) : 0;
    }
    st->ep = ep;
    st->via = via;
    list_push_back(&ep->senders, &st->link);
    return ipc_wait(IPC_SENDING,
                    call ? "ipc: calling, waiting for a receiver"
                         : "ipc: sending, waiting for a receiver",
                    NULL);
}

int32_t
sys_ipc_send(struct trap_frame *f)
{
    return ipc_send_common(f, false);
}

int32_t
sys_ipc_call_general(struct trap_frame *f)
{
    int32_t r = ipc_send_common(f, true);
    if (r == 0)
        ipc_return_message(f, false);
    return r;
}

// Receives on the endpoint handle h into the buffer at ubuf; the badge.
static int32_t
ipc_receive(struct trap_frame *f, int32_t h, uintptr_t ubuf)
{
    struct thread *self = g_current;
    struct ipc_state *st = &self->ipc;
    struct cap *via;
    int err = cap_lookup(self->proc, h, CAP_TYPE_ENDPOINT, CAP_RECV, &via);
    if (err)
        return err;
    struct endpoint *ep = (struct endpoint *)via->obj;
    if ((err = ipc_take_buffer(ubuf, st)) != 0)
        return err;
    // Notifications first: an interrupt must not wait behind clients.
    if (ep->notify_pending) {
        if ((err = ipc_deliver_notification(ep, self)) != 0)
            return err;
        ipc_return_message(f, true);
        return (int32_t)st->badge;
    }
    // A sender already waiting?  Take the first whose message can be delivered.
    for (struct list_node *n = ep->senders.next, *next; n != &ep->senders; n = next) {
        next = n->next;
        struct thread *s = list_entry(n, struct thread, ipc.link);
        err = ipc_deliver(s, self, s->ipc.via->badge);
        if (ipc_sender_fault(err)) {
            ipc_wake(s, err); // the sender hears it; we try the next
            continue;
        }
        if (err)
            return err; // ours: the sender stays queued
        if (s->ipc.call) {
            list_remove(&s->ipc.link); // still blocked, now on our reply
            s->ipc.phase = IPC_AWAITING_REPLY;
            s->ipc.ep = NULL;
            s->ipc.via = NULL;
        } else {
            ipc_wake(s, 0);
        }
        ipc_return_message(f, true);
        return (int32_t)st->badge;
    }
    st->ep = ep;
    st->via = via;
    list_push_back(&ep->receivers, &st->link);
    if ((err = ipc_wait(IPC_RECEIVING, IPC_REASON_RECEIVE, NULL)) != 0)
        return err;
    ipc_return_message(f, true);
    return (int32_t)st->badge;
}

int32_t
sys_ipc_recv(struct trap_frame *f)
{
    return ipc_receive(f, (int32_t)f->ebx, f->esi);
}

void
ipc_reply_close(struct cap *reply)
{
    reply->caller->ipc.reply_cap = NULL;
    reply->caller = NULL; // answered (or told why not): no -EPIPE on close
    cap_close_answered(reply);
}

// Answers the call that reply handle h stands for, with words w0, w1 and
// the message at ubuf.
static int32_t
ipc_answer(int32_t h, uint32_t w0, uint32_t w1, uintptr_t ubuf)
{
    struct thread *self = g_current;
    struct cap *reply;
    int err = cap_lookup(self->proc, h, CAP_TYPE_REPLY, 0, &reply);
    if (err)
        return err;
    struct thread *caller = reply->caller;
    if (!caller) { // the caller died: nothing to answer
        cap_close(reply);
        return -EPIPE;
    }
    struct ipc_state *st = &self->ipc;
    st->w0 = w0;
    st->w1 = w1;
    st->call = false;
    if ((err = ipc_take_message(ubuf, NULL, st)) != 0)
        return err;
    err = ipc_deliver(self, caller, 0);
    if (ipc_sender_fault(err))
        return err; // ours to mend: the call stays open
    ipc_reply_close(reply);
    ipc_wake(caller, err);
    return err;
}

int32_t
sys_ipc_reply(struct trap_frame *f)
{
    return ipc_answer((int32_t)f->ebx, f->ecx, f->edx, f->esi);
}

NO_TAIL_CALLS int32_t
sys_ipc_reply_recv_general(struct trap_frame *f)
{
    if (f->ebx != 0) {
        int32_t err = ipc_answer((int32_t)f->ebx, f->ecx, f->edx, f->esi);
        if (err != 0 && err != -EPIPE)
            return err;
    }
    return ipc_receive(f, (int32_t)f->edi, f->esi);
}

// The thread-exit hook: a dying thread leaves its endpoint's queue, and a
// reply owed to it will find nobody.
static void
ipc_thread_exit(struct thread *t)
{
    struct ipc_state *st = &t->ipc;
    if (st->phase == IPC_SENDING || st->phase == IPC_RECEIVING)
        list_remove(&st->link);
    if (st->reply_cap) {
        st->reply_cap->caller = NULL;
        st->reply_cap = NULL;
    }
    st->phase = IPC_IDLE;
}

static struct thread_exit_hook s_exit_hook = { .fn = ipc_thread_exit };

void
ipc_init(void)
{
    thread_exit_hook_add(&s_exit_hook);
    endpoint_set_notify_hook(endpoint_notify);
}
