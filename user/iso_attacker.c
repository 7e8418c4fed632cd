// test_isolation's attacker.  It shares no capability with its victim (an
// ISO_VICTIM iso_child) and tries every system call that takes a handle
// with every handle number it can guess; each must say -EBADF.
//
// Its handles: 1, an endpoint to its parent (user/iso_child.h's protocol:
// the hello is answered with ISO_ATTACK and a struct iso_names, the
// victim's process and thread ids and its handle numbers); 2, iso_child's
// module, so that SYS_SPAWN is tried with a module that works and a
// guessed handle to pass.  It makes its own: an endpoint, a helper thread,
// the reply handle of the helper's call, and some handles it closes at
// once, whose numbers it keeps.
//
// The guesses: every index 0 .. CAPS_PER_PROCESS + 1 alone and with a
// range of generations in several plausible layouts (index | generation <<
// shift), the edges of int, and every number it knows - the victim's
// handles, its own, the closed ones - with each bit flipped in turn.  A
// guess that is one of its own open handles is skipped; those are checked
// instead: none may name a victim's thread or process, and none may carry
// a closed handle's number.
//
// Each guess goes through SYS_CAP_INFO, _DUP, _REVOKE, _CLOSE, SYS_WAIT,
// SYS_KILL, SYS_SPAWN (as the module and as a handle to pass), SYS_IPC_SEND,
// _RECV, _CALL, _REPLY and _REPLY_RECV (as either handle), and as the
// handle a message carries: in a reply to the helper's call, and in a send
// and a call to the helper waiting to receive.  Every one must say -EBADF
// (-EFAULT or -EINVAL where the attacker also passes a bad pointer or
// badge); its own table must not change; its helper must get nothing but
// the attacker's own answer and release.  A guess that named something to
// wait on would hang it: the parent's time limit catches that.
//
// Exit code: 0 if all of it held, 1 if not (the first failures printed as
// KTAP diagnostics), ISO_EXIT_BAD if the parent's protocol failed.
#include "iso_child.h"
#include "lib/format.h"
#include "tandem.h"

#define THREAD_STACK   4096
#define WAIT_TICKS     500
#define REPORT_MAX     8 // failures printed
#define STALE_MAX      8
#define HELPER_CALL    0x4A1u
#define HELPER_ANSWER  0x4A2u
#define HELPER_RELEASE 0x4A3u

static struct iso_names s_victim;
static struct iso_table s_own; // its open handles, while a pass runs
static int s_stale[STALE_MAX]; // closed handles' numbers
static unsigned s_stale_count;

static int s_ep;    // its own endpoint
static int s_reply; // the helper's call, taken
static uint8_t s_helper_stack[THREAD_STACK] ALIGNED(16);
static volatile unsigned s_helper_odd; // what the helper got that was not the attacker's

static unsigned s_failures, s_guesses, s_skipped, s_calls;
static unsigned s_pid; // this process's id: its main thread's

static void failed(const char *fmt, ...) PRINTF_LIKE(1, 2);

static void
failed(const char *fmt, ...)
{
    if (s_failures++ >= REPORT_MAX)
        return;
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("  # iso_attacker: %s\n", line);
}

// Checks one call's result: -EBADF, or `also` (0: nothing else).
static void
expect(const char *call, int guess, long r, long also)
{
    s_calls++;
    if (r != -EBADF && (also == 0 || r != also))
        failed("%s with guessed handle %d (%#x) gave %ld, expected -EBADF", call, guess,
               (unsigned)guess, r);
}

// Closes or collects what a call that should have failed made (a process
// it ends, unless it is this one: its first thread's id is its own).
static void
undo_handle(int h)
{
    struct cap_info info;
    if (h <= 0 || sys_cap_info(h, &info) != 0)
        return;
    failed("  ... it made handle %d: type %u, rights %#x, base %u, name \"%.32s\"", h, info.type,
           info.rights, info.base, info.name);
    if (info.type == CAP_TYPE_PROCESS && info.base != s_pid) {
        sys_kill(h);
        sys_wait(h, WAIT_TICKS);
    }
    sys_cap_close(h);
}

