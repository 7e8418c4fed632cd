// IPC's fast path (kernel/syscall/ipc_fast.c) and its general path agree.
//
// The same sequence of calls runs twice against a server thread: once in
// the forms the fast path takes (a call with no struct ipc_buf, a server
// looping on reply-and-receive with nothing in its reply), once in forms
// that mean the same but go the general way (a call with an empty struct
// ipc_buf, a server answering and receiving in two system calls).  Every
// outcome - results, words, the badges the server saw, a refused handle
// transfer, -EPIPE once the server is gone - must be the same, and
// SYS_SYSINFO's ipc_fast count shows which path carried each run.  Then
// the same for a server process that is killed: calls after it get -EPIPE
// either way.
#include "ipc_echo.h"
#include "lib/string.h"
#include "leak_check.h"
#include "tandem.h"
#include "utest.h"

#define THREAD_STACK 4096
#define WAIT_TICKS   500
#define SETTLE_TICKS 300
#define OP_ECHO      1 // answered with w0 + 1, w1 * 2
#define OP_REFUSE    2 // the server first tries to answer passing a handle it may not
#define OP_STOP      3 // answered, then the server closes its receive handle and ends
#define BADGE_A      0x11
#define BADGE_B      0x22
#define STEPS        10

enum path { PATH_FAST, PATH_GENERAL };

// What one step of the sequence came to, on the client's side.
struct outcome {
    int result;
    unsigned w0, w1;
};

// A run: the server's view and what the client saw.
struct run {
    enum path path;
    int recv;          // the server's receive handle
    int no_grant;      // a handle the server holds without CAP_GRANT
    int badges[STEPS]; // what each receive returned, in order
    unsigned received;
    int refusal; // the answer the server could not give
    struct outcome steps[STEPS];
    unsigned fast; // sysinfo.ipc_fast moved by this much
};

static struct sysinfo s_baseline;
static uint8_t s_stack[THREAD_STACK] ALIGNED(16);

// Serves calls on run->recv along run->path until OP_STOP.
static int
server(void *arg)
{
    struct run *run = arg;
    char data[16];
    struct ipc_buf buf = { data, 0, sizeof data, 0 };
    struct ipc_words msg;
    int reply = 0;
    unsigned w0 = 0, w1 = 0;
    for (;;) {
        int badge;
        if (run->path == PATH_FAST) {
            badge = sys_ipc_reply_recv(reply, w0, w1, &buf, run->recv, &msg);
        } else {
            if (reply)
                sys_ipc_reply(reply, w0, w1, &buf);
            badge = sys_ipc_recv(run->recv, &msg, &buf);
        }
        if (run->received < STEPS)
            run->badges[run->received++] = badge;
        if (badge < 0)
            return 1;
        buf.len = 0; // the answers carry words alone
        reply = msg.reply;
        w0 = msg.w0 + 1;
        w1 = msg.w1 * 2;
        if (msg.w0 == OP_REFUSE) {
            struct ipc_buf pass = { NULL, 0, 0, run->no_grant };
            run->refusal = sys_ipc_reply(reply, 0, 0, &pass); // the call stays open
        }
        if (msg.w0 == OP_STOP) {
            sys_ipc_reply(reply, w0, w1, NULL);
            sys_cap_close(run->recv);
            return 0;
        }
    }
}

// Calls h with w0 and w1 in the form run->path takes.
static struct outcome
call(const struct run *run, int h, unsigned w0, unsigned w1)
{
    struct ipc_buf empty = { NULL, 0, 0, 0 };
    struct ipc_words reply = { 0, 0, 0 };
    struct outcome o = { 0, 0, 0 };
    o.result = sys_ipc_call(h, w0, w1, run->path == PATH_FAST ? NULL : &empty, &reply);
    if (o.result == 0) { // (a failed call leaves ebx and esi as they were)
        o.w0 = reply.w0;
        o.w1 = reply.w1;
    }
    return o;
}

static unsigned
fast_count(void)
{
    struct sysinfo si;
    return sys_sysinfo(&si) == 0 ? si.ipc_fast : 0;
}

// The sequence, with a fresh endpoint and server.
static void
run_sequence(struct run *run)
{
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    int a = sys_cap_dup(ep, CAP_SEND | CAP_GRANT, BADGE_A);
    int b = sys_cap_dup(ep, CAP_SEND, BADGE_B); // may not carry a handle
    int no_send = sys_cap_dup(ep, CAP_GRANT, 0);
    int stale = sys_cap_dup(ep, CAP_SEND, 0);
    run->recv = ep;
    run->no_grant = b;
    UASSERT_GT(stale, 0);
    UEXPECT_EQ(sys_cap_close(stale), 0);
    int thread = thread_spawn(server, run, s_stack, sizeof s_stack);
    UASSERT_GT(thread, 0);
    sys_sleep(2); // the server waits in its receive
    unsigned before = fast_count();
    unsigned n = 0;
    run->steps[n++] = call(run, a, OP_ECHO, 7);
    run->steps[n++] = call(run, b, OP_ECHO, 0x80000001u);
    run->steps[n++] = call(run, no_send, OP_ECHO, 1);
    run->steps[n++] = call(run, stale, OP_ECHO, 1);
    run->steps[n++] = call(run, b, OP_REFUSE, 3);
    // A handle passed where the endpoint handle lacks CAP_GRANT: refused
    // before anything is sent, whichever form the call has.
    struct ipc_buf pass = { NULL, 0, 0, a };
    struct ipc_words reply;
    run->steps[n++] = (struct outcome){ sys_ipc_call(b, OP_ECHO, 1, &pass, &reply), 0, 0 };
    run->steps[n++] = call(run, a, OP_ECHO, 9);
    run->steps[n++] = call(run, a, OP_STOP, 5);
    UEXPECT_EQ(sys_wait(thread, WAIT_TICKS), 0);
    run->steps[n++] = call(run, a, OP_ECHO, 1); // the server is gone: -EPIPE
    run->fast = fast_count() - before;
    UEXPECT_EQ(sys_cap_close(thread), 0);
    UEXPECT_EQ(sys_cap_close(a), 0);
    UEXPECT_EQ(sys_cap_close(b), 0);
    UEXPECT_EQ(sys_cap_close(no_send), 0);
}

