// Capabilities as include/uapi/syscall.h states them: what a process starts
// with, dup, close, revoke, the table's limit, badges, handles passed in
// messages, what a process's end closes, kill and wait, and every error path.
// The other process is user/cap_child.c, an agent that makes the system calls
// this test asks for on its own handles (protocol in user/cap_child.h).
//
// Nothing here may hang: each call that can block runs in a helper thread
// that the main thread waits for with a time limit (struct pending).
#include "cap_child.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define THREAD_STACK  4096
#define PENDING_SLOTS 4
#define SLOT_AGENT    0             // the stack agent_report's thread runs on
#define SLOT_TIMED    3             // ipc_timed's; the tests' own threads use 1 and 2
#define BLOCK_TICKS   5             // time enough for a thread to block in the kernel
#define PROMPT_TICKS  (TICK_HZ / 2) // "at once", with room for a slow emulator
#define LONG_TICKS    (3 * TICK_HZ) // the longest anything that must end may take
#define SETTLE_TICKS  (2 * TICK_HZ)
#define AGENT_LOST    (-1000) // no report came: not any -errno

#define MODULE_RIGHTS   (CAP_SPAWN | CAP_GRANT) // what init gives a test (user/init.c)
#define ENDPOINT_RIGHTS (CAP_SEND | CAP_RECV | CAP_GRANT)
#define PROCESS_RIGHTS  (CAP_WAIT | CAP_KILL | CAP_GRANT)

// Builds a struct cap_cmd: CMD(.op = CAP_OP_INFO, .handle = 2).
#define CMD(...) ((struct cap_cmd){ __VA_ARGS__ })

static int s_child;                     // cap_child's module handle
static int s_initial[CAPS_PER_PROCESS]; // the handles this process started with
static int s_initial_count;
static struct sysinfo s_suite_start; // the kernel's counters before the first test

static uint8_t s_stacks[PENDING_SLOTS][THREAD_STACK] ALIGNED(16);

// ---- Blocking calls with a time limit -------------------------------------------------

enum pending_kind { P_SEND, P_CALL, P_RECV, P_REPLY_RECV, P_WAIT };

// One blocking call made by a helper thread, so that the main thread can
// watch it wait, make it end, and give up on it.
struct pending {
    enum pending_kind kind;
    int handle;             // the call's handle; closed to cut an IPC call short
    int endpoint;           // P_REPLY_RECV: the endpoint (handle: the reply)
    int stop;               // P_WAIT: a process killed to cut the wait short
    unsigned w0;            // sent (P_SEND, P_CALL); P_WAIT: the ticks
    struct ipc_buf buf;     // .handle: the handle to pass; then the one received
    struct ipc_words words; // what came back
    int result;
    int thread;
};

static int
pending_body(void *arg)
{
    struct pending *p = arg;
    switch (p->kind) {
    case P_SEND: p->result = sys_ipc_send(p->handle, p->w0, 0, &p->buf); break;
    case P_CALL: p->result = sys_ipc_call(p->handle, p->w0, 0, &p->buf, &p->words); break;
    case P_RECV: p->result = sys_ipc_recv(p->handle, &p->words, &p->buf); break;
    case P_REPLY_RECV:
        p->result = sys_ipc_reply_recv(p->handle, p->w0, 0, &p->buf, p->endpoint, &p->words);
        break;
    case P_WAIT: p->result = sys_wait(p->handle, p->w0); break;
    }
    return 0;
}

// Starts p's call in a thread running on stack `slot`.
static bool
pending_start(struct pending *p, unsigned slot)
{
    p->result = AGENT_LOST;
    p->thread = thread_spawn(pending_body, p, s_stacks[slot], THREAD_STACK);
    return UEXPECT_GT(p->thread, 0);
}

// pending_start, then time for the call to block.
static bool
pending_block(struct pending *p, unsigned slot)
{
    if (!pending_start(p, slot))
        return false;
    sys_sleep(BLOCK_TICKS);
    return true;
}

// Whether p's call has not ended yet.
static bool
pending_waiting(const struct pending *p)
{
    return sys_wait(p->thread, 0) == -ETIMEDOUT;
}

// Waits at most ticks for p's call to end; returns its result, or
// -ETIMEDOUT if it had to be cut short (by closing its handle).
static int
pending_stop(struct pending *p, unsigned ticks)
{
    bool late = sys_wait(p->thread, ticks) == -ETIMEDOUT;
    if (late) {
        if (p->kind == P_WAIT)
            sys_kill(p->stop);
        else
            sys_cap_close(p->handle);
        if (sys_wait(p->thread, LONG_TICKS) == -ETIMEDOUT) {
            // syscall.h: a wait through a handle that closes ends with -EBADF.
            // This one did not, and its stack cannot be used again while it
            // may still run.
            UFAIL("a call (kind %d) still waits after its handle %d closed; giving up", p->kind,
                  p->handle);
            sys_exit(2);
        }
    }
    sys_cap_close(p->thread);
    // A call that ended just as its handle closed counts as ended.
    return late && (p->kind == P_WAIT || p->result == -EBADF) ? -ETIMEDOUT : p->result;
}

// pending_stop, for a call that must end within ticks.
static int
pending_end(struct pending *p, unsigned ticks)
{
    int r = pending_stop(p, ticks);
    if (r == -ETIMEDOUT)
        UFAIL("a call (kind %d) on handle %d still waited after %u ticks", p->kind, p->handle,
              ticks);
    return r;
}

// Makes one IPC call that must not block for long; returns its result.
static int
ipc_timed(enum pending_kind kind, int handle, unsigned w0, int pass)
{
    struct pending p = { .kind = kind, .handle = handle, .w0 = w0, .buf.handle = pass };
    return pending_start(&p, SLOT_TIMED) ? pending_end(&p, LONG_TICKS) : AGENT_LOST;
}

// Sends through `sender` and receives through `receiver`, two handles to one
// endpoint; returns the badge the receiver was told.
static int
badge_seen(int sender, int receiver)
{
    struct pending send = { .kind = P_SEND, .handle = sender, .w0 = 0xBADE };
    struct pending recv = { .kind = P_RECV, .handle = receiver };
    if (!pending_start(&send, 1))
        return AGENT_LOST;
    int badge = pending_start(&recv, 2) ? pending_end(&recv, LONG_TICKS) : AGENT_LOST;
    UEXPECT_EQ(pending_end(&send, LONG_TICKS), 0);
    UEXPECT_UEQ(recv.words.w0, 0xBADE);
    return badge;
}

// ---- The agent -------------------------------------------------------------------------

struct agent {
    unsigned id;           // the badge of its control handle
    int proc;              // its process
    int ctl;               // our end of its control endpoint (all rights)
    int reply;             // the reply handle of its waiting report (0: none)
    int got;               // the handle its last report passed us (0: none)
    struct cap_report rep; // its last report
};

// Takes the agent's next report, which must come within LONG_TICKS.
static bool
agent_report(struct agent *a)
{
    // A copy of the control handle, so that giving up closes only the copy.
    struct pending p = { .kind = P_RECV,
                         .handle = sys_cap_dup(a->ctl, CAP_RECV, 0),
                         .buf = { &a->rep, 0, sizeof a->rep, 0 } };
    if (!UEXPECT_GT(p.handle, 0) || !pending_start(&p, SLOT_AGENT))
        return false;
    int badge = pending_stop(&p, LONG_TICKS);
    sys_cap_close(p.handle);
    if (badge == -ETIMEDOUT) {
        UFAIL("agent %u sent no report within %u ticks", a->id, LONG_TICKS);
        return false;
    }
    UEXPECT_EQ(badge, (int)a->id);
    UEXPECT_UEQ(p.buf.len, sizeof a->rep);
    a->reply = p.words.reply;
    a->got = p.buf.handle;
    return UEXPECT_GT(a->reply, 0);
}

// Answers the agent's waiting report with cmd, passing it `pass` (0: none).
static bool
agent_order_passing(struct agent *a, struct cap_cmd cmd, int pass)
{
    struct ipc_buf buf = { &cmd, sizeof cmd, 0, pass };
    if (!UEXPECT_GT(a->reply, 0))
        return false;
    int r = sys_ipc_reply(a->reply, 0, 0, &buf);
    a->reply = 0;
    return UEXPECT_EQ(r, 0);
}

static bool
agent_order(struct agent *a, struct cap_cmd cmd)
{
    return agent_order_passing(a, cmd, 0);
}

// Has the agent carry out cmd; returns its system call's result.
static int
agent_do(struct agent *a, struct cap_cmd cmd)
{
    if (!agent_order(a, cmd) || !agent_report(a))
        return AGENT_LOST;
    UEXPECT_UEQ(a->rep.op, cmd.op);
    return a->rep.result;
}

