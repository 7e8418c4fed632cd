// The server half of the IPC demo, started by demo_ping.  Answers every
// call with w0 + 1 and the same bytes, until PONG_QUIT, which it answers
// with the number of rounds it served after printing its figures.
#include "tandem.h"

#define PONG_QUIT   0xFFFFFFFFu     // also in user/demo_ping.c

// Prints this thread's system calls and scratch-arena figures.
static void
print_figures(unsigned rounds)
{
    struct kfast_stats ks;
    int r = sys_kfast_stats(&ks);
    if (r < 0) {
        printf("pong: kfast_stats failed: %d\n", r);
        return;
    }
    // Every kernel entry ends in a reset of the arena: resets counts them all.
    printf("pong: tid %d served %u calls with %u system calls; %u kernel entries in all\n",
           sys_gettid(), rounds, syscall_count(), ks.resets);
    printf("pong: arena: peak %u B of %u, %u allocations, %u spills, stack low water %u B\n",
           ks.peak, ks.block_size, ks.allocations, ks.spills, ks.stack_low_water);
}

int
main(void)
{
    static char data[IPC_BUF_MAX];
    unsigned rounds = 0;
    for (;;) {
        struct ipc_buf buf = { data, 0, sizeof data };
        struct ipc_words msg;
        int from = sys_ipc_recv(IPC_ANY, &msg, &buf);
        if (from < 0) {
            printf("pong: recv failed: %d\n", from);
            return 1;
        }
        if (msg.w0 == PONG_QUIT) {
            print_figures(rounds);
            sys_ipc_reply(from, rounds, 0, NULL);
            return 0;
        }
        rounds++;
        sys_ipc_reply(from, msg.w0 + 1, msg.w1, &buf);
    }
}
