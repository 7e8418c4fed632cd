/* The general IPC path's pieces (kernel/syscall/ipc.c) that its fast path
 * (kernel/syscall/ipc_fast.c) shares, so both deliver, wait and return a
 * message the same way. */
#ifndef TANDEM_SYSCALL_IPC_INTERNAL_H
#define TANDEM_SYSCALL_IPC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "thread.h"
#include "trap.h"
#include "uapi/syscall.h"

#define IPC_REASON_REPLY   "ipc: waiting for the reply"
#define IPC_REASON_RECEIVE "ipc: waiting for a sender"

struct cap;

// Reads the caller's struct ipc_buf (optional: ubuf 0 means none, all zero).
int ipc_buf_read(uintptr_t ubuf, struct ipc_buf *b);
// Receiver side: where the payload, its length and the handle received go,
// from b, the struct ipc_buf read from ubuf.  The data buffer and the
// struct are both checked writable now, before any sender can be told its
// message arrived: another thread may unmap them while this one sleeps, and
// a receive must not take a message it cannot store.
int ipc_take_read_buffer(uintptr_t ubuf, const struct ipc_buf *b, struct ipc_state *st);
// Blocks in phase until a peer completes the rendezvous and sets the phase
// back to idle (a call goes from sending to awaiting-reply without waking),
// or the thread is killed, or its wait is ended (ipc_wake).  Returns the
// result the peer set.  next (or NULL): a thread whose wait the caller has
// just ended without waking it, to run now instead of the run queue's first.
int32_t ipc_wait(enum ipc_phase phase, const char *reason, struct thread *next);
// Puts the received words into ebx and esi and, for a receive, the reply
// handle into edi (ipc_deliver wrote the payload, its length and the
// handle received).  A call's edi is the caller's, untouched.
void ipc_return_message(struct trap_frame *f, bool receive);
// Closes a reply handle whose call was answered (or told why not).
void ipc_reply_close(struct cap *reply);

// The general path of SYS_IPC_CALL and SYS_IPC_REPLY_RECV: their system
// calls (kernel/syscall/ipc_fast.c) try the fast path first and hand it
// everything else, with nothing changed that a user could see.
int32_t sys_ipc_call_general(struct trap_frame *f);
int32_t sys_ipc_reply_recv_general(struct trap_frame *f);

#endif
