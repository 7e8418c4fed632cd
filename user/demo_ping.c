// The client half of the IPC demo.  It finds demo_pong's module among the
// handles it was given (the shell's `run` passes its modules on; booted as
// the first process, it holds every module); it creates an endpoint,
// starts pong serving it and keeps only a badged send right, so pong knows
// its calls come from ping.  After
// ROUNDS round trips it tells pong to quit, waits for it and prints its own
// figures below pong's.
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"

#define ROUNDS     300
#define PONG_QUIT  0xFFFFFFFFu // also in user/demo_pong.c
#define PING_BADGE 0x9106u     // also in user/demo_pong.c

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

// Starts pong serving a new endpoint; returns the process handle (or a
// -errno) and sets *calls to a send-only handle badged PING_BADGE.
static int
start_pong(int *calls)
{
    int module = module_find("demo_pong");
    if (module < 0)
        return module;
    int ep = sys_endpoint_create();
    if (ep < 0)
        return ep;
    int pong = sys_spawn(module, &ep, 1);
    *calls = sys_cap_dup(ep, CAP_SEND, PING_BADGE);
    // From here on pong holds the one receive right: if it dies, calls
    // fail with -EPIPE instead of waiting for ever.
    sys_cap_close(ep);
    if (pong >= 0 && *calls < 0) {
        sys_kill(pong);
        sys_wait(pong, WAIT_FOREVER);
        sys_cap_close(pong);
        return *calls;
    }
    return pong;
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
        struct ipc_buf buf = { text, (unsigned)len, sizeof text, 0 };
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
    int calls = -1;
    int pong = start_pong(&calls);
    if (pong < 0) {
        printf("ping: cannot start demo_pong: %d\n", pong);
        return 1;
    }
    struct cap_info info = { 0 };
    sys_cap_info(pong, &info);
    printf("ping: tid %d calling demo_pong (process %u) %u times\n", sys_gettid(), info.base,
           ROUNDS);

    unsigned start = sys_time();
    unsigned good = play(calls);
    unsigned ticks = sys_time() - start;

    struct ipc_words reply;
    int r = sys_ipc_call(calls, PONG_QUIT, 0, NULL, &reply);
    int code = sys_wait(pong, WAIT_FOREVER);
    sys_cap_close(pong);
    sys_cap_close(calls);
    printf("ping: %u of %u round trips correct in %u ticks; pong counted %u, exited with %d\n",
           good, ROUNDS, ticks, r < 0 ? 0 : reply.w0, code);
    print_figures();
    return good == ROUNDS && code == 0 ? 0 : 1;
}
