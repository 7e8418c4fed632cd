// test_isolation's partner.  It waits for one message from whoever started
// it; w0 says what to do (the ISO_* commands, shared through
// user/iso_child.h), and the message's sender is the thread it works with:
//
//   ISO_HOLD       stays alive until the sender sends again or dies, then
//                  exits with 0: a long-lived child whose end the sender
//                  controls, even when the sender is killed.
//   ISO_WAIT_KILL  starts an ISO_HOLD child held by a second thread, which
//                  then waits for it (SYS_WAIT); the main thread calls
//                  sys_exit(ISO_EXIT_CODE) while that wait goes on.  The
//                  process must end: the kill reaches the waiting thread.
//   ISO_SPAWN_MAX  starts ISO_HOLD children until SYS_SPAWN refuses, sends
//                  the sender (count, refusal), waits for its go, then
//                  releases and collects every child and exits with 0.
//   ISO_THREAD_MAX starts threads that block until SYS_THREAD_CREATE
//                  refuses, sends the sender (count, refusal), waits for
//                  its go and ends them all with sys_exit(0).
#include "iso_child.h"
#include "tandem.h"

#define THREAD_STACK    4096
#define WAIT_TICKS      500

static uint8_t s_waiter_stack[THREAD_STACK] ALIGNED(16);
static volatile bool s_waiting;
static int s_self_index;

// ISO_HOLD: returns when `holder` sends again or is gone.
static int
hold(int holder)
{
    struct ipc_words msg;
    sys_ipc_recv(holder, &msg, NULL);
    return 0;
}

// Starts an ISO_HOLD child held by the calling thread; its pid or < 0.
static int
spawn_held(void)
{
    int pid = sys_spawn((unsigned)s_self_index);
    if (pid < 0)
        return pid;
    int r = sys_ipc_send(pid, ISO_HOLD, 0, NULL);
    return r < 0 ? r : pid;
}

static int
waiter(void *arg)
{
    (void)arg;
    int pid = spawn_held();
    if (pid < 0)
        return 1;
    s_waiting = true;
    sys_wait(pid);          // never ends on its own: the child is held by us
    return 0;
}

static int
wait_kill(void)
{
    if (thread_spawn(waiter, NULL, s_waiter_stack, sizeof s_waiter_stack) < 0)
        return 1;
    unsigned start = sys_time();
    while (!s_waiting && sys_time() - start < WAIT_TICKS)
        sys_sleep(1);
    sys_sleep(5);           // the waiter is in sys_wait by now
    sys_exit(ISO_EXIT_CODE);
}

static int
spawn_max(int parent)
{
    static int pids[ISO_SPAWN_LIMIT];
    unsigned n = 0;
    int r = 0;              // stays >= 0 if ISO_SPAWN_LIMIT comes first
    while (n < ISO_SPAWN_LIMIT && (r = spawn_held()) > 0)
        pids[n++] = r;
    struct ipc_words go;
    sys_ipc_send(parent, n, (unsigned)r, NULL);
    sys_ipc_recv(parent, &go, NULL);
    int failures = 0;
    for (unsigned i = 0; i < n; i++) {
        sys_ipc_send(pids[i], 0, 0, NULL);
        failures += sys_wait(pids[i]) != 0;
    }
    return failures;
}

static uint8_t s_parked_stacks[THREADS_PER_PROCESS][1024] ALIGNED(16);

// Sleeps until sys_exit ends the process (a kill wakes a sleeper).
static int
park(void *arg)
{
    (void)arg;
    for (;;)
        sys_sleep(1000);
    return 0;
}

static int
thread_max(int parent)
{
    unsigned n = 0;
    int r = 0;
    while (n < THREADS_PER_PROCESS &&
           (r = thread_spawn(park, NULL, s_parked_stacks[n], sizeof s_parked_stacks[n])) > 0)
        n++;
    struct ipc_words go;
    sys_ipc_send(parent, n, (unsigned)r, NULL);
    sys_ipc_recv(parent, &go, NULL);
    sys_exit(0);
}

int
main(void)
{
    s_self_index = module_find("iso_child");
    struct ipc_words msg;
    int from = sys_ipc_recv(IPC_ANY, &msg, NULL);
    if (from < 0 || s_self_index < 0)
        return ISO_EXIT_BAD;
    switch (msg.w0) {
    case ISO_HOLD:
        return hold(from);
    case ISO_WAIT_KILL:
        return wait_kill();
    case ISO_SPAWN_MAX:
        return spawn_max(from);
    case ISO_THREAD_MAX:
        return thread_max(from);
    default:
        return ISO_EXIT_BAD;
    }
}
