// test_isolation's partner.  It calls its parent on handle 1 for a command
// (the protocol: user/iso_child.h); handle 2, where given, is iso_child's
// own module, for the commands that spawn.
//
//   ISO_HOLD       calls again (ISO_HELD) and exits with 0 when that call
//                  ends: answered, or -EPIPE because the parent, which
//                  holds the reply handle, is gone.  A long-lived child
//                  whose end the parent controls, even when it is killed.
//   ISO_WAIT_KILL  a second thread starts an ISO_HOLD child, which it holds,
//                  then waits for it (SYS_WAIT); the main thread calls
//                  sys_exit(ISO_EXIT_CODE) while that wait goes on.  The
//                  process must end: the kill reaches the waiting thread.
//   ISO_SPAWN_MAX  starts ISO_HOLD children until SYS_SPAWN refuses, calls
//                  the parent with w0 = how many, w1 = the refusal; once
//                  answered, releases and collects every child, exits 0.
//   ISO_THREAD_MAX starts threads that block until SYS_THREAD_CREATE
//                  refuses, calls the parent the same way; once answered
//                  ends them all with sys_exit(0).
//   ISO_VICTIM     sets up what an attacker would want to reach (below),
//                  calls the parent with ISO_READY and what it holds
//                  (struct iso_names); while that call waits, the parent
//                  lets an attacker loose.  Once answered it checks that
//                  nothing reached it, tears down and calls the parent with
//                  ISO_RESULT (w1 = failed checks, payload = the first).
#include "iso_child.h"
#include "tandem.h"

#define THREAD_STACK 4096
#define WAIT_TICKS   500

static uint8_t s_waiter_stack[THREAD_STACK] ALIGNED(16);
static volatile bool s_waiting;

// ISO_HOLD: returns when the parent answers or is gone.
static int
hold(void)
{
    struct ipc_words w;
    sys_ipc_call(ISO_ENDPOINT, ISO_HELD, 0, NULL, &w);
    return 0;
}

static int
waiter(void *arg)
{
    (void)arg;
    struct iso_link held;
    if (iso_start_held(&held, ISO_MODULE) != 0)
        return 1;
    s_waiting = true;
    sys_wait(held.proc, WAIT_FOREVER); // never ends on its own: the child is held by us
    return 0;
}

static int
wait_kill(void)
{
    if (thread_spawn(waiter, NULL, s_waiter_stack, sizeof s_waiter_stack) < 0)
        return ISO_EXIT_BAD;
    unsigned start = sys_time();
    while (!s_waiting && sys_time() - start < WAIT_TICKS)
        sys_sleep(1);
    if (!s_waiting)
        return ISO_EXIT_BAD;
    sys_sleep(5); // the waiter is in sys_wait by now
    sys_exit(ISO_EXIT_CODE);
}

// Tells the parent how many were made and what stopped it; returns when
// the parent answers.
static void
report(unsigned made, int refusal)
{
    struct ipc_words go;
    sys_ipc_call(ISO_ENDPOINT, made, (unsigned)refusal, NULL, &go);
}