// The same for a receive that should have failed: the handles a message
// brings (the words hold nothing of the kernel's when it failed).
static void
undo_received(long r, const struct ipc_words *w, struct ipc_buf *in)
{
    if (r < 0)
        return;
    undo_handle(w->reply);
    undo_handle(in->handle);
    in->handle = 0;
}

// ---- The calls -------------------------------------------------------------------

// Every call that takes a handle, with `guess` as that handle.
static void
try_plain(int guess)
{
    static uint8_t data[16];
    struct cap_info info;
    struct ipc_words w = { 0, 0, 0 };
    long r = sys_cap_info(guess, &info);
    expect("SYS_CAP_INFO", guess, r, 0);
    if (r == 0)
        failed("  ... it names type %u, base %u, \"%.32s\"", info.type, info.base, info.name);
    expect("SYS_CAP_INFO (NULL)", guess, sys_cap_info(guess, NULL), -EFAULT);
    r = sys_cap_dup(guess, CAP_RIGHTS_ALL, 0);
    expect("SYS_CAP_DUP", guess, r, 0);
    undo_handle((int)r);
    r = sys_cap_dup(guess, CAP_SEND, BADGE_MAX + 1u);
    expect("SYS_CAP_DUP (bad badge)", guess, r, -EINVAL);
    undo_handle((int)r);
    expect("SYS_CAP_REVOKE", guess, sys_cap_revoke(guess), 0);
    expect("SYS_WAIT", guess, sys_wait(guess, 0), 0);
    expect("SYS_KILL", guess, sys_kill(guess), 0);
    r = sys_spawn(guess, NULL, 0);
    expect("SYS_SPAWN (module)", guess, r, 0);
    undo_handle((int)r);
    r = sys_spawn(ISO_MODULE, &guess, 1);
    expect("SYS_SPAWN (a handle to pass)", guess, r, 0);
    undo_handle((int)r);

    struct ipc_buf out = { data, sizeof data, sizeof data, 0 };
    expect("SYS_IPC_SEND", guess, sys_ipc_send(guess, 1, 2, &out), 0);
    expect("SYS_IPC_CALL", guess, sys_ipc_call(guess, 1, 2, &out, &w), 0);
    expect("SYS_IPC_REPLY", guess, sys_ipc_reply(guess, 1, 2, &out), 0);
    struct ipc_buf in = { data, 0, sizeof data, 0 };
    r = sys_ipc_recv(guess, &w, &in);
    expect("SYS_IPC_RECV", guess, r, 0);
    undo_received(r, &w, &in);
    r = sys_ipc_reply_recv(guess, 1, 2, &in, guess, &w);
    expect("SYS_IPC_REPLY_RECV (both)", guess, r, 0);
    undo_received(r, &w, &in);
    r = sys_ipc_reply_recv(0, 0, 0, &in, guess, &w);
    expect("SYS_IPC_REPLY_RECV (endpoint)", guess, r, 0);
    undo_received(r, &w, &in);
    // Last: were it open, it is closed now.
    expect("SYS_CAP_CLOSE", guess, sys_cap_close(guess), 0);
}

// The first pass: the plain calls, and the guess as the handle a reply to
// the helper's waiting call carries.
static void
try_pass_one(int guess)
{
    try_plain(guess);
    if (guess == 0) // "no handle" in a message
        return;
    struct ipc_buf b = { NULL, 0, 0, guess };
    expect("SYS_IPC_REPLY passing it", guess, sys_ipc_reply(s_reply, 5, 6, &b), 0);
}

// The second pass: the guess as the handle a send and a call to the
// helper, which waits to receive, carry.
static void
try_pass_two(int guess)
{
    if (guess == 0)
        return;
    struct ipc_buf b = { NULL, 0, 0, guess };
    struct ipc_words w;
    expect("SYS_IPC_SEND passing it", guess, sys_ipc_send(s_ep, 5, 6, &b), 0);
    long r = sys_ipc_call(s_ep, 5, 6, &b, &w);
    expect("SYS_IPC_CALL passing it", guess, r, 0);
    if (r == 0)
        undo_handle(b.handle);
}

// ---- The guesses -----------------------------------------------------------------

