// A known set of handles for the GDB helpers' tests (tests/gdb, scenario
// "caps", which boots this program alone, as the first process).  Not a
// test itself: GDB stops the kernel inside its system calls and compares
// `tandem caps` with the kernel's tables.
//
// The first process (no argument handles: its handle 1 names a module)
// holds every boot module and device.  It makes an endpoint, a badged
// send-only duplicate of it and a server thread that receives on it, then
// starts itself again as a child with a copy of the badged handle.  The
// child calls twice, passing its own handle along with the first call, so
// each table holds a handle derived from the other's.  The server answers
// the first call and lets the second one queue; it kills the child before
// answering it, so its reply handle ends up with its caller gone.
#include "tandem.h"

#define BADGE      42
#define STACK_SIZE 4096

static int s_ep;                  // the endpoint: send, receive, grant
static int s_badged;              // its badged duplicate: send, grant
static volatile int s_child = -1; // the child process, once sys_spawn is back
static uint8_t s_stack[STACK_SIZE] ALIGNED(16);

// The slots of the first handles are reused only once every slot has been
// used: open and close as many handles as there are slots, so that the
// handles made next have a generation above 0 in their number.
static void
age_the_table(void)
{
    for (int i = 0; i < CAPS_PER_PROCESS; i++) {
        int h = sys_endpoint_create();
        if (h < 0)
            break;
        sys_cap_close(h);
    }
}

// The server thread: answers the first call, then sleeps so that the second
// one waits queued as a sender, and kills the child before answering it.
static int
server(void *arg)
{
    (void)arg;
    struct ipc_words m;
    struct ipc_buf b = { NULL, 0, 0, 0 };
    int badge = sys_ipc_recv(s_ep, &m, &b);
    printf("gdb_caps_demo: call with badge %d, handle %d\n", badge, b.handle);
    sys_ipc_reply(m.reply, (unsigned)badge, 0, NULL);
    sys_sleep(3);
    b.handle = 0;
    sys_ipc_recv(s_ep, &m, &b);
    while (s_child < 0) // the main thread may not be back from spawn yet
        sys_yield();
    sys_kill(s_child);
    sys_wait(s_child, WAIT_FOREVER);
    printf("gdb_caps_demo: reply to a killed caller: %d\n", sys_ipc_reply(m.reply, 0, 0, NULL));
    return 0;
}

// The child: calls on its handle 1 (the badged endpoint), passing it along
// the first time; the second call never gets its answer.
static int
child(void)
{
    struct ipc_words reply;
    struct ipc_buf b = { NULL, 0, 0, 1 };
    printf("gdb_caps_demo: child's first call: %d\n", sys_ipc_call(1, 1, 0, &b, &reply));
    b.handle = 0;
    sys_ipc_call(1, 2, 0, &b, &reply);
    return 1;
}

int
main(void)
{
    struct cap_info first;
    if (sys_cap_info(1, &first) == 0 && first.type == CAP_TYPE_ENDPOINT)
        return child();
    age_the_table();
    s_ep = sys_endpoint_create();
    s_badged = sys_cap_dup(s_ep, CAP_SEND | CAP_GRANT, BADGE);
    int thread = thread_spawn(server, NULL, s_stack, sizeof s_stack);
    sys_sleep(3); // the server waits on the endpoint meanwhile
    s_child = sys_spawn(1, &s_badged, 1);
    printf("gdb_caps_demo: endpoint %d, badged %d, thread %d, child %d\n", s_ep, s_badged, thread,
           s_child);
    int code = sys_wait(thread, WAIT_FOREVER);
    printf("gdb_caps_demo: server %d, child %d\n", code, sys_wait(s_child, WAIT_FOREVER));
    return 0;
}
