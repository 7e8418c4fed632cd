/* ipc_echo (user/ipc_echo.c), the IPC partner of test_ipc, test_kfast, the
 * attack tests and bench, and how a client starts one.
 *
 * Its handles: 1, the endpoint it serves (CAP_RECV); optionally 2, an
 * endpoint it calls once, with w0 = ECHO_HELLO, before it serves anything
 * (so a test can hold a call from another process, e.g. to kill the
 * caller).  Every call on handle 1 is answered with w0 + 1, w1 * 2, the
 * payload reversed and the handle it carried (if any) passed back.  A call
 * with w0 = ECHO_QUIT is answered the same way, then ipc_echo exits with 0;
 * plain sends are taken and dropped.  If its handle 1 is closed under it
 * (revoked by the parent) it exits with ECHO_EXIT_REVOKED.  A call with
 * w0 = ECHO_WHERE is answered with the CPU the echo runs on in w0.
 *
 * Started with the argument "call C S" (CPU indexes of one digit) it is
 * instead a caller on handle 1: ECHO_ROUNDS calls with a payload, each
 * answer checked, and that it ran on CPU C and the echo it calls on CPU S
 * every time; then ECHO_QUIT, and exit code 0 if all was right (the
 * kernel's test of IPC across CPUs, tests/kernel/ipc_across_test.c). */
#ifndef TANDEM_USER_IPC_ECHO_H
#define TANDEM_USER_IPC_ECHO_H

#include "tandem.h"

#define ECHO_QUIT         0xDEAD
#define ECHO_HELLO        0xE110
#define ECHO_WHERE        0x3E7E // answered with w0 = the CPU the echo runs on
#define ECHO_ROUNDS       50     // the round trips of its caller mode
#define ECHO_EXIT_REVOKED 3

// Starts ipc_echo serving a new endpoint, and calling `hello` first unless
// it is 0.  Returns the process handle (or a -errno, with nothing left
// open) and sets *endpoint to this process's handle to the new endpoint:
// CAP_SEND | CAP_GRANT only, so that the echo holds the one CAP_RECV and a
// send fails with -EPIPE once it is gone.
static inline int
echo_start(int *endpoint, int hello)
{
    int module = module_find("ipc_echo");
    if (module < 0)
        return module;
    int ep = sys_endpoint_create();
    if (ep < 0)
        return ep;
    int send = sys_cap_dup(ep, CAP_SEND | CAP_GRANT, 0);
    const int handles[2] = { ep, hello };
    int proc = send < 0 ? send : sys_spawn(module, handles, hello ? 2 : 1);
    sys_cap_close(ep);
    if (proc < 0) {
        if (send > 0)
            sys_cap_close(send);
        return proc;
    }
    *endpoint = send;
    return proc;
}

#endif