// The agent's sys_cap_info(handle); the answer in a->rep.info.
static int
agent_info(struct agent *a, int handle)
{
    return agent_do(a, CMD(.op = CAP_OP_INFO, .handle = handle));
}

// Starts cap_child as agent `id` with its control handle and then extra[0, n)
// (its handles 2 .. n + 1), and takes its first report.
static bool
agent_start(struct agent *a, unsigned id, const int *extra, unsigned n)
{
    int handles[SPAWN_HANDLES_MAX];
    memset(a, 0, sizeof *a);
    a->id = id;
    a->ctl = sys_endpoint_create();
    if (!UEXPECT_GT(a->ctl, 0) || !UEXPECT_LT(n, SPAWN_HANDLES_MAX))
        return false;
    handles[0] = sys_cap_dup(a->ctl, CAP_SEND | CAP_GRANT, id);
    if (n > 0)
        memcpy(handles + 1, extra, n * sizeof *extra);
    a->proc = sys_spawn(s_child, handles, n + 1);
    sys_cap_close(handles[0]); // the agent has its own copy
    if (!UEXPECT_GT(a->proc, 0))
        return false;
    return agent_report(a) && UEXPECT_UEQ(a->rep.op, CAP_OP_HELLO);
}

// Ends the agent if it still runs and closes every handle that names it;
// returns its exit code.
static int
agent_end(struct agent *a)
{
    int code = AGENT_LOST;
    if (a->proc > 0) {
        code = sys_wait(a->proc, 0);
        if (code == -ETIMEDOUT) {
            sys_kill(a->proc);
            code = sys_wait(a->proc, LONG_TICKS);
        }
        sys_cap_close(a->proc);
    }
    if (a->reply > 0)
        sys_cap_close(a->reply);
    if (a->got > 0)
        sys_cap_close(a->got);
    if (a->ctl > 0)
        sys_cap_close(a->ctl);
    memset(a, 0, sizeof *a);
    return code;
}

// ---- Small helpers ---------------------------------------------------------------------

// Checks what sys_cap_info says of handle.
static void
expect_info(int handle, unsigned type, unsigned rights, unsigned badge)
{
    struct cap_info info;
    if (!UEXPECT_EQ(sys_cap_info(handle, &info), 0))
        return;
    UEXPECT_UEQ(info.type, type);
    UEXPECT_UEQ(info.rights, rights);
    UEXPECT_UEQ(info.badge, badge);
}

// Checks what the agent's sys_cap_info says of its handle.
static void
expect_agent_info(struct agent *a, int handle, unsigned type, unsigned rights, unsigned badge)
{
    if (!UEXPECT_EQ(agent_info(a, handle), 0))
        return;
    UEXPECT_UEQ(a->rep.info.type, type);
    UEXPECT_UEQ(a->rep.info.rights, rights);
    UEXPECT_UEQ(a->rep.info.badge, badge);
}

// How many handles this process holds.
static int
open_count(void)
{
    int list[1];
    return sys_cap_list(list, 0);
}

// Whether h is open here.
static bool
is_open(int h)
{
    struct cap_info info;
    return sys_cap_info(h, &info) == 0;
}

static int
return_arg(void *arg)
{
    return (int)(uintptr_t)arg;
}

// Reads the kernel's counters once they have settled.
static void
counters(struct sysinfo *out)
{
    UEXPECT_TRUE(sysinfo_settled(out, SETTLE_TICKS));
}

// Checks that every handle, object, process and thread made since `before`
// is gone: an ended process is finished off by the reaper, so this waits a
// little for the figures to come back.
static void
expect_counters_back(const struct sysinfo *before)
{
    struct sysinfo now;
    unsigned start = sys_time();
    for (;;) {
        sysinfo_settled(&now, SETTLE_TICKS);
        if ((now.handles == before->handles && now.objects == before->objects &&
             now.processes == before->processes && now.threads == before->threads) ||
            sys_time() - start > SETTLE_TICKS)
            break;
        sys_sleep(1);
    }
    UEXPECT_UEQ(now.handles, before->handles);
    UEXPECT_UEQ(now.objects, before->objects);
    UEXPECT_UEQ(now.processes, before->processes);
    UEXPECT_UEQ(now.threads, before->threads);
}

// ---- What a process starts with --------------------------------------------------------

UTEST(starts_with_module_handles)
{
    int n = sys_cap_list(s_initial, CAPS_PER_PROCESS);
    UASSERT_GT(n, 0);
    UASSERT_(UEXPECT_LE(n, CAPS_PER_PROCESS));
    s_initial_count = n;
    for (int i = 0; i < n; i++) {
        struct cap_info info;
        UEXPECT_EQ(s_initial[i], i + 1); // 1 .. count, in the order passed
        if (!UEXPECT_EQ(sys_cap_info(s_initial[i], &info), 0))
            continue;
        UEXPECT_UEQ(info.type, CAP_TYPE_MODULE);
        UEXPECT_UEQ(info.rights, MODULE_RIGHTS);
        UEXPECT_UEQ(info.badge, 0);
        UEXPECT_GT(strnlen(info.name, sizeof info.name), 0);
        UEXPECT_LT(strnlen(info.name, sizeof info.name), sizeof info.name);
        // init passes the helpers, never the tests.
        if (!UEXPECT_NE(strncmp(info.name, "test_", 5), 0))
            utest_note("handle %d names %s", s_initial[i], info.name);
    }
    s_child = module_find("cap_child");
    UEXPECT_GT(s_child, 0);
    struct sysinfo info;
    UEXPECT_EQ(sys_sysinfo(&info), 0);
    UEXPECT_UGE(info.handles, (unsigned)n);
}

UTEST(module_names_are_distinct)
{
    for (int i = 0; i < s_initial_count; i++)
        for (int j = 0; j < i; j++) {
            struct cap_info a, b;
            if (sys_cap_info(s_initial[i], &a) == 0 && sys_cap_info(s_initial[j], &b) == 0 &&
                !UEXPECT_NE(strncmp(a.name, b.name, sizeof a.name), 0))
                utest_note("handles %d and %d both name %s", s_initial[j], s_initial[i], a.name);
        }
}

UTEST(cap_list_stores_at_most_max)
{
    int list[4] = { -7, -7, -7, -7 };
    UEXPECT_EQ(sys_cap_list(list, 0), s_initial_count);
    UEXPECT_EQ(list[0], -7);
    UEXPECT_EQ(sys_cap_list(list, 1), s_initial_count);
    UEXPECT_EQ(list[0], 1);
    UEXPECT_EQ(list[1], -7);
    UEXPECT_EQ(sys_cap_list((int *)0xC0000000u, 4), -EFAULT);
    struct cap_info *kernel = (struct cap_info *)0xC0100000u;
    UEXPECT_EQ(sys_cap_info(1, kernel), -EFAULT);
}

// Numbers that were never handles here: every call that takes a handle says
// -EBADF, the same for all.
UTEST(unopened_numbers_are_ebadf)
{
    const int numbers[] = { 0,
                            -1,
                            -2,
                            s_initial_count + 1,
                            s_initial_count + 2,
                            CAPS_PER_PROCESS - 1,
                            CAPS_PER_PROCESS,
                            CAPS_PER_PROCESS + 1,
                            0x101,
                            0x10001,
                            0x1000001,
                            0x40000001,
                            0x7FFFFFFF,
                            (int)0x80000001u };
    for (unsigned i = 0; i < ARRAY_SIZE(numbers); i++) {
        int h = numbers[i];
        struct cap_info info;
        if (h > 0 && h <= s_initial_count)
            continue;
        if (!UEXPECT_EQ(sys_cap_info(h, &info), -EBADF))
            utest_note("handle %d", h);
        UEXPECT_EQ(sys_cap_dup(h, CAP_RIGHTS_ALL, 0), -EBADF);
        UEXPECT_EQ(sys_cap_close(h), -EBADF);
        UEXPECT_EQ(sys_cap_revoke(h), -EBADF);
        UEXPECT_EQ(ipc_timed(P_SEND, h, 0, 0), -EBADF);
        UEXPECT_EQ(ipc_timed(P_CALL, h, 0, 0), -EBADF);
        UEXPECT_EQ(ipc_timed(P_RECV, h, 0, 0), -EBADF);
        UEXPECT_EQ(sys_ipc_reply(h, 0, 0, NULL), -EBADF);
        UEXPECT_EQ(sys_spawn(h, NULL, 0), -EBADF);
        UEXPECT_EQ(sys_wait(h, 0), -EBADF);
        UEXPECT_EQ(sys_kill(h), -EBADF);
    }
    UEXPECT_EQ(open_count(), s_initial_count);
}