static int
spawn_max(void)
{
    static struct iso_link links[ISO_SPAWN_LIMIT];
    unsigned n = 0;
    int r = 0; // stays 0 if ISO_SPAWN_LIMIT comes first
    while (n < ISO_SPAWN_LIMIT && (r = iso_start_held(&links[n], ISO_MODULE)) == 0)
        n++;
    if (n < ISO_SPAWN_LIMIT && links[n].proc > 0)
        iso_finish(&links[n], WAIT_TICKS); // started, but failed the protocol
    report(n, r);
    int failures = 0;
    for (unsigned i = 0; i < n; i++)
        failures += iso_finish(&links[i], WAIT_TICKS) != 0;
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
thread_max(void)
{
    unsigned n = 0;
    int r = 0;
    while (n < THREADS_PER_PROCESS &&
           (r = thread_spawn(park, NULL, s_parked_stacks[n], sizeof s_parked_stacks[n])) > 0)
        n++;
    report(n, r);
    sys_exit(0);
}

// ---- ISO_VICTIM ---------------------------------------------------------------
// What it holds while attacked: two endpoints, each with a duplicate (one
// badged, one receive-only); a listener thread waiting in SYS_IPC_RECV on
// the first; a caller thread whose call on the second the main thread has
// taken and not answered (so it holds a reply handle); a counting thread.
// Afterwards: the handle table must read exactly as before (SYS_CAP_LIST,
// SYS_CAP_INFO), the listener must have heard nothing and the caller no
// answer, and no thread an error.  Then its own messages must be the first
// the listener and the caller get.

#define VICTIM_BADGE 0x5A5Au
#define VICTIM_CALL  0x3C1u // the caller thread's w0
#define VICTIM_MARK  0x3C2u // what the victim's own release carries
#define VICTIM_LEN   16

struct victim {
    int e1, e1_badged, e2, e2_recv; // endpoints and duplicates
    int listener, caller, counter;  // thread handles
    int reply;                      // the caller's call, taken and not answered
};

static struct victim s_v;
static uint8_t s_listener_stack[THREAD_STACK] ALIGNED(16);
static uint8_t s_caller_stack[THREAD_STACK] ALIGNED(16);
static uint8_t s_counter_stack[THREAD_STACK] ALIGNED(16);

// What the listener heard and the caller got back, once each is done.
static volatile bool s_heard, s_answered;
static volatile int s_heard_badge, s_answer;
static volatile unsigned s_heard_w0, s_heard_len, s_answer_w0;
static volatile int s_heard_handle, s_answer_handle;
static volatile unsigned s_count;
static volatile bool s_stop;

static int
listen(void *arg)
{
    (void)arg;
    static uint8_t data[VICTIM_LEN];
    struct ipc_buf b = { data, 0, sizeof data, 0 };
    struct ipc_words msg = { 0, 0, 0 };
    s_heard_badge = sys_ipc_recv(s_v.e1, &msg, &b);
    s_heard_w0 = msg.w0;
    s_heard_len = b.len;
    s_heard_handle = b.handle;
    s_heard = true;
    return 0;
}

static int
call(void *arg)
{
    (void)arg;
    static uint8_t data[VICTIM_LEN] = "victim's call";
    struct ipc_buf b = { data, VICTIM_LEN, sizeof data, 0 };
    struct ipc_words reply = { 0, 0, 0 };
    s_answer = sys_ipc_call(s_v.e2, VICTIM_CALL, 0, &b, &reply);
    s_answer_w0 = reply.w0;
    s_answer_handle = b.handle;
    s_answered = true;
    return 0;
}

static int
count(void *arg)
{
    (void)arg;
    while (!s_stop) {
        s_count++;
        sys_yield();
    }
    return 0;
}

// Whether the counter moves past where it is now within `ticks`.
static bool
counter_advances(unsigned ticks)
{
    unsigned before = s_count, start = sys_time();
    while (s_count == before) {
        if (sys_time() - start > ticks)
            return false;
        sys_sleep(1);
    }
    return true;
}

// What the checks found: failures counted, the first one described.
struct verdict {
    unsigned failures;
    char note[ISO_NOTE_MAX];
};

static void
fail(struct verdict *v, const char *what)
{
    if (v->failures++ == 0)
        strlcpy(v->note, what, sizeof v->note);
}

// Makes everything the victim holds; false (with the failure noted) if
// something could not be made.
static bool
victim_setup(struct verdict *v)
{
    s_v.e1 = sys_endpoint_create();
    s_v.e2 = sys_endpoint_create();
    if (s_v.e1 <= 0 || s_v.e2 <= 0) {
        fail(v, "cannot create its endpoints");
        return false;
    }
    s_v.e1_badged = sys_cap_dup(s_v.e1, CAP_SEND, VICTIM_BADGE);
    s_v.e2_recv = sys_cap_dup(s_v.e2, CAP_RECV, 0);
    if (s_v.e1_badged <= 0 || s_v.e2_recv <= 0) {
        fail(v, "cannot duplicate its endpoints");
        return false;
    }
    s_v.listener = thread_spawn(listen, NULL, s_listener_stack, sizeof s_listener_stack);
    s_v.counter = thread_spawn(count, NULL, s_counter_stack, sizeof s_counter_stack);
    s_v.caller = thread_spawn(call, NULL, s_caller_stack, sizeof s_caller_stack);
    if (s_v.listener <= 0 || s_v.counter <= 0 || s_v.caller <= 0) {
        fail(v, "cannot start its threads");
        return false;
    }
    struct ipc_words msg = { 0, 0, 0 };
    static uint8_t data[VICTIM_LEN];
    struct ipc_buf b = { data, 0, sizeof data, 0 };
    if (sys_ipc_recv(s_v.e2_recv, &msg, &b) != 0 || msg.w0 != VICTIM_CALL || msg.reply <= 0) {
        fail(v, "cannot take its caller's call");
        return false;
    }
    s_v.reply = msg.reply;
    if (!counter_advances(WAIT_TICKS)) {
        fail(v, "its counter does not count");
        return false;
    }
    sys_sleep(2); // the listener is in sys_ipc_recv by now
    return true;
}

// Fills in what the attacker may be told: its thread ids and handles.
static void
victim_names(const struct iso_table *t, struct iso_names *names)
{
    memset(names, 0, sizeof *names);
    names->tids[names->tid_count++] = (unsigned)sys_gettid();
    for (int i = 0; i < t->n; i++) {
        names->handles[names->handle_count++] = t->handles[i];
        if (t->info[i].type == CAP_TYPE_THREAD && names->tid_count < ISO_NAMES_TIDS)
            names->tids[names->tid_count++] = t->info[i].base;
    }
}

// Sends its listener and answers its caller (those still waiting), and
// checks that theirs are the first message and answer they get.
static void
victim_release(struct verdict *v)
{
    static uint8_t data[VICTIM_LEN] = "victim's mark";
    struct ipc_buf b = { data, VICTIM_LEN, 0, 0 };
    // A listener that heard something no longer listens: a send would wait for ever.
    if (!s_heard && sys_ipc_send(s_v.e1_badged, VICTIM_MARK, 0, &b) != 0)
        fail(v, "its own send to its listener failed");
    if (sys_ipc_reply(s_v.reply, VICTIM_MARK, 0, &b) != 0 && !s_answered)
        fail(v, "its own reply to its caller failed");
    s_stop = true;
    if (sys_wait(s_v.listener, WAIT_TICKS) != 0 || sys_wait(s_v.caller, WAIT_TICKS) != 0 ||
        sys_wait(s_v.counter, WAIT_TICKS) != 0)
        fail(v, "its threads did not end");
    if (s_heard_badge != (int)VICTIM_BADGE || s_heard_w0 != VICTIM_MARK ||
        s_heard_len != VICTIM_LEN || s_heard_handle != 0)
        fail(v, "its listener's first message was not its own");
    if (s_answer != 0 || s_answer_w0 != VICTIM_MARK || s_answer_handle != 0)
        fail(v, "its caller's answer was not its own");
    const int handles[] = { s_v.listener,  s_v.caller, s_v.counter, s_v.e1,
                            s_v.e1_badged, s_v.e2,     s_v.e2_recv };
    for (unsigned i = 0; i < ARRAY_SIZE(handles); i++)
        if (sys_cap_close(handles[i]) != 0)
            fail(v, "cannot close one of its handles");
}

static int
victim(void)
{
    static struct iso_table before, after;
    static struct iso_names names;
    struct verdict v = { 0, "" };
    if (victim_setup(&v) && iso_table_read(&before) && before.n <= ISO_NAMES_HANDLES) {
        victim_names(&before, &names);
        struct ipc_buf out = { &names, sizeof names, 0, 0 };
        struct ipc_words go = { 0, 0, 0 };
        // The attack runs while this call waits.
        if (sys_ipc_call(ISO_ENDPOINT, ISO_READY, 0, &out, &go) != 0 || go.w0 != ISO_GO)
            fail(&v, "its call to the parent failed");
        if (!iso_table_read(&after) || !iso_table_equal(&after, &before))
            fail(&v, "its handle table changed");
        if (s_heard)
            fail(&v, "its listener heard something (or failed) during the attack");
        if (s_answered)
            fail(&v, "its pending call ended during the attack");
        if (!counter_advances(WAIT_TICKS))
            fail(&v, "its counter stopped");
        victim_release(&v);
    } else if (v.failures == 0) {
        fail(&v, "cannot read its handle table");
    }
    struct ipc_buf out = { v.note, strlen(v.note), 0, 0 };
    struct ipc_words done;
    sys_ipc_call(ISO_ENDPOINT, ISO_RESULT, v.failures, &out, &done);
    return v.failures ? 1 : 0;
}

// Whether handle 2 is a module to spawn from.
static bool
has_module(void)
{
    struct cap_info info;
    return sys_cap_info(ISO_MODULE, &info) == 0 && info.type == CAP_TYPE_MODULE;
}

int
main(void)
{
    struct ipc_words cmd = { 0, 0, 0 };
    if (sys_ipc_call(ISO_ENDPOINT, ISO_HELLO, 0, NULL, &cmd) != 0)
        return ISO_EXIT_BAD;
    switch (cmd.w0) {
    case ISO_HOLD: return hold();
    case ISO_WAIT_KILL: return has_module() ? wait_kill() : ISO_EXIT_BAD;
    case ISO_SPAWN_MAX: return has_module() ? spawn_max() : ISO_EXIT_BAD;
    case ISO_THREAD_MAX: return thread_max();
    case ISO_VICTIM: return victim();
    default: return ISO_EXIT_BAD;
    }
}