static const unsigned s_shifts[] = { 7, 8, 10, 12, 16, 20, 24, 28 };
static const unsigned s_generations[] = { 1, 2, 3, 5, 0x7F, 0xFF };
static const int s_edges[] = {
    -1,
    -2,
    -CAPS_PER_PROCESS,
    -CAPS_PER_PROCESS - 1,
    -0x10000,
    INT32_MIN,
    INT32_MIN + 1,
    INT32_MAX,
    INT32_MAX - 1,
    0xFFFF,
    0x10000,
    0xFFFFFF,
    0x1000000,
};

static bool
own(int h)
{
    for (int i = 0; i < s_own.n; i++)
        if (s_own.handles[i] == h)
            return true;
    return false;
}

static void
guess(void (*try)(int), int h)
{
    if (own(h)) {
        s_skipped++;
        return;
    }
    s_guesses++;
    try(h);
}

// Each bit of a known number flipped in turn: the same slot with another
// generation, or another slot, whatever the layout.
static void
guess_around(void (*try)(int), int known)
{
    for (unsigned b = 0; b < 32; b++)
        guess(try, (int)((unsigned)known ^ (1u << b)));
    guess(try, known);
}

static void
for_each_guess(void (*try)(int))
{
    for (int i = 0; i <= CAPS_PER_PROCESS + 1; i++) {
        guess(try, i);
        for (unsigned s = 0; s < ARRAY_SIZE(s_shifts); s++)
            for (unsigned g = 0; g < ARRAY_SIZE(s_generations); g++)
                guess(try, (int)((unsigned)i | s_generations[g] << s_shifts[s]));
    }
    for (unsigned i = 0; i < ARRAY_SIZE(s_edges); i++)
        guess(try, s_edges[i]);
    for (unsigned i = 0; i < s_victim.handle_count && i < ISO_NAMES_HANDLES; i++)
        guess_around(try, s_victim.handles[i]);
    for (unsigned i = 0; i < s_stale_count; i++)
        guess_around(try, s_stale[i]);
    struct iso_table mine = s_own; // a copy: guess() reads s_own
    for (int i = 0; i < mine.n; i++)
        guess_around(try, mine.handles[i]);
}

// ---- Its own handles ---------------------------------------------------------------

static bool
victim_tid(unsigned tid)
{
    for (unsigned i = 0; i < s_victim.tid_count && i < ISO_NAMES_TIDS; i++)
        if (s_victim.tids[i] == tid)
            return true;
    return false;
}

// Reads its own table into s_own and checks what each handle names: only
// the kinds it was given or made, no thread or process of the victim's,
// and no number a closed handle had.
static void
check_own(const char *when)
{
    if (!iso_table_read(&s_own)) {
        failed("%s: cannot read its own handle table", when);
        return;
    }
    for (int i = 0; i < s_own.n; i++) {
        const struct cap_info *info = &s_own.info[i];
        int h = s_own.handles[i];
        if (info->type == CAP_TYPE_THREAD && victim_tid(info->base))
            failed("%s: its handle %d names the victim's thread %u", when, h, info->base);
        if (info->type == CAP_TYPE_PROCESS)
            failed("%s: it holds a process handle (%d, process %u%s)", when, h, info->base,
                   info->base == s_victim.pid ? ": THE VICTIM" : "");
        if (info->type != CAP_TYPE_ENDPOINT && info->type != CAP_TYPE_MODULE &&
            info->type != CAP_TYPE_THREAD && info->type != CAP_TYPE_REPLY)
            failed("%s: its handle %d names a %u it never asked for", when, h, info->type);
        for (unsigned k = 0; k < s_stale_count; k++)
            if (s_stale[k] == h)
                failed("%s: its open handle %d has a closed handle's number", when, h);
    }
}

// Checks that a pass left its own table as check_own found it.
static void
check_own_unchanged(const char *when)
{
    static struct iso_table now;
    if (!iso_table_read(&now) || !iso_table_equal(&now, &s_own))
        failed("%s: its own handle table changed", when);
}

// ---- Its helper ----------------------------------------------------------------------