UTEST(child_starts_with_what_it_was_passed)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    const int passed[] = {
        sys_cap_dup(s_child, MODULE_RIGHTS, 0),
        sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0),
        sys_cap_dup(e, CAP_SEND | CAP_GRANT, 77),
        sys_cap_dup(s_child, CAP_GRANT, 0),
    };
    static const struct {
        unsigned type, rights, badge;
    } want[] = {
        { CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 21 }, // its control handle
        { CAP_TYPE_MODULE, MODULE_RIGHTS, 0 },
        { CAP_TYPE_ENDPOINT, CAP_RECV | CAP_GRANT, 0 },
        { CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 77 },
        { CAP_TYPE_MODULE, CAP_GRANT, 0 },
    };
    struct agent a;
    if (agent_start(&a, 21, passed, ARRAY_SIZE(passed)) &&
        UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_LIST)), (int)ARRAY_SIZE(want))) {
        for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
            UEXPECT_EQ(a.rep.list[i], (int)i + 1);
        for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
            expect_agent_info(&a, (int)i + 1, want[i].type, want[i].rights, want[i].badge);
        UEXPECT_EQ(agent_info(&a, 2), 0);
        UEXPECT_STREQ(a.rep.info.name, "cap_child");
        // Nothing else: numbers mean nothing from one process to another.
        UEXPECT_EQ(agent_info(&a, (int)ARRAY_SIZE(want) + 1), -EBADF);
        UEXPECT_EQ(agent_info(&a, 0), -EBADF);
        if (e > (int)ARRAY_SIZE(want))
            UEXPECT_EQ(agent_info(&a, e), -EBADF);
    }
    // What the spawn gave back.
    expect_info(a.proc, CAP_TYPE_PROCESS, PROCESS_RIGHTS, 0);
    struct cap_info info;
    if (sys_cap_info(a.proc, &info) == 0)
        utest_note("a process handle: name \"%s\", base %u", info.name, info.base);
    agent_end(&a);
    for (unsigned i = 0; i < ARRAY_SIZE(passed); i++)
        UEXPECT_EQ(sys_cap_close(passed[i]), 0);
    UEXPECT_EQ(sys_cap_close(e), 0);
}

UTEST(child_passed_nothing_has_nothing)
{
    int p = sys_spawn(s_child, NULL, 0);
    UASSERT_GT(p, 0);
    // Its call on handle 1 fails, and it says so in its exit code.
    UEXPECT_EQ(sys_wait(p, LONG_TICKS), CAP_CHILD_LOST + EBADF);
    UEXPECT_EQ(sys_cap_close(p), 0);
}

UTEST(spawn_errors)
{
    static int many[SPAWN_HANDLES_MAX + 1];
    int e = sys_endpoint_create();
    int no_grant = sys_cap_dup(e, CAP_SEND, 0);
    int closed = sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0);
    int no_spawn = sys_cap_dup(s_child, CAP_GRANT, 0);
    int thread = thread_spawn(return_arg, NULL, s_stacks[1], THREAD_STACK);
    UASSERT_GT(thread, 0);
    UEXPECT_EQ(sys_wait(thread, LONG_TICKS), 0);
    UEXPECT_EQ(sys_cap_close(closed), 0);
    for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = e;
    const int two[] = { e, no_grant };
    struct sysinfo before, after;
    counters(&before);

    UEXPECT_EQ(sys_spawn(s_child, &no_grant, 1), -EPERM);
    UEXPECT_EQ(sys_spawn(s_child, &thread, 1), -EPERM); // a thread handle: CAP_WAIT only
    UEXPECT_EQ(sys_spawn(s_child, two, 2), -EPERM);     // one handle spoils the lot
    UEXPECT_EQ(sys_spawn(s_child, &closed, 1), -EBADF);
    UEXPECT_EQ(sys_spawn(no_spawn, &e, 1), -EPERM);
    UEXPECT_EQ(sys_spawn(e, NULL, 0), -EBADF); // an endpoint is no module
    UEXPECT_EQ(sys_spawn(thread, NULL, 0), -EBADF);
    UEXPECT_EQ(sys_spawn(s_child, (const int *)0xC0000000u, 1), -EFAULT);
    int r = sys_spawn(s_child, many, SPAWN_HANDLES_MAX + 1);
    if (!UEXPECT_LT(r, 0) && r > 0)
        sys_cap_close(r);
    utest_note("%u handles to pass: %d", SPAWN_HANDLES_MAX + 1, r);

    // None of them started anything or left a handle behind.
    counters(&after);
    UEXPECT_UEQ(after.processes, before.processes);
    UEXPECT_UEQ(after.handles, before.handles);
    UEXPECT_UEQ(after.objects, before.objects);
    sys_cap_close(thread);
    sys_cap_close(no_spawn);
    sys_cap_close(no_grant);
    sys_cap_close(e);
}

// ---- Dup ---------------------------------------------------------------------------------

UTEST(endpoint_create_gives_every_endpoint_right)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    expect_info(e, CAP_TYPE_ENDPOINT, ENDPOINT_RIGHTS, 0);
    UEXPECT_EQ(sys_cap_close(e), 0);
}

// An endpoint's cap_info base tells endpoints apart: the same through every
// handle to it, never the same for two, even after one is gone.
UTEST(endpoint_base_names_the_endpoint)
{
    int e = sys_endpoint_create(), f = sys_endpoint_create();
    UASSERT_GT(e, 0);
    UASSERT_GT(f, 0);
    int dup = sys_cap_dup(e, CAP_SEND, 3);
    struct cap_info ie, idup, iff, ig;
    UEXPECT_EQ(sys_cap_info(e, &ie), 0);
    UEXPECT_EQ(sys_cap_info(dup, &idup), 0);
    UEXPECT_EQ(sys_cap_info(f, &iff), 0);
    UEXPECT_UEQ(idup.base, ie.base);
    UEXPECT_UNE(iff.base, ie.base);
    UEXPECT_EQ(sys_cap_close(dup), 0);
    UEXPECT_EQ(sys_cap_close(e), 0);
    // e's endpoint is gone; the next one, likely in its slot, is another.
    int g = sys_endpoint_create();
    UEXPECT_EQ(sys_cap_info(g, &ig), 0);
    UEXPECT_UNE(ig.base, ie.base);
    UEXPECT_UNE(ig.base, iff.base);
    sys_cap_close(g);
    sys_cap_close(f);
}

UTEST(dup_rights_only_shrink)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int send = sys_cap_dup(e, CAP_SEND, 0);
    int send_all = sys_cap_dup(send, CAP_RIGHTS_ALL, 0);
    int every = sys_cap_dup(e, 0xFFFFFFFFu, 0);
    int none = sys_cap_dup(e, 0, 0);
    int none_send = sys_cap_dup(none, CAP_SEND, 0);
    int recv = sys_cap_dup(e, CAP_RECV, 0);
    int module = sys_cap_dup(s_child, CAP_RIGHTS_ALL, 0);
    expect_info(send, CAP_TYPE_ENDPOINT, CAP_SEND, 0);
    expect_info(send_all, CAP_TYPE_ENDPOINT, CAP_SEND, 0);
    expect_info(every, CAP_TYPE_ENDPOINT, ENDPOINT_RIGHTS, 0);
    expect_info(none, CAP_TYPE_ENDPOINT, 0, 0);
    expect_info(none_send, CAP_TYPE_ENDPOINT, 0, 0);
    expect_info(recv, CAP_TYPE_ENDPOINT, CAP_RECV, 0);
    expect_info(module, CAP_TYPE_MODULE, MODULE_RIGHTS, 0);
    // Each use checks its right, before anything waits.
    UEXPECT_EQ(ipc_timed(P_SEND, none_send, 1, 0), -EPERM);
    UEXPECT_EQ(ipc_timed(P_CALL, recv, 1, 0), -EPERM);
    UEXPECT_EQ(ipc_timed(P_SEND, recv, 1, 0), -EPERM);
    UEXPECT_EQ(ipc_timed(P_RECV, send_all, 0, 0), -EPERM);
    UEXPECT_EQ(ipc_timed(P_RECV, none, 0, 0), -EPERM);
    const int all[] = { send, send_all, every, none, none_send, recv, module, e };
    for (unsigned i = 0; i < ARRAY_SIZE(all); i++)
        UEXPECT_EQ(sys_cap_close(all[i]), 0);
}

