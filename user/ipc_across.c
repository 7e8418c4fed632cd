// The two halves of the kernel's test of IPC across CPUs (tests/kernel/
// ipc_across_test.c), which starts one of each, pinned to different CPUs,
// on one endpoint (handle 1).  The argument says which half and where each
// must run: "serve S" or "call C S", the CPUs as one digit each.
//
// The server answers every call with the CPU it runs on (SYS_SYSINFO's
// cpu) in w0, w1 + 1 and the payload with every byte + 1; a call with
// w0 = QUIT ends it.  The caller makes ROUNDS calls with a payload, checks
// each answer, and that it ran on C and the server on S every time.  Exit
// code 0: every round trip right; else the caller says what went wrong.
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"

#define ENDPOINT 1
#define ROUNDS   100
#define QUIT     0xFFFFFFFFu

static unsigned
this_cpu(void)
{
    struct sysinfo si;
    return sys_sysinfo(&si) == 0 ? si.cpu : ~0u;
}

static int
serve(unsigned cpu)
{
    static uint8_t data[IPC_BUF_MAX];
    int reply = 0;
    unsigned w0 = 0, w1 = 0, len = 0;
    for (;;) {
        struct ipc_buf buf = { data, len, sizeof data, 0 };
        struct ipc_words msg;
        int badge = sys_ipc_reply_recv(reply, w0, w1, &buf, ENDPOINT, &msg);
        if (badge < 0 || !msg.reply) {
            printf("ipc_across: the server's receive failed: %d\n", badge);
            return 1;
        }
        reply = msg.reply;
        if (msg.w0 == QUIT) {
            sys_ipc_reply(reply, 0, 0, NULL);
            return this_cpu() == cpu ? 0 : 2;
        }
        for (unsigned i = 0; i < buf.len; i++)
            data[i]++;
        w0 = this_cpu();
        w1 = msg.w1 + 1;
        len = buf.len;
    }
}

static int
call(unsigned cpu, unsigned server_cpu)
{
    for (unsigned i = 0; i < ROUNDS; i++) {
        char text[48], want[48];
        int len = ksnprintf(text, sizeof text, "round %u from the caller", i);
        for (int k = 0; k < len; k++)
            want[k] = (char)(text[k] + 1);
        struct ipc_buf buf = { text, (unsigned)len, sizeof text, 0 };
        struct ipc_words reply;
        int r = sys_ipc_call(ENDPOINT, i, 3 * i, &buf, &reply);
        unsigned here = this_cpu();
        if (r < 0 || reply.w1 != 3 * i + 1 || buf.len != (unsigned)len ||
            memcmp(text, want, (size_t)len) != 0 || here != cpu || reply.w0 != server_cpu) {
            printf("ipc_across: round %u: result %d, w1 %u (want %u), %u bytes (want %d)%s; "
                   "caller on cpu %u (want %u), server on cpu %u (want %u)\n",
                   i, r, reply.w1, 3 * i + 1, buf.len, len,
                   memcmp(text, want, (size_t)len) ? ", payload changed" : "", here, cpu,
                   reply.w0, server_cpu);
            return 1;
        }
    }
    struct ipc_words reply;
    return sys_ipc_call(ENDPOINT, QUIT, 0, NULL, &reply) < 0 ? 1 : 0;
}

int
main(void)
{
    const char *args = program_args();
    if (strncmp(args, "serve ", 6) == 0 && args[6] >= '0' && args[6] <= '9')
        return serve((unsigned)(args[6] - '0'));
    if (strncmp(args, "call ", 5) == 0 && args[5] >= '0' && args[5] <= '9' && args[6] == ' ' &&
        args[7] >= '0' && args[7] <= '9')
        return call((unsigned)(args[5] - '0'), (unsigned)(args[7] - '0'));
    printf("ipc_across: started with '%s'; expected 'serve S' or 'call C S'\n", args);
    return 1;
}
