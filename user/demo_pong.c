// The server half of the IPC demo, started by demo_ping with the endpoint
// to serve as its handle 1.  It tells its callers apart by the badge on the
// handle they call through: ping's is PING_BADGE, anything else is a
// stranger, refused.  Answers every call with w0 + 1 and the same bytes,
// until PONG_QUIT, which it answers with the number of rounds it served
// after printing its figures.
#include "tandem.h"

#define ENDPOINT   1
#define PONG_QUIT  0xFFFFFFFFu // also in user/demo_ping.c
#define PING_BADGE 0x9106u     // also in user/demo_ping.c

// Who a badge stands for.
static const char *
caller_name(unsigned badge)
{
    return badge == PING_BADGE ? "demo_ping" : NULL;
}

// Prints this thread's system calls and scratch-arena figures.
static void
print_figures(unsigned rounds, unsigned badge)
{
    struct kfast_stats ks;
    int r = sys_kfast_stats(&ks);
    if (r < 0) {
        printf("pong: kfast_stats failed: %d\n", r);
        return;
    }
    // Every kernel entry ends in a reset of the arena: resets counts them all.
    printf("pong: tid %d served %u calls from %s (badge %#x) with %u system calls; "
           "%u kernel entries in all\n",
           sys_gettid(), rounds, caller_name(badge), badge, syscall_count(), ks.resets);
    printf("pong: arena: peak %u B of %u, %u allocations, %u spills, stack low water %u B\n",
           ks.peak, ks.block_size, ks.allocations, ks.spills, ks.stack_low_water);
}

int
main(void)
{
    static char data[IPC_BUF_MAX];
    unsigned rounds = 0;
    int reply = 0;
    unsigned w0 = 0, w1 = 0, len = 0;
    for (;;) {
        struct ipc_buf buf = { data, len, sizeof data, 0 };
        struct ipc_words msg;
        int badge = sys_ipc_reply_recv(reply, w0, w1, &buf, ENDPOINT, &msg);
        if (badge < 0) {
            printf("pong: recv failed: %d\n", badge);
            return 1;
        }
        reply = msg.reply;
        if (buf.handle)
            sys_cap_close(buf.handle); // pong takes none
        if (!caller_name((unsigned)badge) || !reply) {
            // A stranger's call (its caller gets -EPIPE), or a plain send.
            if (reply) {
                printf("pong: refusing a call from badge %#x: not demo_ping's\n", badge);
                sys_cap_close(reply);
            }
            reply = 0;
            continue;
        }
        if (msg.w0 == PONG_QUIT) {
            print_figures(rounds, (unsigned)badge);
            sys_ipc_reply(reply, rounds, 0, NULL);
            return 0;
        }
        rounds++;
        w0 = msg.w0 + 1;
        w1 = msg.w1;
        len = buf.len;
    }
}