UTEST(dup_badges_once)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int five = sys_cap_dup(e, CAP_SEND, 5);
    int still_five = sys_cap_dup(five, CAP_SEND, 0);
    int max = sys_cap_dup(e, CAP_SEND, BADGE_MAX);
    expect_info(five, CAP_TYPE_ENDPOINT, CAP_SEND, 5);
    expect_info(still_five, CAP_TYPE_ENDPOINT, CAP_SEND, 5);
    expect_info(max, CAP_TYPE_ENDPOINT, CAP_SEND, BADGE_MAX);
    int open = open_count();
    UEXPECT_EQ(sys_cap_dup(five, CAP_SEND, 6), -EPERM);
    UEXPECT_EQ(sys_cap_dup(five, CAP_SEND, 5), -EPERM);
    UEXPECT_EQ(sys_cap_dup(e, CAP_SEND, BADGE_MAX + 1), -EINVAL);
    UEXPECT_EQ(sys_cap_dup(e, CAP_SEND, 0xFFFFFFFFu), -EINVAL);
    UEXPECT_EQ(open_count(), open); // the refusals made nothing
    // The receiver is told the badge of the handle the sender used.
    UEXPECT_EQ(badge_seen(e, e), 0);
    UEXPECT_EQ(badge_seen(five, e), 5);
    UEXPECT_EQ(badge_seen(still_five, e), 5);
    UEXPECT_EQ(badge_seen(max, e), (int)BADGE_MAX);
    const int all[] = { five, still_five, max, e };
    for (unsigned i = 0; i < ARRAY_SIZE(all); i++)
        UEXPECT_EQ(sys_cap_close(all[i]), 0);
}

UTEST(dup_is_derived)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int d1 = sys_cap_dup(e, ENDPOINT_RIGHTS, 0);
    int d2 = sys_cap_dup(d1, CAP_SEND, 0);
    int d3 = sys_cap_dup(e, CAP_SEND, 9);
    UEXPECT_EQ(sys_cap_revoke(d1), 1); // d2
    UEXPECT_FALSE(is_open(d2));
    UEXPECT_TRUE(is_open(d1));
    UEXPECT_EQ(sys_cap_revoke(e), 2); // d1, d3
    UEXPECT_FALSE(is_open(d1));
    UEXPECT_FALSE(is_open(d3));
    UEXPECT_TRUE(is_open(e));
    UEXPECT_EQ(sys_cap_revoke(e), 0);
    // A dup of a dup stays derived from the first when the middle one closes.
    int m = sys_cap_dup(e, CAP_SEND, 0);
    int last = sys_cap_dup(m, CAP_SEND, 0);
    UEXPECT_EQ(sys_cap_close(m), 0);
    UEXPECT_EQ(sys_cap_revoke(e), 1);
    UEXPECT_FALSE(is_open(last));
    UEXPECT_EQ(sys_cap_close(e), 0);
}

// ---- Close -------------------------------------------------------------------------------

UTEST(closed_handle_is_ebadf)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int send = sys_cap_dup(e, CAP_SEND, 0);
    struct cap_info info;
    UEXPECT_EQ(sys_cap_close(e), 0);
    UEXPECT_EQ(sys_cap_close(e), -EBADF);
    UEXPECT_EQ(sys_cap_info(e, &info), -EBADF);
    UEXPECT_EQ(sys_cap_dup(e, CAP_SEND, 0), -EBADF);
    UEXPECT_EQ(sys_cap_revoke(e), -EBADF);
    UEXPECT_EQ(ipc_timed(P_SEND, e, 1, 0), -EBADF);
    UEXPECT_EQ(ipc_timed(P_CALL, e, 1, 0), -EBADF);
    UEXPECT_EQ(ipc_timed(P_RECV, e, 0, 0), -EBADF);
    // Only that handle closed.
    expect_info(send, CAP_TYPE_ENDPOINT, CAP_SEND, 0);
    UEXPECT_EQ(sys_cap_close(send), 0);
}

// More handles open and close than the table has slots, so slots are used
// again; no closed number ever names anything again.
UTEST(closed_numbers_stay_dead)
{
    static int dead[3 * CAPS_PER_PROCESS];
    unsigned n = 0;
    for (; n < ARRAY_SIZE(dead); n++) {
        // Endpoints and modules by turns: a number must not come back as another kind either.
        int h = n % 2 ? sys_endpoint_create() : sys_cap_dup(s_child, CAP_SPAWN, 0);
        if (!UEXPECT_GT(h, 0))
            break;
        for (unsigned i = 0; i < n; i++)
            if (dead[i] == h) {
                UFAIL("handle %d came back after it was closed (%u opens later)", h, n - i);
                break;
            }
        UEXPECT_EQ(sys_cap_close(h), 0);
        dead[n] = h;
    }
    int live = sys_endpoint_create();
    UEXPECT_GT(live, 0);
    for (unsigned i = 0; i < n; i++) {
        struct cap_info info;
        UEXPECT_NE(dead[i], live);
        if (!UEXPECT_EQ(sys_cap_info(dead[i], &info), -EBADF))
            break;
    }
    // The last dead numbers, with live handles of both kinds about.
    UEXPECT_EQ(ipc_timed(P_SEND, dead[n - 1], 1, 0), -EBADF);
    UEXPECT_EQ(sys_spawn(dead[n - 2], NULL, 0), -EBADF);
    UEXPECT_EQ(sys_cap_close(live), 0);
}

UTEST(reply_handle_is_one_shot)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    struct pending call = { .kind = P_CALL, .handle = e, .w0 = 3 };
    struct pending recv = { .kind = P_RECV, .handle = e };
    UASSERT_TRUE(pending_block(&call, 1));
    UASSERT_TRUE(pending_start(&recv, 2));
    UEXPECT_EQ(pending_end(&recv, LONG_TICKS), 0);
    UEXPECT_UEQ(recv.words.w0, 3);
    int reply = recv.words.reply;
    UASSERT_GT(reply, 0);
    struct cap_info info;
    if (UEXPECT_EQ(sys_cap_info(reply, &info), 0)) {
        UEXPECT_UEQ(info.type, CAP_TYPE_REPLY);
        utest_note("a reply handle: rights %#x, badge %u", info.rights, info.badge);
    }
    // It is only a reply handle, and an endpoint is none.
    UEXPECT_EQ(ipc_timed(P_SEND, reply, 1, 0), -EBADF);
    UEXPECT_EQ(ipc_timed(P_RECV, reply, 0, 0), -EBADF);
    UEXPECT_EQ(sys_wait(reply, 0), -EBADF);
    UEXPECT_EQ(sys_ipc_reply(e, 1, 2, NULL), -EBADF);
    // One answer: no copies of it, here or elsewhere (it has no CAP_GRANT).
    int copy = sys_cap_dup(reply, 0, 0);
    if (!UEXPECT_EQ(copy, -EPERM) && copy > 0)
        sys_cap_close(copy);
    UEXPECT_EQ(ipc_timed(P_SEND, e, 1, reply), -EPERM);
    UEXPECT_TRUE(pending_waiting(&call));
    UEXPECT_EQ(sys_ipc_reply(reply, 4, 5, NULL), 0);
    UEXPECT_EQ(pending_end(&call, LONG_TICKS), 0);
    UEXPECT_UEQ(call.words.w0, 4);
    UEXPECT_UEQ(call.words.w1, 5);
    // Once.
    UEXPECT_EQ(sys_ipc_reply(reply, 4, 5, NULL), -EBADF);
    UEXPECT_FALSE(is_open(reply));

    // Closing a reply handle drops the call.
    struct pending dropped = { .kind = P_CALL, .handle = e, .w0 = 6 };
    UASSERT_TRUE(pending_block(&dropped, 1));
    recv = (struct pending){ .kind = P_RECV, .handle = e };
    UASSERT_TRUE(pending_start(&recv, 2));
    UEXPECT_EQ(pending_end(&recv, LONG_TICKS), 0);
    UEXPECT_EQ(sys_cap_close(recv.words.reply), 0);
    UEXPECT_EQ(pending_end(&dropped, PROMPT_TICKS), -EPIPE);
    UEXPECT_EQ(sys_cap_close(e), 0);
}

// ---- The table's limit -------------------------------------------------------------------

UTEST(table_fills_to_emfile)
{
    static int made[CAPS_PER_PROCESS];
    struct sysinfo before, full;
    counters(&before);
    int open = open_count(), n = 0, r = 0;
    while (n < CAPS_PER_PROCESS && (r = sys_endpoint_create()) > 0)
        made[n++] = r;
    UEXPECT_EQ(r, -EMFILE);
    UEXPECT_EQ(open + n, CAPS_PER_PROCESS);
    // Everything that would make a handle is refused, and makes nothing.
    UEXPECT_EQ(sys_endpoint_create(), -EMFILE);
    UEXPECT_EQ(sys_cap_dup(s_child, CAP_SPAWN, 0), -EMFILE);
    UEXPECT_EQ(sys_spawn(s_child, NULL, 0), -EMFILE);
    UEXPECT_EQ(thread_spawn(return_arg, NULL, s_stacks[2], THREAD_STACK), -EMFILE);
    UEXPECT_EQ(sys_sysinfo(&full), 0);
    UEXPECT_UEQ(full.processes, before.processes);
    UEXPECT_UEQ(full.threads, before.threads);
    UEXPECT_UEQ(full.handles, before.handles + (unsigned)n);
    UEXPECT_UEQ(full.objects, before.objects + (unsigned)n);
    // Nothing was lost.
    static int list[CAPS_PER_PROCESS];
    UEXPECT_EQ(sys_cap_list(list, CAPS_PER_PROCESS), CAPS_PER_PROCESS);
    for (int i = 0; i < CAPS_PER_PROCESS; i++)
        if (!UEXPECT_TRUE(is_open(list[i])) || !UEXPECT_EQ(list[i] & 0xFF, i + 1))
            break; // in slot order, every slot used
    UEXPECT_EQ(module_find("cap_child"), s_child);
    // And everything closes again.
    for (int i = 0; i < n; i++)
        UEXPECT_EQ(sys_cap_close(made[i]), 0);
    UEXPECT_EQ(open_count(), open);
    expect_counters_back(&before);
    int again = sys_endpoint_create();
    UEXPECT_GT(again, 0);
    sys_cap_close(again);
}

