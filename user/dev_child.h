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

#define DEV_CHILD_ENDPOINT      1
#define DEV_CHILD_DEVICE        2
#define DEV_CHILD_MAP_AT        0x00900000u
#define DEV_CHILD_EXIT_FAILED   2
#define DEV_CHILD_EXIT_GP       (128 + 13)
#define DEV_CHILD_EXIT_PF       (128 + 14)

#endif
