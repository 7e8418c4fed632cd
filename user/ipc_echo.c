// test_ipc's partner process.  Receives from anyone and replies with
// w0 + 1, w1 * 2 and the bytes received in reverse order, until w0 is
// ECHO_QUIT, which it answers the same way before it exits with 0.
#include "tandem.h"

#define ECHO_QUIT   0xDEAD      // also in user/test_ipc.c

int
main(void)
{
    static uint8_t in[IPC_BUF_MAX], out[IPC_BUF_MAX];
    for (;;) {
        struct ipc_buf buf = { in, 0, sizeof in };
        struct ipc_words msg;
        int from = sys_ipc_recv(IPC_ANY, &msg, &buf);
        if (from < 0) {
            printf("ipc_echo: recv failed: %d\n", from);
            return 1;
        }
        for (unsigned i = 0; i < buf.len; i++)
            out[i] = in[buf.len - 1 - i];
        struct ipc_buf reply = { out, buf.len, 0 };
        // A sender that used ipc_send is not waiting for this: -EPERM,
        // which is no reason to stop serving.
        sys_ipc_reply(from, msg.w0 + 1, msg.w1 * 2, &reply);
        if (msg.w0 == ECHO_QUIT)
            return 0;
    }
}