UTEST(start)
{
    UASSERT_TRUE(sysinfo_settled(&s_baseline, SETTLE_TICKS));
}

UTEST(fast_and_general_paths_agree)
{
    FOR_EACH_SYSCALL_MODE() {
        static struct run runs[2];
        memset(runs, 0, sizeof runs);
        runs[PATH_FAST].path = PATH_FAST;
        runs[PATH_GENERAL].path = PATH_GENERAL;
        run_sequence(&runs[PATH_FAST]);
        run_sequence(&runs[PATH_GENERAL]);
        const struct run *f = &runs[PATH_FAST], *g = &runs[PATH_GENERAL];
        // What the sequence must give, checked on the fast run ...
        UEXPECT_EQ(f->steps[0].result, 0);
        UEXPECT_UEQ(f->steps[0].w0, OP_ECHO + 1);
        UEXPECT_UEQ(f->steps[0].w1, 14);
        UEXPECT_UEQ(f->steps[1].w1, 2);
        UEXPECT_EQ(f->steps[2].result, -EPERM);
        UEXPECT_EQ(f->steps[3].result, -EBADF);
        UEXPECT_EQ(f->steps[4].result, 0);
        UEXPECT_UEQ(f->steps[4].w0, OP_REFUSE + 1);
        UEXPECT_EQ(f->refusal, -EPERM);
        UEXPECT_EQ(f->steps[5].result, -EPERM);
        UEXPECT_EQ(f->steps[8].result, -EPIPE);
        UEXPECT_UEQ(f->received, 5);
        UEXPECT_EQ(f->badges[0], BADGE_A);
        UEXPECT_EQ(f->badges[1], BADGE_B);
        UEXPECT_EQ(f->badges[2], BADGE_B);
        // ... and the general run gives exactly the same.
        for (unsigned i = 0; i < STEPS; i++) {
            UEXPECT_EQ(g->steps[i].result, f->steps[i].result);
            UEXPECT_UEQ(g->steps[i].w0, f->steps[i].w0);
            UEXPECT_UEQ(g->steps[i].w1, f->steps[i].w1);
            UEXPECT_EQ(g->badges[i], f->badges[i]);
        }
        UEXPECT_UEQ(g->received, f->received);
        UEXPECT_EQ(g->refusal, f->refusal);
        // Each run went the way it was meant to: the five calls answered,
        // both ways, by the fast path (the answer to OP_STOP is a plain
        // reply), and nothing of the general run by it.
        UEXPECT_UGE(f->fast, 9);
        UEXPECT_UEQ(g->fast, 0);
    }
}

// A server process killed while it waits: calls then get -EPIPE, by
// either path, and calls before it agree.
UTEST(epipe_when_the_server_dies_either_way)
{
    FOR_EACH_SYSCALL_MODE() {
        struct outcome seen[2][2];
        for (int p = PATH_FAST; p <= PATH_GENERAL; p++) {
            struct run run = { .path = (enum path)p };
            int echo = -1;
            int proc = echo_start(&echo, 0);
            UASSERT_GT(proc, 0);
            sys_sleep(2); // ipc_echo waits in its receive
            seen[p][0] = call(&run, echo, 4, 5);
            UEXPECT_EQ(sys_kill(proc), 0);
            UEXPECT_EQ(sys_wait(proc, WAIT_TICKS), EXIT_KILLED);
            seen[p][1] = call(&run, echo, 4, 5);
            UEXPECT_EQ(sys_cap_close(proc), 0);
            UEXPECT_EQ(sys_cap_close(echo), 0);
        }
        UEXPECT_EQ(seen[PATH_FAST][0].result, 0);
        UEXPECT_UEQ(seen[PATH_FAST][0].w0, 5);
        UEXPECT_EQ(seen[PATH_FAST][1].result, -EPIPE);
        for (int i = 0; i < 2; i++) {
            UEXPECT_EQ(seen[PATH_GENERAL][i].result, seen[PATH_FAST][i].result);
            UEXPECT_UEQ(seen[PATH_GENERAL][i].w0, seen[PATH_FAST][i].w0);
            UEXPECT_UEQ(seen[PATH_GENERAL][i].w1, seen[PATH_FAST][i].w1);
        }
    }
}

UTEST(nothing_left_behind)
{
    EXPECT_COUNTS_BACK(&s_baseline, SETTLE_TICKS);
}

int
main(void)
{
    return utest_run("test_ipc_paths");
}
