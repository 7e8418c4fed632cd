/* dev_child (user/dev_child.c), test_dev_mechanisms' partner: a process
 * that uses a device (or tries to) on request, so that the parent can see
 * what the kernel does to a process with or without the right, and a
 * child that reads its argument string.
 *
 * Its handles: 1, an endpoint it receives one call on (CAP_RECV); 2,
 * optionally, the device handle its action uses.  Its argument string
 * names the action (its first word; none: "echo").  It waits for the call,
 * whose w1 is the action's parameter, acts, and answers:
 *   echo       the payload is its whole argument string; w0 its length
 *   inb        w0 = inb(w1)
 *   inb-close  w0 = inb(w1); then closes handle 2 and reads the port again
 *   inb-loop   w0 = inb(w1); then reads the port again and again
 *   map-close  maps handle 2 at DEV_CHILD_MAP_AT, writes w1 to its first
 *              cell; w0 = the map's result, w1 = the cell read back; then
 *              closes handle 2 and reads the cell again
 *   map-exit   as map-close, but then just exits
 * and exits with 0 - unless the kernel ends it first, which is what the
 * parent looks for: a port it may not use is #GP (DEV_CHILD_EXIT_GP), a
 * page no longer mapped is #PF (DEV_CHILD_EXIT_PF).  An unknown action,
 * or a failure before it could answer, exits with DEV_CHILD_EXIT_FAILED.
 * A parent that keeps only a CAP_SEND copy of the endpoint hears -EPIPE
 * from its call if the child dies before it answers. */
#ifndef TANDEM_USER_DEV_CHILD_H
#define TANDEM_USER_DEV_CHILD_H

#include "tandem.h"

#define DEV_CHILD_ENDPOINT    1
#define DEV_CHILD_DEVICE      2
#define DEV_CHILD_MAP_AT      0x00900000u
#define DEV_CHILD_EXIT_FAILED 2
#define DEV_CHILD_EXIT_GP     (128 + 13)
#define DEV_CHILD_EXIT_PF     (128 + 14)
#define DEV_CHILD_WAIT_TICKS  500 // how long a parent waits for its end

// ---- How a parent runs one ------------------------------------------------------

struct child {
    int proc;
    int ep; // CAP_SEND only: the child holds the one CAP_RECV
};

// Starts dev_child with an argument string (NULL: none) and, unless 0, a
// device handle as its handle 2.
static inline int
child_start(struct child *c, const char *args, int device)
{
    int module = module_find("dev_child");
    if (module < 0)
        return module;
    int ep = sys_endpoint_create();
    if (ep < 0)
        return ep;
    int send = sys_cap_dup(ep, CAP_SEND, 0);
    const int handles[2] = { ep, device };
    int proc = send < 0 ? send : sys_spawn_args(module, handles, device ? 2 : 1, args);
    sys_cap_close(ep);
    if (proc < 0) {
        if (send > 0)
            sys_cap_close(send);
        return proc;
    }
    c->proc = proc;
    c->ep = send;
    return 0;
}

// Waits for the child's end (killing it if it outlives DEV_CHILD_WAIT_TICKS) and
// closes what refers to it; returns its exit code, or -ETIMEDOUT.
static inline int
child_finish(struct child *c)
{
    int code = sys_wait(c->proc, DEV_CHILD_WAIT_TICKS);
    if (code == -ETIMEDOUT) {
        sys_kill(c->proc);
        sys_wait(c->proc, DEV_CHILD_WAIT_TICKS);
    }
    sys_cap_close(c->proc);
    sys_cap_close(c->ep);
    return code;
}

// Runs one action to the end: starts the child, calls it with param
// (*reply: the answer's words; w0 = the call's error if it failed) and
// returns its exit code.
static inline int
child_run(const char *args, int device, unsigned param, struct ipc_words *reply)
{
    struct child c = { 0, 0 };
    int err = child_start(&c, args, device);
    if (err)
        return err;
    int r = sys_ipc_call(c.ep, 0, param, NULL, reply);
    if (r != 0)
        reply->w0 = (unsigned)r;
    return child_finish(&c);
}

#endif
