/* The protocol between user/test_isolation.c and its partners,
 * user/iso_child.c and user/iso_attacker.c, and the parent's half of it
 * (header-only, static: test_isolation and iso_child, which starts
 * iso_childs of its own, both use it).
 *
 * A partner starts with handle 1: a CAP_SEND | CAP_GRANT duplicate of an
 * endpoint its parent made for it alone and receives on; and, where the
 * command spawns, handle 2: iso_child's module.  It holds no CAP_RECV on
 * the endpoint, so every exchange is a call from the child, and a parent
 * that dies ends the child's waiting call with -EPIPE (the reply handle,
 * or the last CAP_RECV handle, goes with the parent): no child is left
 * waiting for a parent that is gone.
 *
 *   1. The child calls with w0 = ISO_HELLO.  The reply's w0 is the command
 *      (ISO_*), its payload the command's data (ISO_ATTACK: struct
 *      iso_names).
 *   2. Whatever the command says (user/iso_child.c, user/iso_attacker.c).
 */
#ifndef TANDEM_USER_ISO_CHILD_H
#define TANDEM_USER_ISO_CHILD_H

#include "lib/string.h"
#include "tandem.h"

// Commands: the reply to ISO_HELLO.
#define ISO_HOLD       1
#define ISO_WAIT_KILL  2
#define ISO_SPAWN_MAX  3
#define ISO_THREAD_MAX 4
#define ISO_VICTIM     5
#define ISO_ATTACK     6

// What a child's calls carry in w0.
#define ISO_HELLO  0x150
#define ISO_HELD   0x151 // ISO_HOLD's second call, answered when the parent lets go
#define ISO_READY  0x152 // ISO_VICTIM is set up: payload struct iso_names
#define ISO_RESULT 0x153 // ISO_VICTIM's verdict: w1 = failures, payload = the first
#define ISO_GO     0x154 // the parent's answer that lets a child go on

#define ISO_EXIT_CODE   7   // ISO_WAIT_KILL's sys_exit code
#define ISO_EXIT_BAD    99  // an unknown command, or a handle missing
#define ISO_SPAWN_LIMIT 256 // ISO_SPAWN_MAX stops here even if never refused
#define ISO_NOTE_MAX    120 // ISO_RESULT's payload

#define ISO_ENDPOINT 1 // the child's handles
#define ISO_MODULE   2

// What the victim (ISO_VICTIM) holds, as the attacker (ISO_ATTACK) is
// told it: the victim's handle numbers are the attacker's best guesses.
#define ISO_NAMES_HANDLES 32
#define ISO_NAMES_TIDS    8
struct iso_names {
    unsigned pid; // the victim's process id (filled in by the parent)
    unsigned tid_count;
    unsigned tids[ISO_NAMES_TIDS];
    unsigned handle_count;
    int handles[ISO_NAMES_HANDLES];
};

#define ISO_UNUSED_FN __attribute__((unused))

// A process's handle table as SYS_CAP_LIST and SYS_CAP_INFO show it: what
// must read the same before and after an attack.
#define ISO_TABLE_MAX 48
struct iso_table {
    int n;
    int handles[ISO_TABLE_MAX];
    struct cap_info info[ISO_TABLE_MAX];
};

// Reads the caller's table; false if a call failed or it holds more than
// ISO_TABLE_MAX handles.
static ISO_UNUSED_FN bool
iso_table_read(struct iso_table *t)
{
    memset(t, 0, sizeof *t);
    t->n = sys_cap_list(t->handles, ISO_TABLE_MAX);
    if (t->n < 0 || t->n > ISO_TABLE_MAX)
        return false;
    for (int i = 0; i < t->n; i++)
        if (sys_cap_info(t->handles[i], &t->info[i]) != 0)
            return false;
    return true;
}

