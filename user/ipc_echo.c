// The IPC partner (see user/ipc_echo.h for its protocol): serves calls on
// handle 1 with one reply_recv per call, as a server should - or, started
// with the argument "call C S", is the caller of the kernel's test of IPC
// across CPUs (tests/kernel/ipc_across_test.c).
#include "ipc_echo.h"
#include "lib/format.h"
#include "lib/string.h"

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

// The CPU this thread runs on, as the kernel answered SYS_SYSINFO.
static unsigned
this_cpu(void)
{
    struct sysinfo si;
    return sys_sysinfo(&si) == 0 ? si.cpu : ~0u;
}

// The caller across CPUs: ECHO_ROUNDS calls with a payload on handle 1,
// each answer checked, and that this thread ran on cpu and the echo on
// echo_cpu every time (ECHO_WHERE); then ECHO_QUIT.  0 if all was right.
static int
call_across(unsigned cpu, unsigned echo_cpu)
{
    for (unsigned i = 0; i < ECHO_ROUNDS; i++) {
        char text[48], sent[48];
        unsigned len = (unsigned)ksnprintf(text, sizeof text, "round %u from cpu %u", i, cpu);
        memcpy(sent, text, len);
        reverse((uint8_t *)sent, len);
        struct ipc_buf buf = { text, len, sizeof text, 0 };
        struct ipc_words reply, where;
        int r = sys_ipc_call(ENDPOINT, i, i + 7, &buf, &reply);
        int w = sys_ipc_call(ENDPOINT, ECHO_WHERE, 0, NULL, &where);
        unsigned here = this_cpu();
        bool same = buf.len == len && memcmp(text, sent, len) == 0;
        if (r < 0 || w < 0 || reply.w0 != i + 1 || reply.w1 != 2 * (i + 7) || !same ||
            here != cpu || where.w0 != echo_cpu) {
            printf("ipc_echo: round %u: results %d %d, words %u %u, payload %s; caller on cpu %u "
                   "(want %u), echo on cpu %u (want %u)\n",
                   i, r, w, reply.w0, reply.w1, same ? "right" : "wrong", here, cpu, where.w0,
                   echo_cpu);
            return 1;
        }
    }
    struct ipc_words reply;
    return sys_ipc_call(ENDPOINT, ECHO_QUIT, 0, NULL, &reply) < 0 ? 1 : 0;
}

int
main(void)
{
    const char *args = program_args();
    if (strncmp(args, "call ", 5) == 0 && args[5] >= '0' && args[5] <= '9' && args[6] == ' ' &&
        args[7] >= '0' && args[7] <= '9')
        return call_across((unsigned)(args[5] - '0'), (unsigned)(args[7] - '0'));
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
        if (msg.w0 == ECHO_WHERE)
            a.w0 = this_cpu();
        if (msg.w0 == ECHO_QUIT) {
            struct ipc_buf last = { s_data, a.len, 0, a.handle };
            sys_ipc_reply(a.reply, a.w0, a.w1, &last);
            return 0;
        }
        if (a.handle)
            answer_with_handle(&a);
    }
}