// syscall.h does not say what happens when a receiver's table has no room
// for the reply handle of a call or for a handle passed; this checks what the
// kernel does (kernel/syscall/ipc.c, ipc_deliver).  A receive that finds such
// a message queued: the receiver hears -EMFILE, the message stays queued with
// its sender waiting, and once there is room it is delivered whole.
UTEST(receive_with_a_full_table)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    const int given[] = { sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0),
                          sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0) };
    int module = sys_cap_dup(s_child, CAP_SPAWN | CAP_GRANT, 0);
    struct agent a;
    struct pending p;
    if (!agent_start(&a, 22, given, 2))
        goto out;
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_FILL)), CAPS_PER_PROCESS - 3);
    UEXPECT_EQ((int)a.rep.w0, -EMFILE);

    // A call: the receiver needs a slot for its reply handle.
    utest_context("call");
    p = (struct pending){ .kind = P_CALL, .handle = e, .w0 = 11 };
    if (!pending_block(&p, 1))
        goto out;
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), -EMFILE);
    UEXPECT_TRUE(pending_waiting(&p));
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_UNFILL, .a = 1)), 1);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), 0);
    UEXPECT_UEQ(a.rep.w0, 11);
    UEXPECT_GT(a.rep.reply, 0);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_REPLY, .handle = a.rep.reply, .a = 12)), 0);
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);
    UEXPECT_UEQ(p.words.w0, 12);

    // A send passing a handle: a slot for that.
    utest_context("send passing a handle");
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_FILL)), 1);
    p = (struct pending){ .kind = P_SEND, .handle = e, .w0 = 13, .buf.handle = module };
    if (!pending_block(&p, 1))
        goto out;
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), -EMFILE);
    UEXPECT_TRUE(pending_waiting(&p));
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_UNFILL, .a = 1)), 1);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), 0);
    UEXPECT_UEQ(a.rep.w0, 13);
    int got = a.rep.handle;
    UEXPECT_GT(got, 0);
    expect_agent_info(&a, got, CAP_TYPE_MODULE, CAP_SPAWN | CAP_GRANT, 0);
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);

    // A call passing a handle needs two slots; one is not enough.
    utest_context("call passing a handle");
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_CLOSE, .handle = got)), 0);
    p = (struct pending){ .kind = P_CALL, .handle = e, .w0 = 14, .buf.handle = module };
    if (!pending_block(&p, 1))
        goto out;
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), -EMFILE);
    UEXPECT_TRUE(pending_waiting(&p));
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_UNFILL, .a = 1)), 1);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), 0);
    UEXPECT_UEQ(a.rep.w0, 14);
    UEXPECT_GT(a.rep.handle, 0);
    UEXPECT_GT(a.rep.reply, 0);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_REPLY, .handle = a.rep.reply, .a = 15)), 0);
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);
    UEXPECT_UEQ(p.words.w0, 15);

    // The receiver already waits when such a message comes: both hear -EMFILE,
    // and nothing arrives.
    utest_context("receiver waiting");
    // Full again: the reply handle it answered with had freed a slot.
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_FILL)), 1);
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    sys_sleep(BLOCK_TICKS);
    UEXPECT_EQ(ipc_timed(P_SEND, e, 16, module), -EMFILE);
    if (agent_report(&a))
        UEXPECT_EQ(a.rep.result, -EMFILE);
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    sys_sleep(BLOCK_TICKS);
    UEXPECT_EQ(ipc_timed(P_CALL, e, 17, 0), -EMFILE);
    if (agent_report(&a))
        UEXPECT_EQ(a.rep.result, -EMFILE);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_LIST)), CAPS_PER_PROCESS);

    // A reply passing a handle to a caller with a full table: the call ends
    // with -EMFILE on both sides.  Without a handle it needs no room.
    utest_context("reply to a full caller");
    agent_order(&a, CMD(.op = CAP_OP_CALL, .handle = 3, .a = 18));
    p = (struct pending){ .kind = P_RECV, .handle = e };
    if (!pending_start(&p, 1))
        goto out;
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);
    UEXPECT_UEQ(p.words.w0, 18);
    struct ipc_buf passing = { NULL, 0, 0, module };
    UEXPECT_EQ(sys_ipc_reply(p.words.reply, 19, 0, &passing), -EMFILE);
    UEXPECT_FALSE(is_open(p.words.reply));
    if (agent_report(&a)) {
        UEXPECT_EQ(a.rep.result, -EMFILE);
        UEXPECT_EQ(a.rep.handle, 0);
    }
    agent_order(&a, CMD(.op = CAP_OP_CALL, .handle = 3, .a = 20));
    p = (struct pending){ .kind = P_RECV, .handle = e };
    if (!pending_start(&p, 1))
        goto out;
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);
    UEXPECT_EQ(sys_ipc_reply(p.words.reply, 21, 0, NULL), 0);
    if (agent_report(&a)) {
        UEXPECT_EQ(a.rep.result, 0);
        UEXPECT_UEQ(a.rep.w0, 21);
    }
out:
    agent_end(&a);
    sys_cap_close(module);
    sys_cap_close(given[0]);
    sys_cap_close(given[1]);
    sys_cap_close(e);
}

// ---- Badges ------------------------------------------------------------------------------

// Two agents send to one endpoint through differently badged handles, and
// this process through an unbadged one: each message comes with its badge.
UTEST(badges_identify_clients)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int to_a = sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0xA1);
    int to_b = sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0xB2);
    struct agent a, b;
    bool started = agent_start(&a, 23, &to_a, 1) & agent_start(&b, 24, &to_b, 1);
    sys_cap_close(to_a);
    sys_cap_close(to_b);
    if (!started)
        goto out;
    agent_order(&a, CMD(.op = CAP_OP_SEND, .handle = 2, .a = 0xA));
    agent_order(&b, CMD(.op = CAP_OP_SEND, .handle = 2, .a = 0xB));
    struct pending self = { .kind = P_SEND, .handle = e, .w0 = 0xC };
    if (!pending_block(&self, 1))
        goto out;
    static const struct {
        unsigned w0;
        int badge;
    } want[] = {
        { 0xA, 0xA1 },
        { 0xB, 0xB2 },
        { 0xC, 0 },
    };
    unsigned seen = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
        struct pending recv = { .kind = P_RECV, .handle = e };
        if (!pending_start(&recv, 2))
            goto out;
        int badge = pending_end(&recv, LONG_TICKS);
        for (unsigned k = 0; k < ARRAY_SIZE(want); k++)
            if (recv.words.w0 == want[k].w0) {
                if (!UEXPECT_EQ(badge, want[k].badge))
                    utest_note("message %#x", want[k].w0);
                seen |= 1u << k;
            }
    }
    UEXPECT_UEQ(seen, 7);
    UEXPECT_TRUE(agent_report(&a) && UEXPECT_EQ(a.rep.result, 0));
    UEXPECT_TRUE(agent_report(&b) && UEXPECT_EQ(b.rep.result, 0));
    UEXPECT_EQ(pending_end(&self, LONG_TICKS), 0);
    // A client cannot change its badge; its dups keep it.
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_DUP, .handle = 2, .a = CAP_SEND, .b = 0xB2)), -EPERM);
    int dup = agent_do(&a, CMD(.op = CAP_OP_DUP, .handle = 2, .a = CAP_SEND));
    UEXPECT_GT(dup, 0);
    expect_agent_info(&a, dup, CAP_TYPE_ENDPOINT, CAP_SEND, 0xA1);
out:
    agent_end(&a);
    agent_end(&b);
    sys_cap_close(e);
}

// ---- Passing handles ---------------------------------------------------------------------

