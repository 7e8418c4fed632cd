/* The protocol between user/test_caps.c and its agent, user/cap_child.c.
 *
 * The agent's handle 1 is its control endpoint (CAP_SEND | CAP_GRANT, badged
 * by the test with the agent's id).  The agent calls it with a report - an
 * empty one (CAP_OP_HELLO) first, then the outcome of each command - and the
 * reply is the next command.  So the test has the agent make one system call
 * at a time on its own handles and sees what came of each.  A command's
 * reply may carry a handle (reported in `got`), and a report carries back
 * the handle the command named in `give`. */
#ifndef TANDEM_USER_CAP_CHILD_H
#define TANDEM_USER_CAP_CHILD_H

#include "uapi/syscall.h"

#define CAP_CHILD_CTL 1 // the control endpoint's handle in the agent

enum cap_op {
    CAP_OP_HELLO,  // (the first report; not a command)
    CAP_OP_EXIT,   // sys_exit(a)
    CAP_OP_INFO,   // sys_cap_info(handle) -> report.info
    CAP_OP_LIST,   // sys_cap_list -> report.list (its first CAP_REPORT_LIST)
    CAP_OP_RECV,   // sys_ipc_recv(handle) -> words, reply, handle, data
    CAP_OP_SEND,   // sys_ipc_send(handle, a, b) passing `pass`
    CAP_OP_CALL,   // sys_ipc_call(handle, a, b) passing `pass` -> words, handle
    CAP_OP_REPLY,  // sys_ipc_reply(handle, a, b) passing `pass`
    CAP_OP_DUP,    // sys_cap_dup(handle, a, b)
    CAP_OP_CLOSE,  // sys_cap_close(handle)
    CAP_OP_REVOKE, // sys_cap_revoke(handle)
    CAP_OP_CREATE, // sys_endpoint_create()
    CAP_OP_FILL,   // creates endpoints until refused -> how many; w0: the refusal
    CAP_OP_UNFILL, // closes the last a endpoints CAP_OP_FILL made -> how many
};

struct cap_cmd {
    unsigned op;   // enum cap_op
    int handle;    // the handle it acts on
    unsigned a, b; // words to send, rights and badge, an exit code, a count
    int pass;      // a handle to pass with the message (0: none)
    int give;      // a handle to pass back with the report (0: none)
};

#define CAP_REPORT_LIST 32

struct cap_report {
    unsigned op;               // the command this reports on
    int result;                // its system call's result
    unsigned w0, w1;           // the words received (CAP_OP_RECV, CAP_OP_CALL)
    int reply;                 // CAP_OP_RECV of a call: the reply handle
    int handle;                // the handle that came with the message (0: none)
    int got;                   // the handle that came with the command (0: none)
    unsigned ticks;            // how long the system call took
    struct cap_info info;      // CAP_OP_INFO
    int list[CAP_REPORT_LIST]; // CAP_OP_LIST
};

// The agent's exit code when a call on its control endpoint fails with
// -errno: CAP_CHILD_LOST + errno.
#define CAP_CHILD_LOST 100

#endif
