// The client half of the IPC demo.  It spawns demo_pong itself: a spawned
// process's pid is the tid of its first thread, so that is whom to call.
// After ROUNDS round trips it tells pong to quit, waits for it and prints
// its own figures below pong's.
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"

#define ROUNDS      300
#define PONG_QUIT   0xFFFFFFFFu     // also in user/demo_pong.c

// Prints this thread's system calls and scratch-arena figures.
static void
print_figures(void)
{
    struct kfast_stats ks;
    int r = sys_kfast_stats(&ks);
    if (r < 0) {
        printf("ping: kfast_stats failed: %d\n", r);
        return;
    }
    // Every kernel entry ends in a reset of the arena, so resets counts
    // them all: system calls, and the interrupts that came while in ring 3.
    printf("ping: tid %d made %u system calls; %u kernel entries in all\n", sys_gettid(),
           syscall_count(), ks.resets);
    printf("ping: arena: peak %u B of %u, %u allocations, %u spills, stack low water %u B\n",
           ks.peak, ks.block_size, ks.allocations, ks.spills, ks.stack_low_water);
}

// Makes ROUNDS calls to pong, each with a short text it must send back;
// returns how many came back right.
static unsigned
play(int pong)
{
    unsigned good = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        char text[32], sent[32];
        int len = ksnprintf(text, sizeof text, "ping %u", i);
        memcpy(sent, text, (size_t)len);
        struct ipc_buf buf = { text, (unsigned)len, sizeof text };
        struct ipc_words reply;
        int r = sys_ipc_call(pong, i, ~i, &buf, &reply);
        if (r < 0) {
            printf("ping: call %u failed: %d\n", i, r);
            break;
        }
        good += reply.w0 == i + 1 && reply.w1 == ~i && buf.len == (unsigned)len &&
                memcmp(text, sent, (size_t)len) == 0;
    }
    return good;
}

int
main(void)
{
    int index = module_find("demo_pong");
    int pong = index < 0 ? index : sys_spawn((unsigned)index);
    if (pong < 0) {
        printf("ping: cannot start demo_pong: %d\n", pong);
        return 1;
    }
    printf("ping: tid %d calling demo_pong (tid %d) %u times\n", sys_gettid(), pong, ROUNDS);

    unsigned start = sys_time();
    unsigned good = play(pong);
    unsigned ticks = sys_time() - start;

    struct ipc_words reply;
    int r = sys_ipc_call(pong, PONG_QUIT, 0, NULL, &reply);
    int code = sys_wait(pong);
    printf("ping: %u of %u round trips correct in %u ticks; pong counted %u, exited with %d\n",
           good, ROUNDS, ticks, r < 0 ? 0 : reply.w0, code);
    print_figures();
    return good == ROUNDS && code == 0 ? 0 : 1;
}