UTEST(passed_handle_arrives_derived)
{
    int e = sys_endpoint_create();
    int g = sys_endpoint_create();
    UASSERT_GT(e, 0);
    UASSERT_GT(g, 0);
    int recv = sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0);
    int passed = sys_cap_dup(g, CAP_SEND | CAP_GRANT, 42);
    struct agent a;
    if (!agent_start(&a, 25, &recv, 1))
        goto out;
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    UEXPECT_EQ(ipc_timed(P_SEND, e, 1, passed), 0);
    if (!agent_report(&a))
        goto out;
    UEXPECT_EQ(a.rep.result, 0);
    UEXPECT_UEQ(a.rep.w0, 1);
    int h = a.rep.handle;
    UEXPECT_GT(h, 2);
    expect_agent_info(&a, h, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 42);
    // A copy: ours stays, and names the same endpoint.
    expect_info(passed, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 42);
    struct cap_info ours;
    if (UEXPECT_EQ(sys_cap_info(passed, &ours), 0))
        UEXPECT_UEQ(a.rep.info.base, ours.base);
    // It works: the agent sends on it and we hear the badge.
    agent_order(&a, CMD(.op = CAP_OP_SEND, .handle = h, .a = 7));
    struct pending p = { .kind = P_RECV, .handle = g };
    if (!pending_start(&p, 1))
        goto out;
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 42);
    UEXPECT_UEQ(p.words.w0, 7);
    UEXPECT_TRUE(agent_report(&a) && UEXPECT_EQ(a.rep.result, 0));
    // Derived from ours.
    UEXPECT_EQ(sys_cap_revoke(passed), 1);
    UEXPECT_EQ(agent_info(&a, h), -EBADF);

    // With a reply, the handle needs CAP_GRANT only on itself.
    UEXPECT_TRUE(agent_order_passing(&a, CMD(.op = CAP_OP_LIST), passed) && agent_report(&a));
    h = a.rep.got;
    UEXPECT_GT(h, 2);
    expect_agent_info(&a, h, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 42);

    // And back, with the agent's call: an endpoint it made.
    int made = agent_do(&a, CMD(.op = CAP_OP_CREATE));
    UEXPECT_GT(made, 0);
    // Its control handle, recv, the handle from the reply and the new one.
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_LIST, .give = made)), 4);
    UEXPECT_GT(a.got, 0);
    expect_info(a.got, CAP_TYPE_ENDPOINT, ENDPOINT_RIGHTS, 0);
out:
    agent_end(&a);
    sys_cap_close(passed);
    sys_cap_close(recv);
    sys_cap_close(g);
    sys_cap_close(e);
}

// A message that cannot pass its handle is refused whole: nothing arrives.
UTEST(passing_needs_cap_grant)
{
    int e = sys_endpoint_create();
    int g = sys_endpoint_create();
    UASSERT_GT(e, 0);
    UASSERT_GT(g, 0);
    const int handles[] = { sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0),
                            sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0) };
    int no_grant = sys_cap_dup(g, CAP_SEND, 0);
    int grant = sys_cap_dup(g, CAP_SEND | CAP_GRANT, 0);
    int e_no_grant = sys_cap_dup(e, CAP_SEND, 0);
    int closed = sys_cap_dup(g, CAP_SEND | CAP_GRANT, 0);
    sys_cap_close(closed);
    struct agent a;
    if (!agent_start(&a, 26, handles, 2))
        goto out;
    int before = agent_do(&a, CMD(.op = CAP_OP_LIST));
    UEXPECT_EQ(before, 3);
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    sys_sleep(BLOCK_TICKS);
    UEXPECT_EQ(ipc_timed(P_SEND, e, 1, no_grant), -EPERM); // the handle lacks it
    UEXPECT_EQ(ipc_timed(P_CALL, e, 2, no_grant), -EPERM);
    UEXPECT_EQ(ipc_timed(P_SEND, e_no_grant, 3, grant), -EPERM); // the endpoint lacks it
    UEXPECT_EQ(ipc_timed(P_CALL, e_no_grant, 4, grant), -EPERM);
    UEXPECT_EQ(ipc_timed(P_SEND, e, 5, closed), -EBADF);
    UEXPECT_EQ(ipc_timed(P_SEND, e, 6, 0), 0);
    if (!agent_report(&a))
        goto out;
    UEXPECT_EQ(a.rep.result, 0);
    UEXPECT_UEQ(a.rep.w0, 6); // the first message that got through
    UEXPECT_EQ(a.rep.handle, 0);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_LIST)), before);

    // A reply: CAP_GRANT on the handle, none needed on the endpoint.
    int plain = agent_do(&a, CMD(.op = CAP_OP_DUP, .handle = 3, .a = CAP_SEND));
    UEXPECT_GT(plain, 0);
    agent_order(&a, CMD(.op = CAP_OP_CALL, .handle = plain, .a = 7));
    struct pending p = { .kind = P_RECV, .handle = e };
    if (!pending_start(&p, 1))
        goto out;
    UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);
    int reply = p.words.reply;
    struct ipc_buf without = { NULL, 0, 0, no_grant }, with = { NULL, 0, 0, grant };
    struct ipc_buf stale = { NULL, 0, 0, closed };
    UEXPECT_EQ(sys_ipc_reply(reply, 8, 0, &without), -EPERM);
    UEXPECT_EQ(sys_ipc_reply(reply, 8, 0, &stale), -EBADF);
    // Refused on this side: the reply handle stays, for the answer the call still waits for.
    UEXPECT_TRUE(is_open(reply));
    UEXPECT_EQ(sys_ipc_reply(reply, 9, 0, &with), 0);
    if (!agent_report(&a))
        goto out;
    UEXPECT_EQ(a.rep.result, 0);
    UEXPECT_UEQ(a.rep.w0, 9);
    UEXPECT_GT(a.rep.handle, 0);
    expect_agent_info(&a, a.rep.handle, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 0);
out:
    agent_end(&a);
    const int all[] = { handles[0], handles[1], no_grant, grant, e_no_grant, g, e };
    for (unsigned i = 0; i < ARRAY_SIZE(all); i++)
        UEXPECT_EQ(sys_cap_close(all[i]), 0);
}

// ---- Revocation --------------------------------------------------------------------------

// Revokes `handle`, which the agent is blocked on, and checks that the agent's
// call ends at once with -EBADF.
static void
expect_revoke_ends_block(struct agent *a, int handle, unsigned op)
{
    sys_sleep(2 * BLOCK_TICKS);
    unsigned start = sys_time();
    UEXPECT_EQ(sys_cap_revoke(handle), 1);
    if (!agent_report(a))
        return;
    UEXPECT_ULT(sys_time() - start, PROMPT_TICKS);
    UEXPECT_UEQ(a->rep.op, op);
    UEXPECT_EQ(a->rep.result, -EBADF);
    // It had been waiting until then (not refused at once).
    UEXPECT_UGE(a->rep.ticks, BLOCK_TICKS);
}

UTEST(revoke_handles_given_at_spawn)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    const int given[] = { sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0),
                          sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0) };
    struct agent a;
    if (!agent_start(&a, 27, given, 2))
        goto out;
    utest_context("recv");
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    expect_revoke_ends_block(&a, given[0], CAP_OP_RECV);
    UEXPECT_EQ(agent_info(&a, 2), -EBADF);
    // Nobody receives on e now: a send waits.
    utest_context("send");
    agent_order(&a, CMD(.op = CAP_OP_SEND, .handle = 3, .a = 1));
    expect_revoke_ends_block(&a, given[1], CAP_OP_SEND);
    UEXPECT_EQ(agent_info(&a, 3), -EBADF);
    UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_LIST)), 1); // only its control handle
    // Nothing of the send arrived.
    struct pending p = { .kind = P_RECV, .handle = sys_cap_dup(e, CAP_RECV, 0) };
    if (!pending_start(&p, 1))
        goto out;
    UEXPECT_EQ(pending_stop(&p, BLOCK_TICKS * 2), -ETIMEDOUT);
out:
    agent_end(&a);
    sys_cap_close(given[0]);
    sys_cap_close(given[1]);
    sys_cap_close(e);
}

UTEST(revoke_handles_given_in_messages)
{
    int m = sys_endpoint_create();
    int e = sys_endpoint_create();
    UASSERT_GT(m, 0);
    UASSERT_GT(e, 0);
    int mail = sys_cap_dup(m, CAP_RECV | CAP_GRANT, 0);
    int recv = sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0);
    int send = sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0);
    struct agent a;
    if (!agent_start(&a, 28, &mail, 1))
        goto out;
    utest_context("recv");
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    UEXPECT_EQ(ipc_timed(P_SEND, m, 1, recv), 0);
    if (!agent_report(&a))
        goto out;
    int h = a.rep.handle;
    if (!UEXPECT_GT(h, 0))
        goto out;
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = h));
    expect_revoke_ends_block(&a, recv, CAP_OP_RECV);
    UEXPECT_EQ(agent_info(&a, h), -EBADF);

    utest_context("call");
    agent_order(&a, CMD(.op = CAP_OP_RECV, .handle = 2));
    UEXPECT_EQ(ipc_timed(P_SEND, m, 2, send), 0);
    if (!agent_report(&a))
        goto out;
    h = a.rep.handle;
    if (!UEXPECT_GT(h, 0))
        goto out;
    agent_order(&a, CMD(.op = CAP_OP_CALL, .handle = h, .a = 3));
    expect_revoke_ends_block(&a, send, CAP_OP_CALL);
    UEXPECT_EQ(agent_info(&a, h), -EBADF);