static ISO_UNUSED_FN bool
iso_table_equal(const struct iso_table *a, const struct iso_table *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

// A child as its parent holds it.
struct iso_link {
    int proc; // its process handle
    int ep;   // the endpoint it calls (0: closed)
    int held; // the reply handle of its waiting call (0: none)
};

// Receives the child's next call into *msg and buf (NULL: no payload);
// returns the reply handle, or the error, or -EINVAL for a message that is
// not a call.
static ISO_UNUSED_FN int
iso_next(struct iso_link *l, struct ipc_words *msg, struct ipc_buf *buf)
{
    int r = sys_ipc_recv(l->ep, msg, buf);
    if (r < 0)
        return r;
    return msg->reply > 0 ? msg->reply : -EINVAL;
}

// Closes what the link holds but the process handle.
static ISO_UNUSED_FN void
iso_drop(struct iso_link *l)
{
    if (l->held > 0)
        sys_cap_close(l->held);
    if (l->ep > 0)
        sys_cap_close(l->ep);
    l->held = l->ep = 0;
}

// Starts module (an iso_child or iso_attacker) with `extra` as its handle
// 2 (0: none), takes its hello and answers with cmd and data[0, len).
// Returns 0 or -errno (-EAGAIN: the spawn was refused).  If the spawn
// failed nothing is left open (l->proc is 0); if the child failed the
// protocol, iso_finish ends it.
static ISO_UNUSED_FN int
iso_start(struct iso_link *l, int module, int extra, unsigned cmd, const void *data, unsigned len)
{
    memset(l, 0, sizeof *l);
    l->ep = sys_endpoint_create();
    if (l->ep < 0)
        return l->ep;
    int handles[2] = { sys_cap_dup(l->ep, CAP_SEND | CAP_GRANT, 0), extra };
    if (handles[0] < 0) {
        iso_drop(l);
        return handles[0];
    }
    l->proc = sys_spawn(module, handles, extra > 0 ? 2 : 1);
    sys_cap_close(handles[0]); // the child's copy stays: closing is not revoking
    if (l->proc < 0) {
        int r = l->proc;
        l->proc = 0;
        iso_drop(l);
        return r;
    }
    struct ipc_words msg;
    int reply = iso_next(l, &msg, NULL);
    if (reply < 0)
        return reply;
    if (msg.w0 != ISO_HELLO) {
        sys_cap_close(reply);
        return -EINVAL;
    }
    struct ipc_buf out = { (void *)data, len, 0, 0 };
    return sys_ipc_reply(reply, cmd, 0, data ? &out : NULL);
}

// Starts an ISO_HOLD child and takes its ISO_HELD call, which it keeps
// unanswered: the child lives until iso_finish or this process's end.
// Only the process and reply handles stay open.
static ISO_UNUSED_FN int
iso_start_held(struct iso_link *l, int module)
{
    int r = iso_start(l, module, 0, ISO_HOLD, NULL, 0);
    if (r < 0)
        return r;
    struct ipc_words msg;
    r = iso_next(l, &msg, NULL);
    if (r < 0)
        return r;
    l->held = r;
    sys_cap_close(l->ep); // the call is taken; nothing more comes
    l->ep = 0;
    return msg.w0 == ISO_HELD ? 0 : -EINVAL;
}

// Lets the child go (answers its held call with ISO_GO), waits at most
// ticks for it to end - killing it if it does not - and closes every
// handle of the link.  Returns its exit code, or -ETIMEDOUT if it had to
// be killed.
static ISO_UNUSED_FN int
iso_finish(struct iso_link *l, unsigned ticks)
{
    if (l->held > 0) {
        sys_ipc_reply(l->held, ISO_GO, 0, NULL);
        l->held = 0;
    }
    int code = -EBADF;
    if (l->proc > 0) {
        code = sys_wait(l->proc, ticks);
        if (code == -ETIMEDOUT) {
            sys_kill(l->proc);
            sys_wait(l->proc, WAIT_FOREVER);
        }
        sys_cap_close(l->proc);
        l->proc = 0;
    }
    iso_drop(l);
    return code;
}

#endif
