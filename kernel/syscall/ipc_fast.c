// IPC's fast path: a call, and a server's reply-and-receive, whose message
// is two words and nothing else, when the partner already waits for it.
// SYS_IPC_CALL and SYS_IPC_REPLY_RECV start here and hand everything else
// to the general path (sys_ipc_call_general, sys_ipc_reply_recv_general).
//
// The general path (kernel/syscall/ipc.c) reads and checks a struct
// ipc_buf on each side, copies payloads through a bounce buffer, and wakes
// the partner onto the run queue while the caller blocks and the scheduler
// picks whoever is first there.  Here a call names no struct ipc_buf, a
// reply names one with nothing in it, and the message goes straight into
// the waiting partner, which runs next, on the rest of the caller's time
// slice (thread_block_run): the round trip of a client and a server never
// touches the run queue.
//
// Every rule stays the general path's, because every decision is its own:
// the same lookups (rights, types, generations), the same delivery
// (ipc_deliver_state: the badge, the reply handle and the receiver's
// struct ipc_buf, all or nothing), the same waits.  Whatever could go
// otherwise - a missing partner, a queued sender or notification, any
// error - is left to the general path before anything is changed, so it
// alone says what happens then.
#include "cap.h"
#include "ipc.h"
#include "ipc_deliver.h"
#include "ipc_internal.h"
#include "process.h"
#include "syscall.h"
#include "thread.h"
#include "trap.h"

static uint32_t s_fast_messages;

uint32_t
ipc_fast_count(void)
{
    return s_fast_messages;
}

// st as the general path leaves it for a message of w0 and w1 alone (no
// struct ipc_buf: no payload, no handle, and no room for a reply's).
static void
ipc_words_only(struct ipc_state *st, uint32_t w0, uint32_t w1, bool call)
{
    st->w0 = w0;
    st->w1 = w1;
    st->call = call;
    st->len = 0;
    st->payload = NULL;
    st->grant = NULL;
    st->ubuf = 0;
    st->size = 0;
    st->ubuf_meta = 0;
}

// The first receiver waiting on ep, if it is blocked there (one killed
// meanwhile is runnable, and goes the general way).
static struct thread *
ipc_waiting_receiver(struct endpoint *ep)
{
    if (list_empty(&ep->receivers))
        return NULL;
    struct thread *t = list_entry(ep->receivers.next, struct thread, ipc.link);
    return t->state == THREAD_BLOCKED ? t : NULL;
}

int32_t
sys_ipc_call(struct trap_frame *f)
{
    struct thread *self = g_current;
    struct cap *via;
    if (f->esi != 0 ||
        cap_lookup(self->proc, (int32_t)f->ebx, CAP_TYPE_ENDPOINT, CAP_SEND, &via) != 0)
        return sys_ipc_call_general(f);
    struct thread *dest = ipc_waiting_receiver((struct endpoint *)via->obj);
    if (!dest)
        return sys_ipc_call_general(f);
    ipc_words_only(&self->ipc, f->ecx, f->edx, true);
    if (ipc_deliver_state(&self->ipc, self, dest, via->badge) != 0)
        return sys_ipc_call_general(f);
    s_fast_messages++;
    ipc_wait_end(dest, 0);
    int32_t r = ipc_wait(IPC_AWAITING_REPLY, IPC_REASON_REPLY, dest);
    if (r == 0)
        ipc_return_message(f, false);
    return r;
}

int32_t
sys_ipc_reply_recv(struct trap_frame *f)
{
    struct thread *self = g_current;
    struct ipc_state *st = &self->ipc;
    struct cap *reply, *via;
    struct ipc_buf b;
    if (f->ebx == 0 || cap_lookup(self->proc, (int32_t)f->ebx, CAP_TYPE_REPLY, 0, &reply) != 0 ||
        cap_lookup(self->proc, (int32_t)f->edi, CAP_TYPE_ENDPOINT, CAP_RECV, &via) != 0)
        return sys_ipc_reply_recv_general(f);
    struct thread *caller = reply->caller;
    struct endpoint *ep = (struct endpoint *)via->obj;
    // The receive must block (nothing pending) for the caller to run next.
    if (!caller || caller->state != THREAD_BLOCKED || ep->notify_pending ||
        !list_empty(&ep->senders))
        return sys_ipc_reply_recv_general(f);
    if (ipc_buf_read(f->esi, &b) != 0 || b.len != 0 || b.handle != 0 ||
        ipc_take_read_buffer(f->esi, &b, st) != 0)
        return sys_ipc_reply_recv_general(f);
    // The receive's buffer is now st's: the answer carries only words.
    struct ipc_state answer;
    ipc_words_only(&answer, f->ecx, f->edx, false);
    if (ipc_deliver_state(&answer, self, caller, 0) != 0)
        return sys_ipc_reply_recv_general(f);
    s_fast_messages++;
    ipc_reply_close(reply);
    ipc_wait_end(caller, 0);
    st->ep = ep;
    st->via = via;
    list_push_back(&ep->receivers, &st->link);
    int32_t r = ipc_wait(IPC_RECEIVING, IPC_REASON_RECEIVE, caller);
    if (r != 0)
        return r;
    ipc_return_message(f, true);
    return (int32_t)st->badge;
}