out:
    agent_end(&a);
    sys_cap_close(mail);
    sys_cap_close(recv);
    sys_cap_close(send);
    sys_cap_close(m);
    sys_cap_close(e);
}

// Revoke reaches every copy: dups, copies passed at spawn and in messages,
// in any process, and theirs.
UTEST(revoke_counts_every_copy)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int root = sys_cap_dup(e, ENDPOINT_RIGHTS, 0);
    int dup = sys_cap_dup(root, CAP_SEND | CAP_GRANT, 0);
    struct agent a, b;
    bool started = agent_start(&a, 29, &root, 1) & agent_start(&b, 30, &dup, 1);
    if (!started)
        goto out;
    // a dups its copy and passes the dup back to us.
    int a_dup = agent_do(&a, CMD(.op = CAP_OP_DUP, .handle = 2, .a = CAP_SEND | CAP_GRANT));
    UEXPECT_GT(a_dup, 0);
    agent_do(&a, CMD(.op = CAP_OP_LIST, .give = a_dup));
    int back = a.got;
    a.got = 0;
    UEXPECT_GT(back, 0);
    // dup, a's copy, a's dup, ours of that, b's copy.
    UEXPECT_EQ(sys_cap_revoke(root), 5);
    UEXPECT_FALSE(is_open(dup));
    UEXPECT_FALSE(is_open(back));
    UEXPECT_EQ(agent_info(&a, 2), -EBADF);
    UEXPECT_EQ(agent_info(&a, a_dup), -EBADF);
    UEXPECT_EQ(agent_info(&b, 2), -EBADF);
    UEXPECT_TRUE(is_open(root));
    UEXPECT_EQ(sys_cap_revoke(root), 0);
out:
    agent_end(&a);
    agent_end(&b);
    sys_cap_close(root);
    sys_cap_close(e);
}

// ---- A process's end ---------------------------------------------------------------------

// Starts an agent holding a few handles of its own, ends it with `end` and
// checks its exit code and that every handle and object is gone.
static void
expect_end_closes_everything(bool kill, int code)
{
    struct sysinfo before, during;
    counters(&before);
    int e = sys_endpoint_create();
    int recv = sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0);
    struct agent a;
    if (agent_start(&a, 31, &recv, 1)) {
        for (int i = 0; i < 3; i++)
            UEXPECT_GT(agent_do(&a, CMD(.op = CAP_OP_CREATE)), 0);
        UEXPECT_EQ(sys_sysinfo(&during), 0);
        // Ours (e, recv, ctl, process, reply), the agent's (ctl, recv, three).
        UEXPECT_UEQ(during.handles, before.handles + 10);
        if (kill)
            UEXPECT_EQ(sys_kill(a.proc), 0);
        else
            agent_order(&a, CMD(.op = CAP_OP_EXIT, .a = (unsigned)code));
        UEXPECT_EQ(sys_wait(a.proc, LONG_TICKS), code);
        // The report it was waiting on: the caller is gone.
        if (kill)
            UEXPECT_EQ(sys_ipc_reply(a.reply, 0, 0, NULL), -EPIPE);
    }
    agent_end(&a);
    sys_cap_close(recv);
    sys_cap_close(e);
    expect_counters_back(&before);
}

UTEST(killed_child_closes_everything)
{
    expect_end_closes_everything(true, EXIT_KILLED);
}

UTEST(exiting_child_closes_everything)
{
    expect_end_closes_everything(false, 5);
}

UTEST(last_receiver_closed_gives_epipe)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int send = sys_cap_dup(e, CAP_SEND, 0);
    UEXPECT_EQ(sys_cap_close(e), 0);
    UEXPECT_EQ(ipc_timed(P_SEND, send, 1, 0), -EPIPE);
    UEXPECT_EQ(ipc_timed(P_CALL, send, 1, 0), -EPIPE);
    UEXPECT_EQ(sys_cap_close(send), 0);
}

// The only receiver is in an agent that is killed while we wait to send.
UTEST(last_receiver_killed_gives_epipe)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int recv = sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0);
    int send = sys_cap_dup(e, CAP_SEND, 0);
    struct agent a;
    bool started = agent_start(&a, 32, &recv, 1);
    sys_cap_close(recv);
    sys_cap_close(e);
    struct pending p = { .kind = P_SEND, .handle = send, .w0 = 1 };
    if (!started || !pending_block(&p, 1))
        goto out;
    UEXPECT_TRUE(pending_waiting(&p));
    UEXPECT_EQ(sys_kill(a.proc), 0);
    UEXPECT_EQ(pending_end(&p, PROMPT_TICKS), -EPIPE);
    UEXPECT_EQ(ipc_timed(P_SEND, send, 2, 0), -EPIPE);
    UEXPECT_EQ(ipc_timed(P_CALL, send, 3, 0), -EPIPE);
out:
    agent_end(&a);
    sys_cap_close(send);
}

// An endpoint an agent made and passed us a send handle to; the agent exits
// while we wait to send.
UTEST(last_receiver_exits_gives_epipe)
{
    struct agent a;
    int send = 0;
    if (!agent_start(&a, 33, NULL, 0))
        goto out;
    int made = agent_do(&a, CMD(.op = CAP_OP_CREATE));
    int made_send = agent_do(&a, CMD(.op = CAP_OP_DUP, .handle = made, .a = CAP_SEND | CAP_GRANT));
    agent_do(&a, CMD(.op = CAP_OP_LIST, .give = made_send));
    send = a.got;
    a.got = 0;
    expect_info(send, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_GRANT, 0);
    struct pending p = { .kind = P_SEND, .handle = send, .w0 = 1 };
    if (!pending_block(&p, 1))
        goto out;
    UEXPECT_TRUE(pending_waiting(&p));
    agent_order(&a, CMD(.op = CAP_OP_EXIT, .a = 0));
    UEXPECT_EQ(pending_end(&p, PROMPT_TICKS), -EPIPE);
    UEXPECT_EQ(ipc_timed(P_SEND, send, 2, 0), -EPIPE);
out:
    UEXPECT_EQ(agent_end(&a), 0);
    sys_cap_close(send);
}

// The agent takes a call from us; `end` then ends it without an answer: the
// caller hears -EPIPE at once.
static void
expect_dropped_call(unsigned id, struct cap_cmd end)
{
    int e = sys_endpoint_create();
    int recv = sys_cap_dup(e, CAP_RECV | CAP_GRANT, 0);
    struct agent a;
    struct pending p = { .kind = P_CALL, .handle = e, .w0 = 1 };
    if (agent_start(&a, id, &recv, 1) && pending_block(&p, 1)) {
        UEXPECT_EQ(agent_do(&a, CMD(.op = CAP_OP_RECV, .handle = 2)), 0);
        UEXPECT_UEQ(a.rep.w0, 1);
        UEXPECT_GT(a.rep.reply, 0);
        UEXPECT_TRUE(pending_waiting(&p));
        if (end.op == CAP_OP_CLOSE) {
            end.handle = a.rep.reply;
            UEXPECT_EQ(agent_do(&a, end), 0);
        } else if (end.op == CAP_OP_EXIT) {
            agent_order(&a, end);
        } else {
            UEXPECT_EQ(sys_kill(a.proc), 0);
        }
        UEXPECT_EQ(pending_end(&p, PROMPT_TICKS), -EPIPE);
    }
    agent_end(&a);
    sys_cap_close(recv);
    sys_cap_close(e);
}

UTEST(server_gone_with_call_taken)
{
    utest_context("reply handle closed");
    expect_dropped_call(34, CMD(.op = CAP_OP_CLOSE));
    utest_context("server exits");
    expect_dropped_call(35, CMD(.op = CAP_OP_EXIT));
    utest_context("server killed");
    expect_dropped_call(36, CMD(.op = ~0u));
}

