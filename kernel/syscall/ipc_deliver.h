/* Delivery: how a message reaches a waiting receiver's memory and table,
 * for both IPC paths (kernel/syscall/ipc.c, kernel/syscall/ipc_fast.c).
 * Inline, so that each caller gets a copy fitted to what it delivers: the
 * fast path's messages have no payload and no handle, and most of the
 * checks fold away there. */
#ifndef TANDEM_SYSCALL_IPC_DELIVER_H
#define TANDEM_SYSCALL_IPC_DELIVER_H

#include <stddef.h>
#include "cap.h"
#include "compiler.h"
#include "lib/string.h"
#include "mm/paging.h"
#include "process.h"
#include "thread.h"
#include "uaccess.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

// A writable user page, reached through the direct map.  Only RAM is
// there: device memory a process mapped (SYS_MEM_MAP) may lie anywhere in
// the physical space, past the direct map's end, so a buffer in it is
// refused as one the kernel cannot write.
static inline int
span_page(struct addrspace *as, uintptr_t u, uint8_t **out)
{
    uintptr_t pa;
    uint32_t flags;
    if (!vm_query(as, u, &pa, &flags) || !(flags & VM_USER) || !(flags & VM_WRITE) ||
        (flags & PTE_DEVICE))
        return -EFAULT;
    *out = P2V(pa);
    return 0;
}

static inline int
span_resolve(struct addrspace *as, uintptr_t u, uint32_t n, struct user_span *sp)
{
    _Static_assert(IPC_BUF_MAX <= PAGE_SIZE, "a payload spans at most two pages");
    if (n == 0)
        return 0;
    if (!user_range_ok(u, n))
        return -EFAULT;
    uint32_t in_page = PAGE_SIZE - (u & (PAGE_SIZE - 1));
    sp->first = n < in_page ? n : in_page;
    int err = span_page(as, u, &sp->piece[0]);
    if (!err && sp->first < n)
        err = span_page(as, u + sp->first, &sp->piece[1]);
    return err;
}

// Writes n bytes at offset off of a resolved span.
static inline void
span_write(const struct user_span *sp, uint32_t off, const void *src, uint32_t n)
{
    const uint8_t *s = src;
    if (off < sp->first) {
        uint32_t here = sp->first - off < n ? sp->first - off : n;
        memcpy(sp->piece[0] + off, s, here);
        s += here;
        off += here;
        n -= here;
    }
    if (n)
        memcpy(sp->piece[1] + (off - sp->first), s, n);
}

// The same for one word, the common case (a length, a handle): a store.
static inline void
span_write32(const struct user_span *sp, uint32_t off, uint32_t v)
{
    // Packed: the receiver's struct may sit at any address.
    struct unaligned {
        uint32_t v;
    } PACKED;
    if (off + sizeof(v) <= sp->first)
        ((struct unaligned *)(sp->piece[0] + off))->v = v;
    else
        span_write(sp, off, &v, sizeof(v));
}

// Moves message s of sender into receiver, which waits for it: payload,
// length and handle together, all checked before any is written, so the
// receiver gets all of it or none of it (an error, and nothing changed).
// badge: of the sender's handle.  The receiver's wait is not ended.
static FORCE_INLINE int
ipc_deliver_state(const struct ipc_state *s, struct thread *sender, struct thread *receiver,
                  uint32_t badge)
{
    struct ipc_state *r = &receiver->ipc;
    struct process *rp = receiver->proc;
    if (s->len > r->size || (s->grant && !r->ubuf_meta))
        return -EMSGSIZE; // no room for the bytes, or nowhere to say the handle
    if (s->grant && !cap_transfer_valid(s->grant))
        return -EBADF;
    if (cap_table_room(rp) < (s->grant ? 1u : 0u) + (s->call ? 1u : 0u))
        return -EMFILE;
    // Where everything goes, checked before anything is written.  The
    // receiver's own stack pages were grown when it named its buffer.
    // While nothing was unmapped since the receiver's check, its struct
    // ipc_buf is where that check found it.
    struct user_span data = { { NULL, NULL }, 0 }, meta = r->checked.meta_span;
    int err = s->len ? span_resolve(rp->as, r->ubuf, s->len, &data) : 0;
    if (!err && r->ubuf_meta && rp->as->unmaps != r->checked.unmaps)
        err = span_resolve(rp->as, r->ubuf_meta, sizeof(struct ipc_buf), &meta);
    if (err)
        return err;
    if (s->len)
        span_write(&data, 0, s->payload, s->len);
    if (r->ubuf_meta) {
        int32_t handle = s->grant ? cap_copy(rp, s->grant->src) : 0;
        span_write32(&meta, offsetof(struct ipc_buf, len), s->len);
        span_write32(&meta, offsetof(struct ipc_buf, handle), (uint32_t)handle);
    }
    r->reply_handle = s->call ? cap_install_reply(rp, sender) : 0;
    r->w0 = s->w0;
    r->w1 = s->w1;
    r->len = s->len;
    r->badge = badge;
    r->result = 0;
    return 0;
}

#endif
