// The IPC partner (see user/ipc_echo.h for its protocol): serves calls on
// handle 1 with one reply_recv per call, as a server should.
#include "ipc_echo.h"

#define ENDPOINT 1
#define HELLO    2

// The answer being prepared: what the next reply sends.
struct answer {
    int reply; // the reply handle (0: none due)
    unsigned w0, w1;
    unsigned len; // payload bytes, in s_data
    int handle;   // the handle to pass back (0: none)
};

static uint8_t s_data[IPC_BUF_MAX];

// Reverses buf[0, n) in place.
static void
reverse(uint8_t *buf, unsigned n)
{
    for (unsigned i = 0; i < n / 2; i++) {
        uint8_t t = buf[i];
        buf[i] = buf[n - 1 - i];
        buf[n - 1 - i] = t;
    }
}

// Makes the one call on handle 2 if the parent gave one; the answer, or
// the lack of one, changes nothing.
static void
say_hello(void)
{
    struct cap_info info;
    if (sys_cap_info(HELLO, &info) != 0 || info.type != CAP_TYPE_ENDPOINT)
        return;
    struct ipc_words reply;
    sys_ipc_call(HELLO, ECHO_HELLO, 0, NULL, &reply);
    sys_cap_close(HELLO);
}

// Answers a call that carried a handle on its own, so that the handle can
// be closed here before the next wait: ipc_echo keeps none while it waits.
static void
answer_with_handle(struct answer *a)
{
    struct ipc_buf buf = { s_data, a->len, 0, a->handle };
    if (sys_ipc_reply(a->reply, a->w0, a->w1, &buf) < 0)
        sys_cap_close(a->reply); // its caller gets -EPIPE
    sys_cap_close(a->handle);
    a->reply = 0;
    a->handle = 0;
}

int
main(void)
{
    struct answer a = { 0, 0, 0, 0, 0 };
    say_hello();
    for (;;) {
        struct ipc_buf buf = { s_data, a.len, sizeof s_data, 0 };
        struct ipc_words msg;
        int badge = sys_ipc_reply_recv(a.reply, a.w0, a.w1, &buf, ENDPOINT, &msg);
        if (badge < 0 && a.reply) {
            // The answer could not go (it does not fit the caller's room):
            // that call is dropped, its caller gets -EPIPE, the rest served.
            sys_cap_close(a.reply);
            a.reply = 0;
            a.len = 0;
            continue;
        }
        if (badge == -EBADF)
            return ECHO_EXIT_REVOKED;
        if (badge < 0) {
            printf("ipc_echo: recv failed: %d\n", badge);
            return 1;
        }
        if (!msg.reply) { // a plain send: nobody waits for an answer
            if (buf.handle)
                sys_cap_close(buf.handle);
            a.reply = 0;
            a.len = 0;
            continue;
        }
        reverse(s_data, buf.len);
        a = (struct answer){ msg.reply, msg.w0 + 1, msg.w1 * 2, buf.len, buf.handle };
        if (msg.w0 == ECHO_QUIT) {
            struct ipc_buf last = { s_data, a.len, 0, a.handle };
            sys_ipc_reply(a.reply, a.w0, a.w1, &last);
            return 0;
        }
        if (a.handle)
            answer_with_handle(&a);
    }
}