// Calls the attacker (which takes the call and answers only after the
// first pass), then receives until the attacker's release.  Counts in
// s_helper_odd every answer or message that is not the attacker's own.
static int
helper(void *arg)
{
    (void)arg;
    struct ipc_words w = { 0, 0, 0 };
    struct ipc_buf b = { NULL, 0, 0, 0 };
    int r = sys_ipc_call(s_ep, HELPER_CALL, 0, &b, &w);
    if (r != 0 || w.w0 != HELPER_ANSWER || b.handle != 0)
        s_helper_odd++;
    for (;;) {
        b = (struct ipc_buf){ NULL, 0, 0, 0 };
        w = (struct ipc_words){ 0, 0, 0 };
        r = sys_ipc_recv(s_ep, &w, &b);
        if (r == 0 && w.w0 == HELPER_RELEASE && w.reply == 0 && b.handle == 0)
            return 0;
        s_helper_odd++;
        if (r < 0) {
            sys_sleep(1);
            continue;
        }
        if (w.reply > 0) // a call got through: answer it, or the attacker waits
            sys_ipc_reply(w.reply, 0, 0, NULL);
        if (b.handle > 0)
            sys_cap_close(b.handle);
    }
}

// Makes and closes a few handles, keeping their numbers: later handles
// may reuse their slots, never their numbers.
static void
make_stale(void)
{
    while (s_stale_count + 2 <= STALE_MAX) {
        int e = sys_endpoint_create();
        int d = e > 0 ? sys_cap_dup(e, CAP_SEND, 0) : -1;
        if (e <= 0 || d <= 0) {
            failed("cannot make handles to close: %d, %d", e, d);
            return;
        }
        s_stale[s_stale_count++] = d;
        s_stale[s_stale_count++] = e;
        sys_cap_close(d);
        sys_cap_close(e);
    }
}

// Makes its endpoint and helper and takes the helper's call.
static bool
start_helper(void)
{
    s_ep = sys_endpoint_create();
    if (s_ep <= 0)
        return false;
    int helper_thread = thread_spawn(helper, NULL, s_helper_stack, sizeof s_helper_stack);
    if (helper_thread <= 0)
        return false;
    struct ipc_words w = { 0, 0, 0 };
    if (sys_ipc_recv(s_ep, &w, NULL) != 0 || w.w0 != HELPER_CALL || w.reply <= 0)
        return false;
    s_reply = w.reply;
    return true;
}

// The helper's thread handle: the one thread handle it holds.
static int
helper_handle(void)
{
    for (int i = 0; i < s_own.n; i++)
        if (s_own.info[i].type == CAP_TYPE_THREAD)
            return s_own.handles[i];
    return 0;
}

int
main(void)
{
    struct ipc_words cmd = { 0, 0, 0 };
    struct ipc_buf names = { &s_victim, 0, sizeof s_victim, 0 };
    if (sys_ipc_call(ISO_ENDPOINT, ISO_HELLO, 0, &names, &cmd) != 0 || cmd.w0 != ISO_ATTACK ||
        names.len != sizeof s_victim)
        return ISO_EXIT_BAD;
    s_pid = (unsigned)sys_gettid();
    make_stale();
    if (!start_helper()) {
        printf("  # iso_attacker: cannot start its helper\n");
        return ISO_EXIT_BAD;
    }

    check_own("before the first pass");
    for_each_guess(try_pass_one);
    check_own_unchanged("after the first pass");
    if (sys_ipc_reply(s_reply, HELPER_ANSWER, 0, NULL) != 0)
        failed("its answer to its helper failed");
    sys_sleep(2); // the helper is receiving by now

    check_own("before the second pass");
    for_each_guess(try_pass_two);
    check_own_unchanged("after the second pass");
    int helper_thread = helper_handle();
    if (sys_ipc_send(s_ep, HELPER_RELEASE, 0, NULL) != 0)
        failed("its release of its helper failed");
    if (sys_wait(helper_thread, WAIT_TICKS) != 0)
        failed("its helper did not end");
    if (s_helper_odd)
        failed("its helper got %u messages or answers that were not its own", s_helper_odd);

    printf("  # iso_attacker: %u guesses (and %u of its own handles, skipped), %u calls, "
           "%u failed\n",
           s_guesses, s_skipped, s_calls, s_failures);
    return s_failures ? 1 : 0;
}