UTEST(reply_to_a_dead_caller_is_epipe)
{
    int e = sys_endpoint_create();
    UASSERT_GT(e, 0);
    int send = sys_cap_dup(e, CAP_SEND | CAP_GRANT, 0);
    struct agent a;
    struct pending p = { .kind = P_RECV, .handle = e };
    if (agent_start(&a, 37, &send, 1) &&
        agent_order(&a, CMD(.op = CAP_OP_CALL, .handle = 2, .a = 1)) && pending_start(&p, 1)) {
        UEXPECT_EQ(pending_end(&p, LONG_TICKS), 0);
        UEXPECT_GT(p.words.reply, 0);
        UEXPECT_EQ(sys_kill(a.proc), 0);
        UEXPECT_EQ(sys_wait(a.proc, LONG_TICKS), EXIT_KILLED);
        UEXPECT_EQ(sys_ipc_reply(p.words.reply, 2, 0, NULL), -EPIPE);
        sys_cap_close(p.words.reply);
    }
    agent_end(&a);
    sys_cap_close(send);
    sys_cap_close(e);
}

// ---- Kill and wait -----------------------------------------------------------------------

UTEST(kill_needs_cap_kill)
{
    struct agent a;
    UASSERT_TRUE(agent_start(&a, 38, NULL, 0));
    int no_kill = sys_cap_dup(a.proc, CAP_WAIT | CAP_GRANT, 0);
    int thread = thread_spawn(return_arg, NULL, s_stacks[1], THREAD_STACK);
    UEXPECT_EQ(sys_kill(no_kill), -EPERM);
    UEXPECT_EQ(sys_kill(a.ctl), -EBADF); // not a process
    UEXPECT_EQ(sys_kill(s_child), -EBADF);
    UEXPECT_EQ(sys_kill(thread), -EBADF);
    UEXPECT_EQ(sys_kill(a.reply), -EBADF);
    UEXPECT_EQ(sys_wait(a.proc, 0), -ETIMEDOUT); // it lives
    UEXPECT_EQ(agent_info(&a, 1), 0);
    UEXPECT_EQ(sys_kill(a.proc), 0);
    UEXPECT_EQ(sys_wait(a.proc, LONG_TICKS), EXIT_KILLED);
    UEXPECT_EQ(sys_wait(no_kill, 0), EXIT_KILLED);
    UEXPECT_EQ(sys_wait(thread, LONG_TICKS), 0);
    // Killing an ended process is no error, and changes nothing.
    UEXPECT_EQ(sys_kill(a.proc), 0);
    UEXPECT_EQ(sys_wait(a.proc, 0), EXIT_KILLED);
    sys_cap_close(thread);
    sys_cap_close(no_kill);
    agent_end(&a);
}

UTEST(wait_needs_cap_wait)
{
    struct agent a;
    UASSERT_TRUE(agent_start(&a, 39, NULL, 0));
    int no_wait = sys_cap_dup(a.proc, CAP_KILL | CAP_GRANT, 0);
    UEXPECT_EQ(sys_wait(no_wait, 0), -EPERM);
    // Refused, not waited on.
    struct pending forever = {
        .kind = P_WAIT, .handle = no_wait, .w0 = WAIT_FOREVER, .stop = a.proc
    };
    if (pending_start(&forever, 1))
        UEXPECT_EQ(pending_end(&forever, LONG_TICKS), -EPERM);
    UEXPECT_EQ(sys_wait(a.ctl, 0), -EBADF);
    UEXPECT_EQ(sys_wait(s_child, 0), -EBADF);
    UEXPECT_EQ(sys_wait(a.proc, 0), -ETIMEDOUT);
    unsigned start = sys_time();
    UEXPECT_EQ(sys_wait(a.proc, 10), -ETIMEDOUT);
    UEXPECT_UGE(sys_time() - start, 10);
    agent_order(&a, CMD(.op = CAP_OP_EXIT, .a = 42));
    UEXPECT_EQ(sys_wait(a.proc, LONG_TICKS), 42);
    // Every wait on an ended one says the same.
    forever =
        (struct pending){ .kind = P_WAIT, .handle = a.proc, .w0 = WAIT_FOREVER, .stop = a.proc };
    if (pending_start(&forever, 1))
        UEXPECT_EQ(pending_end(&forever, LONG_TICKS), 42);
    UEXPECT_EQ(sys_wait(a.proc, 0), 42);
    int other = sys_cap_dup(a.proc, CAP_WAIT, 0);
    UEXPECT_EQ(sys_wait(other, 0), 42);
    UEXPECT_EQ(sys_wait(no_wait, 0), -EPERM);
    // It chose its code; a kill after its end does not change it.
    UEXPECT_EQ(sys_kill(no_wait), 0);
    UEXPECT_EQ(sys_wait(a.proc, 0), 42);
    sys_cap_close(other);
    sys_cap_close(no_wait);
    UEXPECT_EQ(agent_end(&a), 42);
}

static volatile int s_sleeper_tid;

// Notes its thread id, sleeps a little, and returns arg.
static int
sleep_then_return(void *arg)
{
    s_sleeper_tid = sys_gettid();
    sys_sleep(20);
    return (int)(uintptr_t)arg;
}

UTEST(thread_handles)
{
    s_sleeper_tid = 0;
    int t = thread_spawn(sleep_then_return, (void *)7, s_stacks[1], THREAD_STACK);
    UASSERT_GT(t, 0);
    expect_info(t, CAP_TYPE_THREAD, CAP_WAIT, 0);
    int no_wait = sys_cap_dup(t, 0, 0);
    UEXPECT_EQ(sys_wait(t, 0), -ETIMEDOUT);
    UEXPECT_EQ(sys_wait(no_wait, 0), -EPERM);
    UEXPECT_EQ(sys_kill(t), -EBADF); // a thread is no process
    sys_sleep(BLOCK_TICKS);
    struct cap_info info;
    if (UEXPECT_EQ(sys_cap_info(t, &info), 0))
        UEXPECT_EQ((int)info.base, s_sleeper_tid); // a thread handle's base: its id
    UEXPECT_EQ(sys_wait(t, LONG_TICKS), 7);
    UEXPECT_EQ(sys_wait(t, 0), 7);
    sys_cap_close(no_wait);
    sys_cap_close(t);
    // A thread's code, as a process's, is its low byte.
    t = thread_spawn(return_arg, (void *)0x1234, s_stacks[1], THREAD_STACK);
    UASSERT_GT(t, 0);
    UEXPECT_EQ(sys_wait(t, LONG_TICKS), 0x34);
    sys_cap_close(t);
}

// ---- Handles of the wrong kind -----------------------------------------------------------

// Every call given a handle to another kind of object than it takes: -EBADF,
// as for no handle at all (not -EPERM, even where the right is missing too).
UTEST(wrong_kind_is_ebadf)
{
    int e = sys_endpoint_create();
    int p = sys_spawn(s_child, NULL, 0);
    int t = thread_spawn(sleep_then_return, NULL, s_stacks[2], THREAD_STACK);
    UASSERT_GT(e, 0);
    UASSERT_GT(p, 0);
    UASSERT_GT(t, 0);
    const int not_endpoints[] = { s_child, p, t };
    for (unsigned i = 0; i < ARRAY_SIZE(not_endpoints); i++) {
        int h = not_endpoints[i];
        UEXPECT_EQ(ipc_timed(P_SEND, h, 1, 0), -EBADF);
        UEXPECT_EQ(ipc_timed(P_CALL, h, 1, 0), -EBADF);
        UEXPECT_EQ(ipc_timed(P_RECV, h, 0, 0), -EBADF);
        UEXPECT_EQ(sys_ipc_reply(h, 1, 0, NULL), -EBADF);
    }
    UEXPECT_EQ(sys_spawn(p, NULL, 0), -EBADF);
    UEXPECT_EQ(sys_spawn(t, NULL, 0), -EBADF);
    UEXPECT_EQ(sys_wait(e, 0), -EBADF);
    UEXPECT_EQ(sys_wait(s_child, 0), -EBADF);
    UEXPECT_EQ(sys_kill(e), -EBADF);
    UEXPECT_EQ(sys_kill(t), -EBADF);
    // An endpoint is no reply handle: the reply fails, and no receive follows.
    struct pending rr = { .kind = P_REPLY_RECV, .handle = e, .endpoint = e };
    if (pending_start(&rr, 1))
        UEXPECT_EQ(pending_end(&rr, LONG_TICKS), -EBADF);
    UEXPECT_EQ(sys_wait(p, LONG_TICKS), CAP_CHILD_LOST + EBADF);
    UEXPECT_EQ(sys_wait(t, LONG_TICKS), 0);
    sys_cap_close(t);
    sys_cap_close(p);
    sys_cap_close(e);
}

// ---- Nothing left behind -----------------------------------------------------------------

UTEST(nothing_left_behind)
{
    static int list[CAPS_PER_PROCESS];
    UEXPECT_EQ(sys_cap_list(list, CAPS_PER_PROCESS), s_initial_count);
    UEXPECT_MEMEQ(list, s_initial, (unsigned)s_initial_count * sizeof *list);
    expect_counters_back(&s_suite_start);
}

int
main(void)
{
    sysinfo_settled(&s_suite_start, SETTLE_TICKS);
    return utest_run("test_caps");
}
