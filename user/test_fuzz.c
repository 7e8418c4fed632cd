// A system call fuzzer.  FUZZ_THREADS threads in each of two processes
// (this one and fuzz_peer, user/fuzz_peer.c, which it spawns) issue random
// system calls with random arguments - every number in range and beyond,
// kernel addresses, unmapped, straddling and misaligned pointers, huge and
// negative lengths, random handles (see "Handles" below) - through int 0x80
// and sysenter at random, each from a generator seeded from one printed
// seed, so that a failure can be replayed (each thread's calls follow from
// the seed; how the threads interleave does not).
// Each call's entry state is random too (see "Entry state" below): EFLAGS
// (DF, AC, NT, RF, ID, IOPL and IF attempts), ds, es, fs and gs, and the
// stack frame placed at page and region edges; what comes back is checked
// against the ABI: registers, segments, EFLAGS.
// Every result is checked against what the arguments call for, and counted
// by errno.  Afterwards the kernel must be alive, the frame, heap, thread,
// process, handle and object counters back at their baseline, and every
// arena empty.  The run's rate is printed as "# N calls in T ticks: R calls/s".
//
// Options, words of the kernel command line (sys_cmdline):
//   fuzz_seed=N    the seed (decimal or 0x hex; default FUZZ_SEED_DEFAULT)
//   fuzz_calls=N   calls in all, shared by the threads of both processes
//                  (default 20000)
//   fuzz_eflags=M  only the EFLAGS bits in M are tried on entry (default
//                  all; IF: clearing it, TF: threads that die of it)
//
// Handles.  Each fuzz thread keeps a pool of handles it made and knows what
// each one names, its rights and badge, and which pool handles it was
// derived from: endpoints, duplicates (sys_cap_dup) with random subsets of
// rights and random badges, threads, fault_child processes, and the copies
// the responder sends back.  Beside its pool it uses the process's shared
// handles (the modules, the responder's endpoint, its own feed endpoint,
// the threads, the peer process), the numbers of handles it closed, revoked
// or answered with (stale: such a number never names anything again), and
// numbers it does not hold: random ones, its own with a bit flipped, and the
// ones fuzz_peer held when the run began (the processes swap their lists).
// Every call that takes a handle gets one of these, of the kind it takes or
// not, with the rights it needs or not, and the result is predicted as the
// ABI says: -EBADF for a number that is not an open handle of this process
// to an object of that kind, -EPERM for a missing right.  SYS_CAP_INFO,
// SYS_CAP_LIST and SYS_CAP_REVOKE's count are checked against the pool.
// A number the thread does not hold is first checked closed (SYS_CAP_INFO
// says -EBADF) under the table lock (below), so that no new handle can take
// it before the call.
//
// No call may leave a thread blocked for good, so the random choices keep to
// rules:
// - SYS_EXIT ends the process and SYS_THREAD_EXIT the caller: the fuzz
//   threads never make them.  Threads the fuzzer creates at random make
//   SYS_THREAD_EXIT (fuzz_raw_exit), and the last test makes SYS_EXIT in an
//   exc_child process.
// - send and call go only to the responder's endpoint, on which a helper
//   thread receives and replies, or to endpoints that refuse at once: no
//   receiver left (-EPIPE), a missing right, a handle that is not one.
// - recv takes from the thread's feed endpoint, on which a feeder thread
//   sends (or calls) once for each recv the thread announced
//   (s_fuzz[i].requests); only a recv that will take a message is announced.
//   A call from the feeder leaves the thread a reply handle, which its next
//   step answers (reply, reply_recv or close) while the feeder waits.
// - reply and reply_recv with a handle that is not a pending reply fail at
//   once; reply_recv then receives nothing.
// - sleep is 0 to 2 ticks, or more than the kernel accepts (-EINVAL).
// - spawn starts fault_child (which ends by itself with a page fault) with
//   random handles, at most CHILDREN_AT_ONCE per thread unwaited; a wait
//   for the thread's own children and threads may last, one for any other
//   thread or the peer at most SHORT_WAIT ticks; kill ends only the
//   thread's own children; close and revoke touch only the thread's pool.
// - a pointer the kernel may write is never one into data the fuzzer uses:
//   it is a per-thread scratch area, a read-only table, an address that
//   fails, or the last bytes of the image or of the stack with a length
//   that runs past them, which the kernel must refuse whole.
// - each fuzz thread's entry frames stay in its own STATE_REGION of the
//   main stack, which no other code uses there (thread i: from
//   STACK_BOTTOM + i * STATE_REGION; the peer's thread 0: the top, its main
//   thread having moved to s_peer_stack).
//
// Some threads are killed on purpose: thread_create at an unmapped entry,
// at fuzz_doomed_sysenter with a bad sysenter stack pointer, at
// fuzz_doomed_tf (TF set before int 0x80 or sysenter) or at
// fuzz_doomed_segment (a selector ring 3 may not load), and every
// fault_child.  No fuzz thread may be.
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

#define FUZZ_SEED_DEFAULT  0x7A4D3E11u
#define FUZZ_CALLS_DEFAULT 20000u
#define FUZZ_THREADS       4 // in each process
#define PROCESSES          2 // test_fuzz and fuzz_peer
#define PEER_NAME          "fuzz_peer"
#define FAULT_NAME         "fault_child"
#define EXC_NAME           "exc_child"
#define FUZZ_THREAD_EXIT   77 // a fuzz thread's exit code (see peer_main)
#ifndef FUZZ_PEER
#define FUZZ_PEER 0 // user/fuzz_peer.c: 1
#endif
#define FUZZ_STACK       8192
#define HELPER_STACK     4096
#define SCRATCH_SIZE     8192 // per thread; writable pointers land in its first half
#define SCRATCH_VALID    4096
#define LINE_MAX         128
#define UNEXPECTED_SHOWN 6 // per thread
#define CMDLINE_MAX      256

#define USER_BASE        0x00400000u
#define STACK_TOP        0xBFFF0000u // the main stack ends here (ABI)
#define STACK_BOTTOM     0xBFFE0000u // its lowest mapped byte at start (64 KiB)
#define UNMAPPED         0x10000000u
#define KERNEL_BASE      0xC0000000u
#define SLEEP_MAX        100000 // the kernel's longest sleep (kernel/syscall/sys_thread.c)
#define FAULT_CHILD_EXIT (128 + 14)
#define HANG_TICKS       1000 // no progress for this long is a hang
#define SETTLE_TICKS     300  // for the reaper to bring counters back

#define POOL             12                // handles a fuzz thread holds of its own
#define STALE_KEPT       32                // numbers of closed handles a fuzz thread remembers
#define CHILDREN_AT_ONCE 2                 // fault_child processes a fuzz thread has not waited for
#define SHARED_MAX       48                // the process's handles its fuzz threads may use
#define FOREIGN_MAX      64                // numbers the other process held
#define SHORT_WAIT       3                 // ticks: the longest wait for what may run on
#define FEED_CALL        0x100u            // in the feeder's w0: a call, to be answered
#define FEED_BADGE(g)    (0x5EED00u + (g)) // the feeder's badge towards fuzz thread g
#define RIGHTS_UNKNOWN   0xFF              // a reply handle's rights: the ABI does not say

extern char _end[]; // the first page past the image (user/user.ld)

// ---- Results by errno ------------------------------------------------------------

enum slot {
    S_OK,
    S_EPERM,
    S_ENOENT,
    S_ESRCH,
    S_EINTR,
    S_ENOEXEC,
    S_EBADF,
    S_EAGAIN,
    S_ENOMEM,
    S_EFAULT,
    S_EINVAL,
    S_EMFILE,
    S_EPIPE,
    S_EDEADLK,
    S_ENAMETOOLONG,
    S_ENOSYS,
    S_EMSGSIZE,
    S_ETIMEDOUT,
    S_OTHER,
    SLOTS
};

static const struct {
    int err;
    const char *name;
} s_slots[SLOTS] = {
    [S_OK] = { 0, "ok" },
    [S_EPERM] = { EPERM, "EPERM" },
    [S_ENOENT] = { ENOENT, "ENOENT" },
    [S_ESRCH] = { ESRCH, "ESRCH" },
    [S_EINTR] = { EINTR, "EINTR" },
    [S_ENOEXEC] = { ENOEXEC, "ENOEXEC" },
    [S_EBADF] = { EBADF, "EBADF" },
    [S_EAGAIN] = { EAGAIN, "EAGAIN" },
    [S_ENOMEM] = { ENOMEM, "ENOMEM" },
    [S_EFAULT] = { EFAULT, "EFAULT" },
    [S_EINVAL] = { EINVAL, "EINVAL" },
    [S_EMFILE] = { EMFILE, "EMFILE" },
    [S_EPIPE] = { EPIPE, "EPIPE" },
    [S_EDEADLK] = { EDEADLK, "EDEADLK" },
    [S_ENAMETOOLONG] = { ENAMETOOLONG, "ENAMETOOLONG" },
    [S_ENOSYS] = { ENOSYS, "ENOSYS" },
    [S_EMSGSIZE] = { EMSGSIZE, "EMSGSIZE" },
    [S_ETIMEDOUT] = { ETIMEDOUT, "ETIMEDOUT" },
    [S_OTHER] = { 0, "other" },
};

static enum slot
slot_of(long r)
{
    if (r >= 0)
        return S_OK;
    for (unsigned s = S_EPERM; s < S_OTHER; s++)
        if (-r == s_slots[s].err)
            return (enum slot)s;
    return S_OTHER;
}

#define B(s)   (1u << (s))
#define ANY_OK (-1L) // struct expect.value: any result >= 0

// What a call may return: one of the slots in mask; if S_OK is among them
// and value is not ANY_OK, value or alt.
struct expect {
    uint32_t mask;
    long value, alt;
};

static struct expect
expect_ok(long value)
{
    return (struct expect){ B(S_OK), value, value };
}

static struct expect
expect_ok2(long value, long alt)
{
    return (struct expect){ B(S_OK), value, alt };
}

static struct expect
expect_err(enum slot s)
{
    return (struct expect){ B(s), ANY_OK, ANY_OK };
}

// Any of the errors in bad (each one a check that applies), or if there
// are none, ok.  Where the ABI does not order two checks, either may come
// first.
static struct expect
expect_unless(uint32_t bad, struct expect ok)
{
    return bad ? (struct expect){ bad, ANY_OK, ANY_OK } : ok;
}

// ---- Handles as the fuzzer knows them ------------------------------------------

enum what {
    W_NONE,
    W_EP,        // an endpoint this thread made
    W_RESP,      // the responder's endpoint
    W_FEED,      // this thread's feed endpoint
    W_FAULT_MOD, // fault_child's module
    W_MODULE,    // another module: never spawned here
    W_CHILD,     // a fault_child this thread spawned
    W_THREAD,    // a thread this thread made at random
    W_SIBLING,   // a fuzz thread or a helper of this process
    W_PEER,      // fuzz_peer's process: never killed
    W_REPLY,     // the feeder's call, to be answered
};

// What a handle names and may do.
struct hd {
    int value;
    uint8_t what;   // enum what
    uint8_t type;   // CAP_TYPE_*
    uint8_t rights; // CAP_*, or RIGHTS_UNKNOWN
    int8_t sibling; // W_SIBLING: the fuzz thread's index (-1: a helper)
    uint32_t badge;
    uint32_t base; // SYS_CAP_INFO's base where known (a thread's id, an
                   //   endpoint's serial: the same for every handle to it)
};

// A handle of a fuzz thread's pool.  Derivation follows the kernel's: a
// duplicate or a copy passed on is derived from the handle it came from and
// from everything that one is derived from.  Whether a handle stays derived
// from its grandparent once its parent is closed is the kernel's choice, so
// those links turn from sure to maybe; SYS_CAP_REVOKE must close the sure
// descendants, may close the maybe ones, and must leave the rest.
struct held {
    struct hd d;          // d.value 0: a free entry
    int8_t obj;           // its object in objs[] (-1: one the thread did not make)
    bool root;            // made by the call that made the object
    uint16_t sure, maybe; // pool entries it is derived from
    unsigned away;        // copies passed on from it or its descendants, maybe open
};

// What a fuzz thread made: endpoints, children, threads.
struct object {
    uint8_t what;           // W_NONE: a free entry; W_EP, W_CHILD, W_THREAD
    bool ended;             // W_CHILD, W_THREAD: a wait returned its code
    bool killed;            // W_CHILD: sys_kill returned 0
    bool doomed;            // W_THREAD: dies of a fault, with a code the fuzzer cannot know
    long code;              // W_THREAD: the code it exits with; once ended: the code
    uint16_t recv_in;       // W_CHILD: endpoints (objects) it got a copy of with CAP_RECV
    unsigned children_recv; // W_EP: unwaited children holding a copy with CAP_RECV
};

// What the handle calls did, for the report.
struct handle_stats {
    unsigned made, closed, revoked;         // handles the thread got; closed; closed by revoke
    unsigned echoed;                        // copies that came back in a reply
    unsigned answered;                      // feeder calls answered
    unsigned probes;                        // numbers not held, checked closed and used
    unsigned foreign;                       // of those, numbers fuzz_peer held
    unsigned busy;                          // probes given up: the table lock was taken
    unsigned stale;                         // closed numbers used again
    unsigned wrong_type, no_right;          // held handles given where -EBADF, -EPERM were due
    uint32_t rights[CAP_TYPE_REPLY + 1][4]; // rights words sys_cap_dup made, by type
};

// ---- Per-thread state -----------------------------------------------------------

struct fuzzer {
    uint8_t scratch[SCRATCH_SIZE]; // what the kernel may write (pick_ptr)
    uint8_t stack[FUZZ_STACK];
    unsigned index;  // in this process
    unsigned global; // across both processes: seeds the generator
    uint32_t rng;
    uint32_t region; // STATE_REGION bytes of the main stack for entry frames
    unsigned calls;  // to make
    volatile int tid;
    int handle;         // the thread's handle (the main thread's)
    int feed;           // its feed endpoint (all rights; the main thread's)
    int feed_send;      // the feeder's handle to it: CAP_SEND, badged
    uint32_t feed_base; // the feed endpoint's SYS_CAP_INFO base
    volatile unsigned made;
    volatile bool done;
    volatile unsigned requests; // recvs announced to the feeder
    unsigned sent;              // the feeder's sends for them (feeder only)
    struct held pool[POOL];
    struct object objs[POOL];
    int stale[STALE_KEPT]; // a ring of closed numbers
    unsigned stale_count;
    int reply;    // a reply handle to answer (0: none)
    bool probing; // holds the table lock until enter() has made the call
    struct handle_stats hs;
    unsigned results[SLOTS];
    unsigned by_number[SYS_COUNT + 1]; // the last entry: numbers out of range
    unsigned unexpected;
    unsigned spawned, doomed, raw_threads;
    unsigned state_calls[2]; // calls made through fuzz_state_call: int 0x80, sysenter
    unsigned state_bad;      // of those, how many came back with a wrong state
    int stats_result;
    struct kfast_stats stats; // at the end
    char line[LINE_MAX];
};

static struct fuzzer s_fuzz[FUZZ_THREADS] ALIGNED(4096);

static uint32_t s_seed = FUZZ_SEED_DEFAULT;
static unsigned s_calls = FUZZ_CALLS_DEFAULT;
static uint32_t s_eflags_mask = ~0u; // fuzz_eflags=: the EFLAGS bits entries may set
static int s_main_tid;
static int s_fault_child = -1; // module handles
static int s_exc_child = -1;
static int s_cmdline_len;

// The process's handles that its fuzz threads use but never close: made by
// the main thread before they start, closed after they end.
static int s_resp_ep = -1;                  // the responder's endpoint
static int s_responder = -1, s_feeder = -1; // thread handles
static struct hd s_shared[SHARED_MAX];
static unsigned s_shared_count;
static int s_foreign[FOREIGN_MAX]; // the numbers the other process held
static unsigned s_foreign_count;
static volatile bool s_go; // the fuzz threads start

// A table the kernel may read but not write; each entry decodes as a
// struct ipc_buf whose pointers fail or are NULL and which passes no handle.
// One entry a line (clang-format 14 would pack them into columns).
// clang-format off
static const struct ipc_buf s_ro_bufs[] = {
    { NULL, 0, 0, 0 },
    { (void *)KERNEL_BASE, 16, 16, 0 },
    { (void *)UNMAPPED, 0, 64, 0 },
    { NULL, 0xFFFFFFFFu, 0, 0 },
    { (void *)UNMAPPED, 4, 0, 0 },
    { NULL, 0, 0xFFFFFFFFu, 0 },
};
// clang-format on

// ---- The table lock ----------------------------------------------------------------
// A probe - a number the thread does not hold, checked closed - must fail
// with -EBADF, which holds only if no handle takes that number between the
// check and the call.  So every call that may add a handle to this
// process's table counts itself in s_adding for its length (enter(); the
// feeder for its calls, whose replies may bring one), and a probe goes
// ahead only while that count is 0, with s_probing keeping new ones out
// until its call has returned.  A probe never waits: when the table is
// busy the thread uses a stale number instead.  The responder takes no
// part: what it receives or gives away is added by a caller that counts.

static volatile unsigned s_adding, s_probing;

static void
adding_begin(void)
{
    for (;;) {
        __atomic_add_fetch(&s_adding, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&s_probing, __ATOMIC_SEQ_CST))
            return;
        __atomic_sub_fetch(&s_adding, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&s_probing, __ATOMIC_SEQ_CST))
            sys_yield();
    }
}

static void
adding_end(void)
{
    __atomic_sub_fetch(&s_adding, 1, __ATOMIC_SEQ_CST);
}

static bool
probe_lock(void)
{
    unsigned free = 0;
    if (!__atomic_compare_exchange_n(&s_probing, &free, 1, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        return false;
    if (__atomic_load_n(&s_adding, __ATOMIC_SEQ_CST) == 0)
        return true;
    __atomic_store_n(&s_probing, 0, __ATOMIC_SEQ_CST);
    return false;
}

static void
probe_unlock(void)
{
    __atomic_store_n(&s_probing, 0, __ATOMIC_SEQ_CST);
}

// ---- Helper threads: the responder and the feeder ------------------------------

static uint8_t s_responder_stack[HELPER_STACK] ALIGNED(16);
static uint8_t s_feeder_stack[HELPER_STACK] ALIGNED(16);
static uint8_t s_responder_buf[IPC_BUF_MAX];
static uint8_t s_feeder_buf[IPC_BUF_MAX];
static volatile bool s_responder_stop, s_feeder_stop;
static volatile unsigned s_responder_served, s_feeder_sent, s_feeder_calls, s_helper_errors;

static uint32_t
xorshift(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

// Spreads a seed (splitmix32's finalizer), so that nearby seeds differ.
static uint32_t
mix(uint32_t x)
{
    x += 0x9E3779B9u;
    x = (x ^ (x >> 16)) * 0x85EBCA6Bu;
    x = (x ^ (x >> 13)) * 0xC2B2AE35u;
    x ^= x >> 16;
    return x ? x : 1;
}

// Counts a helper's surprise and reports the first few.
static void
helper_error(const char *what, int r)
{
    if (s_helper_errors++ < UNEXPECTED_SHOWN)
        printf("  # %s%s returned %d\n", FUZZ_PEER ? "peer " : "", what, r);
}

// Closes a handle a helper received; -EBADF: its sender revoked it meanwhile.
static void
helper_close(int handle)
{
    int r = sys_cap_close(handle);
    if (r != 0 && r != -EBADF)
        helper_error("helper: close", r);
}

// Answers the call msg stands for: w0 + 1 and the badge the message came
// with, a random payload, and the handle that came with it, if any (then
// closed here: the caller gets its own copy).  A payload larger than the
// caller's buffer, or a handle revoked meanwhile, fails on this side and
// leaves the call open: it is answered bare.  -EPIPE: the caller is gone.
static void
responder_answer(const struct ipc_words *msg, int badge, int passed, uint32_t *rng)
{
    struct ipc_buf out = { s_responder_buf, xorshift(rng) % 80, 0, passed };
    if (xorshift(rng) % 8 == 0)
        out.len = IPC_BUF_MAX;
    int r = sys_ipc_reply(msg->reply, msg->w0 + 1, (unsigned)badge, &out);
    if (r != 0 && r != -EPIPE) {
        if (r != -EMSGSIZE && r != -EBADF)
            helper_error("responder: reply", r);
        r = sys_ipc_reply(msg->reply, msg->w0 + 1, (unsigned)badge, NULL);
        if (r != 0 && r != -EPIPE)
            helper_error("responder: bare reply", r);
    }
    if (passed)
        helper_close(passed);
}

// Receives on s_resp_ep and answers calls (responder_answer); a message
// must come with the badge its sender put in w1.  A call without a handle
// is answered with SYS_IPC_REPLY_RECV half the time, which receives the
// next message at once; a handle received is closed before the next
// receive, so that no copy lingers here.
static int
responder(void *arg)
{
    uint32_t rng = mix(s_seed ^ 0x5EED0001u);
    (void)arg;
    struct ipc_words msg;
    struct ipc_buf buf = { s_responder_buf, 0, sizeof s_responder_buf, 0 };
    int badge = sys_ipc_recv(s_resp_ep, &msg, &buf);
    for (;;) {
        if (s_responder_stop)
            return 0;
        if (badge < 0) {
            helper_error("responder: recv", badge);
            buf = (struct ipc_buf){ s_responder_buf, 0, sizeof s_responder_buf, 0 };
            badge = sys_ipc_recv(s_resp_ep, &msg, &buf);
            continue;
        }
        s_responder_served++;
        if ((unsigned)badge != msg.w1)
            helper_error("responder: a badge other than the sender's", badge);
        int passed = buf.handle;
        if (msg.reply && !passed && xorshift(&rng) % 2) {
            struct ipc_words call = msg; // msg takes what comes back, failure or not
            buf =
                (struct ipc_buf){ s_responder_buf, xorshift(&rng) % 80, sizeof s_responder_buf, 0 };
            int r =
                sys_ipc_reply_recv(call.reply, call.w0 + 1, (unsigned)badge, &buf, s_resp_ep, &msg);
            if (r >= 0) {
                badge = r;
                continue;
            }
            // The reply failed (the payload was too large for the caller):
            // the call is still open.  (-EPIPE, a caller gone, is ignored.)
            if (r != -EMSGSIZE)
                helper_error("responder: reply_recv", r);
            r = sys_ipc_reply(call.reply, call.w0 + 1, (unsigned)badge, NULL);
            if (r != 0 && r != -EPIPE)
                helper_error("responder: bare reply", r);
        } else if (msg.reply) {
            responder_answer(&msg, badge, passed, &rng);
        } else if (passed) {
            helper_close(passed);
        }
        buf = (struct ipc_buf){ s_responder_buf, 0, sizeof s_responder_buf, 0 };
        badge = sys_ipc_recv(s_resp_ep, &msg, &buf);
    }
}

// One message to fuzz thread f, announced by a recv: a send, or one time
// in four a call, which holds the table lock's count (the reply handle it
// gives f is a new handle of this process) until f has answered.  A
// payload larger than f's buffer is sent again without one.
static void
feed(struct fuzzer *f, unsigned i, uint32_t *rng)
{
    bool call = xorshift(rng) % 4 == 0;
    struct ipc_buf buf = { s_feeder_buf, xorshift(rng) % 32, sizeof s_feeder_buf, 0 };
    unsigned w0 = i | (call ? FEED_CALL : 0);
    int r;
    if (!call) {
        if ((r = sys_ipc_send(f->feed_send, w0, f->sent, &buf)) == -EMSGSIZE) {
            buf.len = 0;
            r = sys_ipc_send(f->feed_send, w0, f->sent, &buf);
        }
        if (r != 0)
            helper_error("feeder: send", r);
        return;
    }
    struct ipc_words reply;
    adding_begin();
    if ((r = sys_ipc_call(f->feed_send, w0, f->sent, &buf, &reply)) == -EMSGSIZE) {
        buf.len = 0;
        r = sys_ipc_call(f->feed_send, w0, f->sent, &buf, &reply);
    }
    adding_end();
    s_feeder_calls++;
    // -EPIPE: the fuzz thread closed the reply handle.
    if (r != 0 && r != -EPIPE)
        helper_error("feeder: call", r);
    if (r == 0 && buf.handle)
        helper_close(buf.handle);
}

// Sends to each fuzz thread once per recv it announced.
static int
feeder(void *arg)
{
    uint32_t rng = mix(s_seed ^ 0x5EED0002u);
    (void)arg;
    while (!s_feeder_stop) {
        bool busy = false;
        for (unsigned i = 0; i < FUZZ_THREADS; i++) {
            struct fuzzer *f = &s_fuzz[i];
            if (f->sent == f->requests)
                continue;
            busy = true;
            feed(f, i, &rng);
            f->sent++;
            s_feeder_sent++;
        }
        if (!busy)
            sys_yield();
    }
    return 0;
}

// ---- Threads made at random --------------------------------------------------------
// fuzz_raw_exit: SYS_THREAD_EXIT with the code in eax (the argument).
// fuzz_doomed_sysenter: sysenter with ebp = eax, which is never a usable
// stack pointer, so the kernel must kill the thread.  Neither touches its
// stack, so any stack top does.

void fuzz_raw_exit(void);
void fuzz_doomed_sysenter(void);
volatile unsigned s_doomed_survivors;

// Hand layout: clang-format 14 takes STR() between the strings for a call.
// clang-format off
__asm__(
    "    .text\n"
    "fuzz_raw_exit:\n"
    "    mov %eax, %ebx\n"
    "    mov $" STR(SYS_THREAD_EXIT) ", %eax\n"
    "    int $0x80\n"
    "    ud2\n"
    "fuzz_doomed_sysenter:\n"
    "    mov %eax, %ebp\n"
    "    mov $" STR(SYS_GETTID) ", %eax\n"
    "    sysenter\n"
    "    lock incl s_doomed_survivors\n"
    "    mov $" STR(SYS_THREAD_EXIT) ", %eax\n"
    "    xor %ebx, %ebx\n"
    "    int $0x80\n"
    "    ud2\n");
// clang-format on

// ---- Entry state ----------------------------------------------------------------
// Besides eax and the arguments, ring 3 controls on kernel entry its EFLAGS
// (what popf lets it change), ds, es, fs and gs (any selector the CPU lets
// it load), the stack pointer and, for sysenter, where the three words the
// kernel reads (ebp) are.  fuzz_state_call makes one call with all of them
// chosen, right before the int 0x80 or sysenter, and records what came back.
//
// The frame: the call runs on STATE_FRAME bytes just below a chosen top T,
// inside the thread's region of the main stack (f->region):
//   [T - 12, T)   sysenter's words: return eip, ecx, edx (ebp = T - 12)
//   T - 8         esp at int 0x80, and after either way back
//   [T - 60, T - 8)  what the stub pushes on return: eflags, pushad, ds..gs
//   T - 64        the struct state_call pointer
//   T - 68        the EFLAGS for popf; then the EFLAGS the CPU accepted
// T may be misaligned, except with AC set: the stub's own pushes then must
// be aligned, or they would raise #AC in ring 3.  Nothing between the popf
// and the entry instruction touches memory but an aligned pushf.  After the
// return the stub pushes everything first (through ss, the only segment
// the kernel must give back usable), then loads USER_DS into ds and es,
// clears DF, AC, NT and TF, copies the pushes out and goes back to the C
// stack with the caller's segments.  TF is never set here: a thread with TF
// takes a #DB after its next instruction, which kills it; fuzz_doomed_tf
// does that on purpose (fuzz_thread_create).

#define EF_CF        0x00000001u
#define EF_PF        0x00000004u
#define EF_AF        0x00000010u
#define EF_ZF        0x00000040u
#define EF_SF        0x00000080u
#define EF_TF        0x00000100u
#define EF_IF        0x00000200u
#define EF_DF        0x00000400u
#define EF_OF        0x00000800u
#define EF_IOPL      0x00003000u
#define EF_NT        0x00004000u
#define EF_RF        0x00010000u
#define EF_VM        0x00020000u
#define EF_AC        0x00040000u
#define EF_VIF       0x00080000u
#define EF_VIP       0x00100000u
#define EF_ID        0x00200000u
#define EF_ARITH     (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF)
#define EF_RESERVED1 0x00000002u // always 1
// The bits ring 3 owns (include/x86.h, EFLAGS_USER); TF never comes back
// from a call that survives.
#define EF_USER      (EF_ARITH | EF_DF | EF_NT | EF_RF | EF_AC | EF_ID)

#define USER_CS_SEL  0x1B // include/gdt.h
#define USER_DS_SEL  0x23
#define STATE_FRAME  68
#define STATE_REGION 8192 // per thread, in the main stack

// What the stub pushes on the way back, lowest address first.
struct state_out {
    uint32_t gs, fs, es, ds;                         // 32-bit pushes: only the low 16 bits count
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax; // pushad (esp: T - 12)
    uint32_t eflags;
};

// One call; the offsets are the stub's.
struct state_call {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp; // 0: ebp only for int 0x80
    uint32_t eflags;                            // 28: popf'd before the entry
    uint32_t ds, es, fs, gs;                    // 32
    uint32_t top;                               // 48: T
    uint32_t sysenter;                          // 52: 0: int 0x80
    uint32_t c_esp;                             // 56: the stub's own
    uint32_t accepted;                          // 60: EFLAGS after the popf
    struct state_out out;                       // 64
};

_Static_assert(offsetof(struct state_call, eflags) == 28, "stub offsets");
_Static_assert(offsetof(struct state_call, ds) == 32, "stub offsets");
_Static_assert(offsetof(struct state_call, top) == 48, "stub offsets");
_Static_assert(offsetof(struct state_call, c_esp) == 56, "stub offsets");
_Static_assert(offsetof(struct state_call, out) == 64, "stub offsets");
_Static_assert(offsetof(struct state_call, out.eax) == 108, "stub offsets");
_Static_assert(sizeof(struct state_out) == 52 && STATE_FRAME == 52 + 16, "frame layout");

// Returns c->out.eax, the call's result.
long fuzz_state_call(struct state_call *c);
void fuzz_doomed_tf(void);
void fuzz_doomed_segment(void);
volatile unsigned s_tf_survivors;

// Hand layout: clang-format 14 takes STR() between the strings for a call.
// clang-format off
__asm__(
    "    .text\n"
    "fuzz_state_call:\n"
    "    push %ebp\n"
    "    push %ebx\n"
    "    push %esi\n"
    "    push %edi\n"
    "    push %fs\n"
    "    push %gs\n"
    "    push %ds\n"
    "    push %es\n"
    "    mov 36(%esp), %eax\n"          // c
    "    mov %esp, 56(%eax)\n"
    "    mov 48(%eax), %edx\n"          // T
    "    mov %eax, -64(%edx)\n"
    "    mov 28(%eax), %ecx\n"
    "    mov %ecx, -68(%edx)\n"
    "    movl $fuzz_state_back, -12(%edx)\n"
    "    mov 8(%eax), %ecx\n"
    "    mov %ecx, -8(%edx)\n"
    "    mov 12(%eax), %ecx\n"
    "    mov %ecx, -4(%edx)\n"
    "    lea -68(%edx), %esp\n"
    "    mov 44(%eax), %ecx\n"
    "    mov %cx, %gs\n"
    "    mov 40(%eax), %ecx\n"
    "    mov %cx, %fs\n"
    "    mov 36(%eax), %ecx\n"
    "    mov %cx, %es\n"
    "    mov 32(%eax), %ecx\n"
    "    mov %cx, %ds\n"                // from here on, only ss
    "    mov %ss:4(%eax), %ebx\n"
    "    mov %ss:16(%eax), %esi\n"
    "    mov %ss:20(%eax), %edi\n"
    "    mov %ss:8(%eax), %ecx\n"
    "    mov %ss:12(%eax), %edx\n"
    "    cmpl $0, %ss:52(%eax)\n"
    "    jne 1f\n"
    "    mov %ss:24(%eax), %ebp\n"
    "    mov %ss:0(%eax), %eax\n"
    "    popf\n"
    "    pushf\n"                       // the EFLAGS the CPU took, at T - 68
    "    lea 60(%esp), %esp\n"          // T - 8, flags untouched
    "    int $0x80\n"
    "    jmp fuzz_state_back\n"
    "1:  lea 56(%esp), %ebp\n"          // T - 12
    "    mov %ss:0(%eax), %eax\n"
    "    popf\n"
    "    pushf\n"
    "    sysenter\n"
    "fuzz_state_back:\n"
    "    pushf\n"
    "    pusha\n"
    "    push %ds\n"
    "    push %es\n"
    "    push %fs\n"
    "    push %gs\n"
    "    mov -4(%esp), %ecx\n"          // c, at T - 64
    "    mov -8(%esp), %edx\n"          // the accepted EFLAGS, at T - 68
    "    mov $" STR(USER_DS_SEL) ", %eax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    cld\n"
    "    pushf\n"
    "    andl $~0x44500, (%esp)\n"      // AC, NT, DF, TF
    "    popf\n"
    "    mov %edx, 60(%ecx)\n"
    "    mov %ecx, %eax\n"
    "    mov %esp, %esi\n"
    "    lea 64(%ecx), %edi\n"
    "    mov $13, %ecx\n"
    "    rep movsl\n"
    "    mov 56(%eax), %esp\n"
    "    pop %es\n"
    "    pop %ds\n"
    "    pop %gs\n"
    "    pop %fs\n"
    "    pop %edi\n"
    "    pop %esi\n"
    "    pop %ebx\n"
    "    pop %ebp\n"
    "    mov 108(%eax), %eax\n"
    "    ret\n"
    // A thread made to die of TF: eax = 0 enters by int 0x80, else by
    // sysenter, with TF set.  Its stack (s_doomed_stack) holds what it
    // pushes, the same words in every such thread.  It takes a #DB after
    // the instruction that follows its return to ring 3 (include/uapi/
    // syscall.h); if it lives two instructions on, the kernel dropped TF.
    "fuzz_doomed_tf:\n"
    "    mov %eax, %ecx\n"
    "    mov $" STR(SYS_GETTID) ", %eax\n"
    "    pushl $0\n"
    "    pushl $0\n"
    "    pushl $2f\n"
    "    mov %esp, %ebp\n"
    "    pushl $0x302\n"                // IF, TF
    "    test %ecx, %ecx\n"
    "    jnz 1f\n"
    "    popf\n"
    "    int $0x80\n"
    "    jmp 2f\n"
    "1:  popf\n"
    "    sysenter\n"
    "2:  nop\n"
    "    nop\n"
    "    lock incl %ss:s_tf_survivors\n"
    "    mov $" STR(SYS_THREAD_EXIT) ", %eax\n"
    "    xor %ebx, %ebx\n"
    "    int $0x80\n"
    "    ud2\n"
    // A thread made to die of a selector ring 3 may not load: eax.
    "fuzz_doomed_segment:\n"
    "    mov %ax, %ds\n"
    "    lock incl %ss:s_doomed_survivors\n"
    "    mov $" STR(SYS_THREAD_EXIT) ", %eax\n"
    "    xor %ebx, %ebx\n"
    "    int $0x80\n"
    "    ud2\n");
// clang-format on

static uint8_t s_doomed_stack[64] ALIGNED(16);

// ---- Random arguments -----------------------------------------------------------

static uint32_t
rnd(struct fuzzer *f)
{
    return xorshift(&f->rng);
}

// Whether a one-in-n chance came up.
static bool
one_in(struct fuzzer *f, uint32_t n)
{
    return rnd(f) % n == 0;
}

static const uint32_t s_kernel_addrs[] = {
    KERNEL_BASE, 0xC0100000u, 0xC0000000u + 0x1000, 0xFFFFFFFFu,
    0xFFFFF000u, 0xFFFFFFFCu, 0xE0000000u,          0xFFC00000u,
};

static const uint32_t s_user_holes[] = {
    1,
    0x1000,
    USER_BASE - 1,
    USER_BASE - 4,
    UNMAPPED,
    UNMAPPED + 3,
    USER_STACK_TOP - USER_STACK_MAX - 0x1000, // below where the main stack may grow
    STACK_TOP,
    0xBFFFFFF0u,
    0xBFFFFFFFu,
};

enum ptr_kind {
    P_NULL,
    P_BAD,  // every access fails (unmapped or kernel, or starts there)
    P_EDGE, // `room` bytes mapped, then nothing: larger accesses fail
    P_RO,   // readable up to _end, never writable
    P_RW,   // this thread's scratch: readable and writable up to _end
};

struct uptr {
    uint32_t addr;
    enum ptr_kind kind;
    uint32_t room; // P_EDGE: the mapped bytes
};

enum ptr_use { USE_READ, USE_WRITE };

// A pointer of a random kind.  USE_WRITE pointers into the image are only
// this thread's scratch or s_ro_bufs: what the kernel might write there
// hurts nobody.
static struct uptr
pick_ptr(struct fuzzer *f, enum ptr_use use)
{
    uint32_t end = (uint32_t)(uintptr_t)_end;
    switch (rnd(f) % 12) {
    case 0: return (struct uptr){ 0, P_NULL, 0 };
    case 1: return (struct uptr){ s_kernel_addrs[rnd(f) % ARRAY_SIZE(s_kernel_addrs)], P_BAD, 0 };
    case 2: return (struct uptr){ s_user_holes[rnd(f) % ARRAY_SIZE(s_user_holes)], P_BAD, 0 };
    case 3: // anywhere in the big hole, any alignment
        return (struct uptr){ UNMAPPED + rnd(f) % 0x90000000u, P_BAD, 0 };
    case 4: // anywhere in the kernel
        return (struct uptr){ KERNEL_BASE | rnd(f), P_BAD, 0 };
    case 5: // from the unmapped page below the stack into it
        return (struct uptr){ USER_STACK_TOP - USER_STACK_MAX - 1 - rnd(f) % 11, P_BAD, 0 };
    case 6: { // the last bytes of the image or of the stack
        uint32_t k = 1 + rnd(f) % 11;
        return (struct uptr){ (one_in(f, 2) ? end : STACK_TOP) - k, P_EDGE, k };
    }
    case 7:
        if (use == USE_READ) // code: any bytes at all
            return (struct uptr){ (uint32_t)(uintptr_t)fuzz_raw_exit + rnd(f) % 512, P_RO, 0 };
        return (struct uptr){ (uint32_t)(uintptr_t)&s_ro_bufs[rnd(f) % ARRAY_SIZE(s_ro_bufs)], P_RO,
                              0 };
    default: // scratch, often misaligned
        return (struct uptr){ (uint32_t)(uintptr_t)f->scratch + rnd(f) % SCRATCH_VALID, P_RW, 0 };
    }
}

// Whether [p, p + n) can be read (or written) in full.
static bool
ptr_ok(const struct uptr *p, uint32_t n, enum ptr_use use)
{
    if (n == 0)
        return true;
    switch (p->kind) {
    case P_EDGE: return n <= p->room;
    case P_RO: return use == USE_READ && n <= (uint32_t)(uintptr_t)_end - p->addr;
    case P_RW: return n <= (uint32_t)(uintptr_t)_end - p->addr;
    default: return false;
    }
}

// A length: zero, small, around the limits, huge, negative, anything.
static uint32_t
pick_len(struct fuzzer *f)
{
    switch (rnd(f) % 12) {
    case 0: return 0;
    case 1: return 1 + rnd(f) % 8;
    case 2: return rnd(f) % 64;
    case 3: return rnd(f) % 600;
    case 4: return IPC_BUF_MAX - 1 + rnd(f) % 3;
    case 5: return DEBUG_WRITE_MAX - 1 + rnd(f) % 3;
    case 6: return 0x01000000u + rnd(f) % 0x0F000000u;
    case 7: return 0x80000000u | rnd(f);
    case 8: return 0xFFFFFFFFu;
    case 9: return rnd(f);
    default: return rnd(f) % 4096;
    }
}

// A length for a buffer the kernel may write through p: never one that an
// edge pointer's mapped bytes could hold, so that the kernel refuses it
// instead of writing to the end of the image or the top of the stack.
static uint32_t
pick_write_len(struct fuzzer *f, const struct uptr *p)
{
    uint32_t n = pick_len(f);
    if (p->kind == P_EDGE && n <= p->room)
        n = p->room + 1 + rnd(f) % 64;
    return n;
}


// Counts a surprise that record() does not see (a result's content, a
// handle's state) and reports the first few.
static void PRINTF_LIKE(2, 3) unexpected(struct fuzzer *f, const char *fmt, ...)
{
    if (f->unexpected++ >= UNEXPECTED_SHOWN)
        return;
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("  # %sthread %u call %u: %s\n", FUZZ_PEER ? "peer " : "", f->index, f->made, text);
}

// ---- The pool ----------------------------------------------------------------------

#define BIT(i) ((uint16_t)(1u << (i)))

static void
stale_add(struct fuzzer *f, int value)
{
    f->stale[f->stale_count++ % STALE_KEPT] = value;
}

static bool
stale_has(const struct fuzzer *f, int value)
{
    unsigned n = f->stale_count < STALE_KEPT ? f->stale_count : STALE_KEPT;
    for (unsigned i = 0; i < n; i++)
        if (f->stale[i] == value)
            return true;
    return false;
}

static int
pool_free_entry(const struct fuzzer *f)
{
    for (int i = 0; i < POOL; i++)
        if (!f->pool[i].d.value)
            return i;
    return -1;
}

static int
obj_new(struct fuzzer *f, uint8_t what)
{
    for (int i = 0; i < POOL; i++)
        if (!f->objs[i].what) {
            f->objs[i] = (struct object){ .what = what };
            return i;
        }
    return -1;
}

// Pool entries that name object o with every right in rights.
static unsigned
obj_holders(const struct fuzzer *f, int o, unsigned rights)
{
    unsigned n = 0;
    for (int i = 0; i < POOL; i++)
        n += f->pool[i].d.value && f->pool[i].obj == o && (f->pool[i].d.rights & rights) == rights;
    return n;
}

// Whether a send on pool entry i (an endpoint of the thread's) must fail
// with -EPIPE: no handle with CAP_RECV to it is left, here or in a child.
static bool
ep_dead(const struct fuzzer *f, int i)
{
    int o = f->pool[i].obj;
    return o >= 0 && obj_holders(f, o, CAP_RECV) == 0 && f->objs[o].children_recv == 0;
}

static unsigned
children_unwaited(const struct fuzzer *f)
{
    unsigned n = 0;
    for (int i = 0; i < POOL; i++)
        n += f->objs[i].what == W_CHILD && !f->objs[i].ended;
    return n;
}

// A child's exit code is known: the copies with CAP_RECV it held are gone.
static void
child_ended(struct fuzzer *f, int o, long code)
{
    struct object *c = &f->objs[o];
    c->ended = true;
    c->code = code;
    for (int e = 0; e < POOL; e++)
        if (c->recv_in & BIT(e)) {
            f->objs[e].children_recv--;
            c->recv_in &= (uint16_t)~BIT(e);
        }
}

// Object o has no handle left in the pool.
static void
obj_release(struct fuzzer *f, int o)
{
    for (int c = 0; c < POOL; c++)
        f->objs[c].recv_in &= (uint16_t)~BIT(o);
    f->objs[o].what = W_NONE;
}

// Pool entry i is closed: its number is stale, what was derived through it
// is only maybe derived from its ancestors, and its object goes with its
// last handle.
static void
forget(struct fuzzer *f, int i)
{
    struct held *h = &f->pool[i];
    stale_add(f, h->d.value);
    for (int j = 0; j < POOL; j++) {
        struct held *e = &f->pool[j];
        if (j == i || !e->d.value)
            continue;
        if (e->sure & BIT(i)) {
            e->maybe |= e->sure & h->sure;
            e->sure &= (uint16_t)~h->sure;
        }
        e->sure &= (uint16_t)~BIT(i);
        e->maybe &= (uint16_t)~BIT(i);
    }
    int o = h->obj;
    h->d.value = 0;
    if (o >= 0 && !obj_holders(f, o, 0))
        obj_release(f, o);
}

// Whether pool entry i may be closed: not the last way to wait for a child
// that has not been waited for (its count in the kernel would stay).
static bool
closable(const struct fuzzer *f, int i)
{
    const struct held *h = &f->pool[i];
    return !(h->root && h->d.what == W_CHILD && !f->objs[h->obj].ended);
}

// The code a wait for object o must return once it has ended.
static struct expect
exit_expect(const struct fuzzer *f, int o)
{
    const struct object *ob = &f->objs[o];
    if (ob->ended)
        return expect_ok(ob->code);
    if (ob->what == W_CHILD)
        return ob->killed ? expect_ok2(EXIT_KILLED, FAULT_CHILD_EXIT) : expect_ok(FAULT_CHILD_EXIT);
    if (ob->doomed)
        return expect_ok(ANY_OK);
    // The ABI does not say whether a thread's code is cut to 8 bits as a
    // process's is.
    return expect_ok2(ob->code, ob->code & 0xFF);
}

// Closes pool entry i outside the random calls (making room, cleaning
// up), first waiting for a child it is the last way to.
static void
pool_close(struct fuzzer *f, int i)
{
    struct held *h = &f->pool[i];
    if (!closable(f, i)) {
        long r = sys_wait(h->d.value, WAIT_FOREVER);
        struct expect e = exit_expect(f, h->obj);
        if (r < 0 || (r != e.value && r != e.alt))
            unexpected(f, "waiting for child handle %d: %ld", h->d.value, r);
        child_ended(f, h->obj, r);
    }
    int r = sys_cap_close(h->d.value);
    if (r != 0)
        unexpected(f, "closing pool handle %d (what %u): %d", h->d.value, h->d.what, r);
    f->hs.closed++;
    forget(f, i);
}

// A random closable entry other than keep, or -1.
static int
pool_victim(struct fuzzer *f, int keep)
{
    int start = (int)(rnd(f) % POOL);
    for (int k = 0; k < POOL; k++) {
        int i = (start + k) % POOL;
        if (i != keep && f->pool[i].d.value && closable(f, i))
            return i;
    }
    return -1;
}

// Takes in a handle the thread has just got (its number must never have
// been seen closed): into a free entry, or one made free at random, or
// else it is closed at once.  obj: the object it names (-1: not the
// thread's); parent: the entry it was derived from (-1: none), surely or,
// for a copy that came back through another process's, maybe.  Returns
// the entry or -1.
static int
pool_add(struct fuzzer *f, struct hd d, int obj, int parent, bool sure, bool root)
{
    if (stale_has(f, d.value))
        unexpected(f, "new handle %d has a number closed before", d.value);
    f->hs.made++;
    int i = pool_free_entry(f);
    if (i < 0 && one_in(f, 2) && (i = pool_victim(f, parent)) >= 0)
        pool_close(f, i);
    bool needs_obj = d.what == W_EP || d.what == W_CHILD || d.what == W_THREAD;
    if (i < 0 || (needs_obj && obj < 0)) {
        if (d.what == W_CHILD && root) {
            long r = sys_wait(d.value, WAIT_FOREVER);
            if (r != FAULT_CHILD_EXIT)
                unexpected(f, "waiting for child handle %d: %ld", d.value, r);
            if (obj >= 0)
                child_ended(f, obj, r);
        }
        int r = sys_cap_close(d.value);
        if (r != 0)
            unexpected(f, "closing new handle %d: %d", d.value, r);
        f->hs.closed++;
        stale_add(f, d.value);
        if (obj >= 0 && !obj_holders(f, obj, 0))
            obj_release(f, obj);
        return -1;
    }
    struct held *h = &f->pool[i];
    *h = (struct held){ .d = d, .obj = (int8_t)obj, .root = root };
    if (parent >= 0) {
        const struct held *p = &f->pool[parent];
        if (sure) {
            h->sure = p->sure | BIT(parent);
            h->maybe = p->maybe;
        } else {
            h->maybe = p->sure | p->maybe | BIT(parent);
        }
    }
    return i;
}

// A copy of pool entry i went to another process or thread: revoking i or
// an ancestor may close it too.
static void
sent_away(struct fuzzer *f, int i)
{
    if (i < 0)
        return;
    uint16_t up = f->pool[i].sure | f->pool[i].maybe | BIT(i);
    for (int j = 0; j < POOL; j++)
        if (up & BIT(j))
            f->pool[j].away++;
}

// Whether SYS_CAP_INFO's answer matches what the fuzzer knows of d.
static bool
info_matches(const struct hd *d, const struct cap_info *info)
{
    if (info->type != d->type || info->badge != d->badge)
        return false;
    if (d->rights != RIGHTS_UNKNOWN && info->rights != d->rights)
        return false;
    if (d->base && info->base != d->base)
        return false;
    if (d->what == W_FAULT_MOD && strncmp(info->name, FAULT_NAME, sizeof info->name) != 0)
        return false;
    return true;
}

// Checks a handle the thread holds against what it knows (a runtime call,
// not one of the random ones).
static void
check_held(struct fuzzer *f, const struct hd *d, const char *what)
{
    struct cap_info info;
    int r = sys_cap_info(d->value, &info);
    if (r != 0 || !info_matches(d, &info))
        unexpected(f, "%s %d: cap_info %d: type %u rights %#x badge %#x, expected %u %#x %#x", what,
                   d->value, r, info.type, info.rights, info.badge, d->type, d->rights, d->badge);
}

// ---- Picking a handle ---------------------------------------------------------------

// What a call does with the handle it takes.
enum use {
    U_SEND,
    U_RECV,
    U_REPLY,
    U_WAIT,
    U_KILL,
    U_SPAWN,
    U_INFO,
    U_DUP,
    U_CLOSE,
    U_REVOKE,
    U_GRANT, // passed on, in a message or at spawn
};

// The kinds of object a use takes (0: any) and the right it needs.
static const struct {
    uint8_t type, type2, right;
} s_uses[] = {
    [U_SEND] = { CAP_TYPE_ENDPOINT, 0, CAP_SEND },
    [U_RECV] = { CAP_TYPE_ENDPOINT, 0, CAP_RECV },
    [U_REPLY] = { CAP_TYPE_REPLY, 0, 0 },
    [U_WAIT] = { CAP_TYPE_THREAD, CAP_TYPE_PROCESS, CAP_WAIT },
    [U_KILL] = { CAP_TYPE_PROCESS, 0, CAP_KILL },
    [U_SPAWN] = { CAP_TYPE_MODULE, 0, CAP_SPAWN },
    [U_INFO] = { 0, 0, 0 },
    [U_DUP] = { 0, 0, 0 },
    [U_CLOSE] = { 0, 0, 0 },
    [U_REVOKE] = { 0, 0, 0 },
    [U_GRANT] = { 0, 0, CAP_GRANT },
};

// A handle for a call, and what the call must say of it.
struct pick {
    struct hd d;
    int pool;          // its pool entry, or -1
    enum slot verdict; // S_OK, S_EPERM, S_EBADF, or S_EPIPE (a send nobody can take)
};

// What a call that takes d for use must say of it, and whether the fuzzer
// may make that call (false: it might wait for good, or end or close what
// another thread relies on).  pool: d's entry, or -1.
static bool
judge(const struct fuzzer *f, const struct hd *d, int pool, enum use use, enum slot *verdict)
{
    uint8_t type = s_uses[use].type, right = s_uses[use].right;
    if (type && d->type != type && d->type != s_uses[use].type2) {
        *verdict = S_EBADF;
        return true;
    }
    if (d->rights != RIGHTS_UNKNOWN && (d->rights & right) != right) {
        *verdict = S_EPERM;
        return true;
    }
    *verdict = S_OK;
    switch (use) {
    case U_SEND:
        if (d->what == W_EP && pool >= 0 && ep_dead(f, pool)) {
            *verdict = S_EPIPE;
            return true;
        }
        return d->what == W_RESP;
    case U_RECV: return d->what == W_FEED;
    case U_REPLY: return false; // fuzz_answer's
    case U_KILL: return d->what == W_CHILD && !f->objs[f->pool[pool].obj].ended;
    case U_SPAWN:
        return d->what == W_FAULT_MOD && children_unwaited(f) < CHILDREN_AT_ONCE &&
               pool_free_entry(f) >= 0;
    case U_CLOSE: return pool >= 0 && closable(f, pool);
    case U_REVOKE: return pool >= 0;
    case U_DUP:
    case U_GRANT: return d->what != W_REPLY;
    case U_WAIT:
    case U_INFO: return true;
    }
    return false;
}

static void
count_pick(struct fuzzer *f, const struct pick *p)
{
    f->hs.wrong_type += p->verdict == S_EBADF;
    f->hs.no_right += p->verdict == S_EPERM;
}

static bool
pick_pool(struct fuzzer *f, enum use use, struct pick *p)
{
    int start = (int)(rnd(f) % POOL);
    for (int k = 0; k < POOL; k++) {
        int i = (start + k) % POOL;
        if (!f->pool[i].d.value || !one_in(f, 2))
            continue;
        if (judge(f, &f->pool[i].d, i, use, &p->verdict)) {
            p->d = f->pool[i].d;
            p->pool = i;
            count_pick(f, p);
            return true;
        }
    }
    return false;
}

// The thread's own feed endpoint, as the shared handles it may use.
static struct hd
feed_hd(const struct fuzzer *f)
{
    return (struct hd){ .value = f->feed,
                        .what = W_FEED,
                        .type = CAP_TYPE_ENDPOINT,
                        .rights = CAP_SEND | CAP_RECV | CAP_GRANT,
                        .sibling = -1,
                        .base = f->feed_base };
}

static bool
pick_shared(struct fuzzer *f, enum use use, struct pick *p)
{
    if (use == U_CLOSE || use == U_REVOKE)
        return false;
    unsigned k = rnd(f) % (s_shared_count + 1);
    struct hd d = k < s_shared_count ? s_shared[k] : feed_hd(f);
    if (!judge(f, &d, -1, use, &p->verdict))
        return false;
    p->d = d;
    p->pool = -1;
    count_pick(f, p);
    return true;
}

// A number that may not be a handle here: random, small, one of the
// thread's own with a bit flipped (another generation of its slot,
// perhaps), or one fuzz_peer held.
static int
probe_candidate(struct fuzzer *f, bool *foreign)
{
    *foreign = false;
    switch (rnd(f) % 6) {
    case 0: return (int)(1 + rnd(f) % (2 * CAPS_PER_PROCESS));
    case 1: return (int)(1 + rnd(f) % 0x10000);
    case 2: return (int)(rnd(f) >> 1);
    case 3: {
        const struct held *h = &f->pool[rnd(f) % POOL];
        int v = h->d.value ? h->d.value : s_shared[rnd(f) % s_shared_count].value;
        return v ^ (int)(1u << (rnd(f) % 31));
    }
    default:
        if (!s_foreign_count)
            return (int)(1 + rnd(f) % CAPS_PER_PROCESS);
        *foreign = true;
        return s_foreign[rnd(f) % s_foreign_count];
    }
}

// A number checked not to be an open handle of this process, used at
// once: the thread keeps the table lock until enter() has made the call.
// False if the table is busy or every candidate was open.
static bool
pick_probe(struct fuzzer *f, struct pick *p)
{
    if (!f->probing) {
        if (!probe_lock()) {
            f->hs.busy++;
            return false;
        }
        f->probing = true;
    }
    for (unsigned k = 0; k < 4; k++) {
        bool foreign;
        struct cap_info info;
        int v = probe_candidate(f, &foreign);
        if (v <= 0 || sys_cap_info(v, &info) != -EBADF)
            continue;
        f->hs.probes++;
        f->hs.foreign += foreign;
        *p = (struct pick){ .d = { .value = v, .sibling = -1 }, .pool = -1, .verdict = S_EBADF };
        return true;
    }
    return false;
}

// A number that is surely not a handle: one the thread closed, or one that
// is never a handle (0 only where it does not mean "none").
static struct pick
pick_dead(struct fuzzer *f, bool zero)
{
    static const int never[] = { -1, -EBADF, (int)0x80000000u, -2 };
    struct pick p = { .d = { .sibling = -1 }, .pool = -1, .verdict = S_EBADF };
    if (f->stale_count && !one_in(f, 3)) {
        unsigned n = f->stale_count < STALE_KEPT ? f->stale_count : STALE_KEPT;
        p.d.value = f->stale[rnd(f) % n];
        f->hs.stale++;
    } else if (zero && one_in(f, 4)) {
        p.d.value = 0;
    } else {
        p.d.value = one_in(f, 2) ? never[rnd(f) % ARRAY_SIZE(never)] : (int)(rnd(f) | 0x80000000u);
    }
    return p;
}

// One of the handles, pool or shared, that use takes and that the call
// may be given, each as likely (false: there is none).
static bool
pick_fit(struct fuzzer *f, enum use use, struct pick *p)
{
    unsigned seen = 0;
    for (unsigned k = 0; k < POOL + s_shared_count + 1; k++) {
        int i = k < POOL ? (int)k : -1;
        struct hd d = k < POOL                    ? f->pool[k].d
                      : k < POOL + s_shared_count ? s_shared[k - POOL]
                                                  : feed_hd(f);
        enum slot v;
        if (!d.value || (i < 0 && (use == U_CLOSE || use == U_REVOKE)) ||
            !judge(f, &d, i, use, &v) || (v != S_OK && v != S_EPIPE))
            continue;
        if (rnd(f) % ++seen == 0)
            *p = (struct pick){ d, i, v };
    }
    return seen > 0;
}

// A handle for use: often one that use takes; else one of the pool's or
// the process's that the call may be given, a probe (if probe: where
// nothing can be added to the table before the call reaches it), or a
// dead number.
static struct pick
pick_handle(struct fuzzer *f, enum use use, bool probe)
{
    struct pick p;
    if (one_in(f, 3) && pick_fit(f, use, &p))
        return p;
    for (unsigned tries = 0; tries < 4; tries++) {
        unsigned k = rnd(f) % 20;
        if (k < 9 && pick_pool(f, use, &p))
            return p;
        if (k >= 9 && k < 14 && pick_shared(f, use, &p))
            return p;
        if (k >= 14 && k < 17 && probe && pick_probe(f, &p))
            return p;
        if (k >= 17)
            break;
    }
    return pick_dead(f, use != U_GRANT);
}


// What the handle word of a struct ipc_buf in scratch holds.
enum pass {
    H_OUT,        // a receive: the word is only written; garbage goes in
    H_PASS,       // a handle may be passed on, not a probe
    H_PASS_PROBE, // a handle may be passed on, a probe too
};

// A struct ipc_buf for a call or a recv: at p, and if p is this thread's
// scratch, with fields filled in.
struct ipc_case {
    struct uptr buf;  // the struct ipc_buf
    struct uptr data; // its fields, when it is scratch or s_ro_bufs
    uint32_t len, size;
    struct pick pass; // the handle passed on (d.value 0: none)
    bool known;       // whether the kernel's verdict can be predicted
};

static struct ipc_case
pick_ipc_buf(struct fuzzer *f, enum ptr_use data_use, enum pass pass)
{
    struct ipc_case c = { .buf = pick_ptr(f, data_use) };
    c.pass = (struct pick){ .d = { .value = 0 }, .pool = -1, .verdict = S_OK };
    bool table = c.buf.kind == P_RO && data_use == USE_WRITE; // s_ro_bufs
    if (c.buf.kind == P_RO && !table &&
        ((const struct ipc_buf *)(uintptr_t)c.buf.addr)->handle != 0) {
        // Code read as a struct ipc_buf must pass no handle: a number there
        // might be one of the process's.
        c.buf.addr = (uint32_t)(uintptr_t)&s_ro_bufs[rnd(f) % ARRAY_SIZE(s_ro_bufs)];
        table = true;
    }
    if (c.buf.kind == P_RW) {
        if (one_in(f, 2)) {
            // Fields that pass, so that messages do flow.
            c.data =
                (struct uptr){ (uint32_t)(uintptr_t)f->scratch + rnd(f) % SCRATCH_VALID, P_RW, 0 };
            c.len = rnd(f) % (IPC_BUF_MAX + 1);
            c.size = rnd(f) % (IPC_BUF_MAX + 64);
        } else {
            c.data = pick_ptr(f, data_use);
            c.len = one_in(f, 2) ? pick_len(f) : pick_len(f) % (IPC_BUF_MAX + 2);
            c.size = data_use == USE_WRITE ? pick_write_len(f, &c.data) : pick_len(f);
        }
        int handle = pass == H_OUT ? (int)rnd(f) : 0;
        if (pass != H_OUT && one_in(f, 3)) {
            c.pass = pick_handle(f, U_GRANT, pass == H_PASS_PROBE);
            handle = c.pass.d.value;
        }
        // 16 bytes, misaligned or not, in scratch.
        struct ipc_buf b = { (void *)(uintptr_t)c.data.addr, c.len, c.size, handle };
        memcpy((void *)(uintptr_t)c.buf.addr, &b, sizeof b);
    } else if (table) {
        const struct ipc_buf *b = (const struct ipc_buf *)(uintptr_t)c.buf.addr;
        c.data = (struct uptr){ (uint32_t)(uintptr_t)b->data, b->data ? P_BAD : P_NULL, 0 };
        c.len = b->len;
        c.size = b->size;
    }
    // Unknown only when read from code; NULL, bad and edge pointers fail
    // before their fields matter.
    c.known = c.buf.kind != P_RO || table;
    return c;
}

// What the sender's half (ipc_take_payload) says of c.
static enum slot
payload_verdict(const struct ipc_case *c)
{
    if (c->buf.kind == P_NULL)
        return S_OK;
    if (!ptr_ok(&c->buf, sizeof(struct ipc_buf), USE_READ))
        return S_EFAULT;
    if (c->len > IPC_BUF_MAX)
        return S_EMSGSIZE;
    return ptr_ok(&c->data, c->len, USE_READ) ? S_OK : S_EFAULT;
}

// What the receiver's half (ipc_take_buffer) says of c.
static enum slot
buffer_verdict(const struct ipc_case *c)
{
    if (c->buf.kind == P_NULL)
        return S_OK;
    if (!ptr_ok(&c->buf, sizeof(struct ipc_buf), USE_READ))
        return S_EFAULT;
    uint32_t size = c->size < IPC_BUF_MAX ? c->size : IPC_BUF_MAX;
    return ptr_ok(&c->data, size, USE_WRITE) ? S_OK : S_EFAULT;
}

// The received length goes back into the struct ipc_buf, if there is one.
static enum slot
length_verdict(const struct ipc_case *c)
{
    if (c->buf.kind == P_NULL)
        return S_OK;
    return ptr_ok(&c->buf, sizeof(struct ipc_buf), USE_WRITE) ? S_OK : S_EFAULT;
}

// The sender's half as error bits: the payload, and the handle passed on
// (CAP_GRANT on it and, where endpoint_grant says it is needed and missing,
// on the endpoint).  An unknown struct may fail in any of its ways.
static uint32_t
sender_bad(const struct ipc_case *c, bool grant_missing)
{
    if (!c->known)
        return B(S_EFAULT) | B(S_EMSGSIZE);
    enum slot s = payload_verdict(c);
    uint32_t bad = s != S_OK ? B(s) : 0;
    if (c->buf.kind == P_RW && c->pass.d.value) {
        if (c->pass.verdict != S_OK)
            bad |= B(c->pass.verdict);
        if (grant_missing)
            bad |= B(S_EPERM);
    }
    return bad;
}

// The receiver's half as error bits.
static uint32_t
receiver_bad(const struct ipc_case *c)
{
    enum slot s = buffer_verdict(c);
    if (s == S_OK)
        s = length_verdict(c);
    return s != S_OK ? B(s) : 0;
}

// The handle word of a struct ipc_buf in scratch, after the kernel wrote it.
static int
handle_word(const struct ipc_case *c)
{
    struct ipc_buf b;
    memcpy(&b, (const void *)(uintptr_t)c->buf.addr, sizeof b);
    return b.handle;
}

// ---- One call ----------------------------------------------------------------

// Selectors ring 3 can load into ds, es, fs and gs: null (index 0, any
// RPL), and the user code (execute/read) and data segments with any RPL
// (both are DPL 3, so RPL 0 is no obstacle).  The kernel's, the TSS's, any
// index past the GDT and any LDT selector raise #GP in ring 3: those are
// fuzz_doomed_segment's.
static const uint16_t s_user_selectors[] = {
    0, 1, 2, 3, 0x18, 0x19, 0x1A, USER_CS_SEL, 0x20, 0x21, 0x22, USER_DS_SEL,
};

// EFLAGS for the entry: IF and bit 1, random arithmetic flags, and each of
// DF, AC, NT, RF, ID, VIF and VIP, IOPL and clearing IF tried at random.
// popf in ring 3 ignores what it may not change (IOPL, IF; RF, VIF, VIP);
// the stub records what it took.  Never TF.
// The option fuzz_eflags=MASK keeps to the bits in MASK (IF: clearing it;
// TF: the threads that die of it), to tell one hole from another.
static uint32_t
pick_eflags(struct fuzzer *f)
{
    uint32_t fl = 0;
    if (one_in(f, 2))
        fl |= EF_DF;
    if (one_in(f, 3))
        fl |= EF_AC;
    if (one_in(f, 3))
        fl |= EF_NT;
    if (one_in(f, 8))
        fl |= EF_RF;
    if (one_in(f, 4))
        fl |= EF_ID;
    if (one_in(f, 16))
        fl |= EF_VIF | EF_VIP;
    if (one_in(f, 4))
        fl |= (1 + rnd(f) % 3) << 12; // IOPL 1 to 3
    if (one_in(f, 8))
        fl |= EF_IF; // cleared below
    fl &= s_eflags_mask;
    return ((EF_IF ^ (fl & EF_IF)) | EF_RESERVED1 | (rnd(f) & EF_ARITH) | fl) & ~EF_TF;
}

// The frame's top T, in the thread's region of the main stack: at a page
// boundary (sysenter's words end there), straddling one, at the region's
// top (the peer's thread 0: STACK_TOP, nothing mapped above), at its bottom
// (thread 0 of test_fuzz: STACK_BOTTOM, nothing mapped below) or anywhere,
// misaligned unless AC is set.
static uint32_t
pick_top(struct fuzzer *f, bool aligned)
{
    uint32_t r = f->region;
    switch (rnd(f) % 8) {
    case 0: return r + 4096;
    case 1: return r + 4096 + 4 * (1 + rnd(f) % 2);
    case 2: return r + STATE_REGION;
    case 3: return r + STATE_FRAME;
    default: {
        uint32_t t = r + STATE_FRAME + rnd(f) % (STATE_REGION - STATE_FRAME + 1);
        return aligned ? t & ~3u : t;
    }
    }
}

// Whether a segment register came back as it went in: the same selector,
// or for a null one (index 0, any RPL) any null one.  iret to ring 3 may
// replace a null selector with 0 (the SDM's IRET nulls a data segment
// register whose cached DPL is below the new CPL; QEMU does it to ds and
// es, and leaves fs and gs alone), which is the CPU's doing, not the
// kernel's, and changes nothing: every null selector faults on use.
static bool
selector_same(uint32_t back, uint32_t in)
{
    back &= 0xFFFF;
    return back == in || ((back & ~3u) == 0 && (in & ~3u) == 0);
}

// What came back from c (a call to n) that the ABI
// (include/uapi/syscall.h) does not allow, as a list of names in what[]:
// - every register but eax preserved, except ebx and esi from ipc_call,
//   ebx, esi and edi from ipc_recv and ipc_reply_recv, and ecx and edx
//   after sysenter (sysexit's eip and esp);
// - esp back at T - 8 (pushad saw T - 12);
// - ds, es, fs and gs as they went in (selector_same);
// - EFLAGS exactly as the CPU accepted them from popf (arithmetic flags,
//   DF, AC, NT, ID, RF), with IF set and IOPL, VM, VIF and VIP clear: the
//   user's bits (EF_USER, include/x86.h's EFLAGS_USER) are the user's, the
//   rest the kernel forces (docs/design.md, "What ring 3 controls on
//   entry").  popf at CPL 3 cannot change IF or IOPL, so those two are
//   checked on the way in as well.
static bool
state_wrong(const struct state_call *c, uint32_t n, char *what, size_t cap)
{
    const struct state_out *o = &c->out;
    bool recv_out = n == SYS_IPC_RECV || n == SYS_IPC_REPLY_RECV;
    bool ipc_out = recv_out || n == SYS_IPC_CALL;
    int len = 0;
    what[0] = '\0';
#define WRONG(name)                                                \
    (len += ksnprintf(what + len, cap - (size_t)len, " %s", name), \
     len = len < (int)cap ? len : (int)cap - 1)
    if (!ipc_out && o->ebx != c->ebx)
        WRONG("ebx");
    if (!ipc_out && o->esi != c->esi)
        WRONG("esi");
    if (!recv_out && o->edi != c->edi)
        WRONG("edi");
    if (o->ebp != (c->sysenter ? c->top - 12 : c->ebp))
        WRONG("ebp");
    if (!c->sysenter && o->ecx != c->ecx)
        WRONG("ecx");
    if (!c->sysenter && o->edx != c->edx)
        WRONG("edx");
    if (o->esp != c->top - 12)
        WRONG("esp");
    if (!selector_same(o->ds, c->ds))
        WRONG("ds");
    if (!selector_same(o->es, c->es))
        WRONG("es");
    if (!selector_same(o->fs, c->fs))
        WRONG("fs");
    if (!selector_same(o->gs, c->gs))
        WRONG("gs");
    if (!(c->accepted & EF_IF) || (c->accepted & (EF_IOPL | EF_TF)))
        WRONG("popf"); // ring 3 changed what it may not
    if (!(o->eflags & EF_IF))
        WRONG("IF");
    if (o->eflags & EF_IOPL)
        WRONG("IOPL");
    if (o->eflags != ((c->accepted & EF_USER) | EF_IF | EF_RESERVED1))
        WRONG("eflags");
#undef WRONG
    return len > 0;
}

// Whether system call n may add a handle to this process's table: by
// making one, or by delivering a message, a reply handle or a handle
// passed on to one of its threads.
static bool
adds_handles(uint32_t n)
{
    switch (n) {
    case SYS_THREAD_CREATE:
    case SYS_SPAWN:
    case SYS_ENDPOINT_CREATE:
    case SYS_CAP_DUP:
    case SYS_IPC_SEND:
    case SYS_IPC_RECV:
    case SYS_IPC_CALL:
    case SYS_IPC_REPLY:
    case SYS_IPC_REPLY_RECV: return true;
    default: return false;
    }
}

// One kernel entry through the runtime's stubs; the IPC forms fill *out.
static long
enter_plain(bool sysenter, uint32_t n, const uint32_t a[5], struct ipc_words *out)
{
    long l[5] = { (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4] };
    if (out && sysenter)
        return syscall_sysenter_ipc((long)n, l[0], l[1], l[2], l[3], l[4], out);
    if (out)
        return syscall_int80_ipc((long)n, l[0], l[1], l[2], l[3], l[4], out);
    if (sysenter)
        return syscall_sysenter((long)n, l[0], l[1], l[2], l[3], l[4]);
    return syscall_int80((long)n, l[0], l[1], l[2], l[3], l[4]);
}

// Makes system call n through int 0x80 or sysenter, at random, with the
// entry state at random (fuzz_state_call), or, one call in 8, through the
// runtime's own stubs; *out (if not NULL) gets ebx, esi and edi as they
// came back.  A state that comes back wrong is counted and the first few
// reported; the result goes to record() as always.  The call holds the
// table lock: as a probe, then let go, or counted in s_adding if it may
// add a handle.
static long
enter(struct fuzzer *f, uint32_t n, const uint32_t a[5], struct ipc_words *out)
{
    // Without sysenter (a CPU without SEP) every call takes int 0x80; the
    // random choices stay the same.
    bool sysenter = one_in(f, 2) && syscall_mode_available(SYSCALL_SYSENTER);
    bool probing = f->probing, adding = !probing && adds_handles(n);
    long r;
    if (adding)
        adding_begin();
    if (one_in(f, 8)) {
        r = enter_plain(sysenter, n, a, out);
    } else {
        struct state_call c = {
            .eax = n,
            .ebx = a[0],
            .ecx = a[1],
            .edx = a[2],
            .esi = a[3],
            .edi = a[4],
            .ebp = rnd(f),
            .sysenter = sysenter,
            .eflags = pick_eflags(f),
        };
        uint32_t *segs[4] = { &c.ds, &c.es, &c.fs, &c.gs };
        for (unsigned i = 0; i < 4; i++)
            *segs[i] = one_in(f, 2) ? USER_DS_SEL
                                    : s_user_selectors[rnd(f) % ARRAY_SIZE(s_user_selectors)];
        c.top = pick_top(f, c.eflags & EF_AC);
        r = fuzz_state_call(&c);
        if (out)
            *out = (struct ipc_words){ c.out.ebx, c.out.esi, (int)c.out.edi };
        f->state_calls[sysenter]++;
        char what[64];
        if (state_wrong(&c, n, what, sizeof what) && f->state_bad++ < UNEXPECTED_SHOWN) {
            const struct state_out *o = &c.out;
            printf("  # thread %u call %u: syscall %u by %s, T %#x: wrong on return:%s\n", f->index,
                   f->made + 1, n, sysenter ? "sysenter" : "int 0x80", c.top, what);
            printf("  #   eflags %#x accepted %#x back %#x; ds %#x es %#x fs %#x gs %#x back %#x"
                   " %#x %#x %#x\n",
                   c.eflags, c.accepted, o->eflags, c.ds, c.es, c.fs, c.gs, o->ds & 0xFFFF,
                   o->es & 0xFFFF, o->fs & 0xFFFF, o->gs & 0xFFFF);
            printf("  #   in  ebx %#x ecx %#x edx %#x esi %#x edi %#x ebp %#x\n", c.ebx, c.ecx,
                   c.edx, c.esi, c.edi, sysenter ? c.top - 12 : c.ebp);
            printf("  #   out ebx %#x ecx %#x edx %#x esi %#x edi %#x ebp %#x esp %#x eax %#x\n",
                   o->ebx, o->ecx, o->edx, o->esi, o->edi, o->ebp, o->esp, o->eax);
        }
    }
    if (adding)
        adding_end();
    if (probing) {
        f->probing = false;
        probe_unlock();
    }
    return r;
}

// Counts r and checks it against e; reports the first few surprises.
// Returns whether r was as expected.
static bool
record(struct fuzzer *f, uint32_t n, const uint32_t a[5], long r, struct expect e)
{
    enum slot s = slot_of(r);
    f->results[s]++;
    f->by_number[n < SYS_COUNT ? n : SYS_COUNT]++;
    f->made++;
    bool fine = (e.mask & B(s)) && (s != S_OK || e.value == ANY_OK || r == e.value || r == e.alt);
    if (fine)
        return true;
    if (f->unexpected++ < UNEXPECTED_SHOWN)
        printf("  # %sthread %u call %u: syscall %u (%#x, %#x, %#x, %#x, %#x) returned %ld;"
               " expected slots %#x, value %ld\n",
               FUZZ_PEER ? "peer " : "", f->index, f->made, n, a[0], a[1], a[2], a[3], a[4], r,
               e.mask, e.value);
    return false;
}

// Tolerated wherever the kernel allocates: strict arenas may refuse, and a
// handle table may be full (other threads' handles count too).
#define MAY_NOMEM(e)  ((struct expect){ (e).mask | B(S_ENOMEM), (e).value, (e).alt })
#define MAY_NOROOM(e) ((struct expect){ (e).mask | B(S_ENOMEM) | B(S_EMFILE), (e).value, (e).alt })

static void
fuzz_unknown_number(struct fuzzer *f, uint32_t a[5])
{
    static const uint32_t numbers[] = { 0,           SYS_COUNT,   SYS_COUNT + 1, 0x80000000u,
                                        0xFFFFFFFFu, 0x7FFFFFFFu, 1000 };
    uint32_t n = one_in(f, 2) ? numbers[rnd(f) % ARRAY_SIZE(numbers)] : rnd(f);
    if (n > 0 && n < SYS_COUNT)
        n += SYS_COUNT;
    record(f, n, a, enter(f, n, a, NULL), expect_err(S_ENOSYS));
}

static void
fuzz_sleep(struct fuzzer *f, uint32_t a[5])
{
    a[0] = one_in(f, 4) ? SLEEP_MAX + 1 + rnd(f) % 0x7FFFFFFFu : rnd(f) % 3;
    long r = enter(f, SYS_SLEEP, a, NULL);
    record(f, SYS_SLEEP, a, r, a[0] > SLEEP_MAX ? expect_err(S_EINVAL) : expect_ok(0));
}

// A KTAP diagnostic line of random length and bytes (no newline but the
// last), or a bad pointer, or a length out of range.
static void
fuzz_debug_write(struct fuzzer *f, uint32_t a[5])
{
    if (one_in(f, 4)) {
        uint32_t len = 24 + rnd(f) % (LINE_MAX - 24);
        int head = ksnprintf(f->line, LINE_MAX, "  # fuzz %u: ", f->index);
        for (uint32_t i = (uint32_t)head; i < len - 1; i++) {
            char c = (char)(1 + rnd(f) % 255);
            f->line[i] = c == '\n' ? '.' : c;
        }
        f->line[len - 1] = '\n';
        a[0] = (uint32_t)(uintptr_t)f->line;
        a[1] = len;
        record(f, SYS_DEBUG_WRITE, a, enter(f, SYS_DEBUG_WRITE, a, NULL),
               MAY_NOMEM(expect_ok(len)));
        return;
    }
    struct uptr p = pick_ptr(f, USE_READ);
    uint32_t len = pick_len(f);
    // Readable bytes would reach the console: only a failing range, or a
    // length the kernel refuses first.
    if (len && len <= DEBUG_WRITE_MAX && ptr_ok(&p, len, USE_READ))
        len = p.kind == P_EDGE ? p.room + 1 : DEBUG_WRITE_MAX + 1 + rnd(f) % 4096;
    a[0] = p.addr;
    a[1] = len;
    struct expect e = len > DEBUG_WRITE_MAX ? expect_err(S_EINVAL)
                      : len == 0            ? expect_ok(0)
                                            : expect_err(S_EFAULT);
    record(f, SYS_DEBUG_WRITE, a, enter(f, SYS_DEBUG_WRITE, a, NULL), e);
}

// sysinfo and kfast_stats: one struct written through a pointer.
static void
fuzz_struct_out(struct fuzzer *f, uint32_t n, uint32_t size, uint32_t a[5])
{
    struct uptr p = pick_ptr(f, USE_WRITE);
    a[0] = p.addr;
    long r = enter(f, n, a, NULL);
    record(f, n, a, r, ptr_ok(&p, size, USE_WRITE) ? expect_ok(0) : expect_err(S_EFAULT));
}

// cmdline: a string of len bytes and its NUL copied into (buf, cap).  The
// kernel wants [buf, buf + cap) inside user space and the pages of its
// first bytes (as many as the string) writable, so a cap larger than the
// mapping is fine on scratch, where those bytes are.
static struct expect
string_expect(const struct uptr *p, uint32_t cap, int len)
{
    if (cap == 0)
        return expect_err(S_ENAMETOOLONG);
    if (p->kind != P_RW || cap > KERNEL_BASE - p->addr)
        return expect_err(S_EFAULT);
    return (uint32_t)len + 1 <= cap ? expect_ok(len) : expect_err(S_ENAMETOOLONG);
}

static void
fuzz_cmdline(struct fuzzer *f, uint32_t a[5])
{
    struct uptr p = pick_ptr(f, USE_WRITE);
    a[0] = p.addr;
    a[1] = pick_write_len(f, &p);
    record(f, SYS_CMDLINE, a, enter(f, SYS_CMDLINE, a, NULL),
           string_expect(&p, a[1], s_cmdline_len));
}


static void
fuzz_thread_create(struct fuzzer *f, uint32_t a[5])
{
    static const uint32_t bad_entries[] = { 0,           0x1000,      USER_BASE - 1,
                                            KERNEL_BASE, 0xFFFFFFFFu, 0xC0100000u };
    static const uint32_t bad_stacks[] = { 0, 0x1000, USER_BASE, KERNEL_BASE + 1, 0xFFFFFFF0u };
    bool doomed = false, bad = false;
    a[0] = (uint32_t)(uintptr_t)fuzz_raw_exit;
    a[1] = USER_BASE + 1 + rnd(f) % (KERNEL_BASE - USER_BASE); // any: it is not touched
    a[2] = rnd(f) >> 1;                                        // the exit code: never negative
    switch (rnd(f) % 8) {
    case 0:
        a[0] = bad_entries[rnd(f) % ARRAY_SIZE(bad_entries)];
        bad = true;
        break;
    case 1:
        a[1] = bad_stacks[rnd(f) % ARRAY_SIZE(bad_stacks)];
        bad = true;
        break;
    case 2:
        if (one_in(f, 4)) { // dies at its first instruction
            a[0] = UNMAPPED + 4 * (rnd(f) % 1024);
            doomed = true;
        } else if (one_in(f, 3) && syscall_mode_available(SYSCALL_SYSENTER)) { // dies in sysenter
            static const uint32_t bad_ebp[] = {
                0, 4, UNMAPPED, KERNEL_BASE, 0xFFFFFFF8u, KERNEL_BASE - 8, STACK_BOTTOM - 4
            };
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_sysenter;
            a[2] = bad_ebp[rnd(f) % ARRAY_SIZE(bad_ebp)];
            doomed = true;
        } else if (one_in(f, 2) && (s_eflags_mask & EF_TF)) { // dies of TF, in int 0x80 or sysenter
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_tf;
            a[1] = (uint32_t)(uintptr_t)(s_doomed_stack + sizeof s_doomed_stack);
            a[2] = rnd(f) % 2 && syscall_mode_available(SYSCALL_SYSENTER);
            doomed = true;
        } else { // dies loading a selector ring 3 may not
            static const uint32_t bad_selectors[] = {
                0x08, 0x0B, 0x10,   0x13,   // the kernel's code and data
                0x28, 0x2B, 0x30,           // the TSS, the double-fault TSS
                0x38, 0x3B, 0xFFF8, 0xFFFF, // past the GDT
                0x04, 0x1F, 0x27,           // the LDT (there is none)
            };
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_segment;
            a[2] = bad_selectors[rnd(f) % ARRAY_SIZE(bad_selectors)];
            doomed = true;
        }
        break;
    }
    long r = enter(f, SYS_THREAD_CREATE, a, NULL);
    struct expect e = bad ? expect_err(S_EFAULT)
                          : MAY_NOROOM(((struct expect){ B(S_OK) | B(S_EAGAIN), ANY_OK, ANY_OK }));
    record(f, SYS_THREAD_CREATE, a, r, e);
    if (r <= 0)
        return;
    f->raw_threads++;
    f->doomed += doomed;
    int o = obj_new(f, W_THREAD);
    if (o >= 0) {
        f->objs[o].doomed = doomed;
        f->objs[o].code = (long)a[2];
    }
    struct hd d = { (int)r, W_THREAD, CAP_TYPE_THREAD, CAP_WAIT, -1, 0, 0 };
    check_held(f, &d, "new thread");
    pool_add(f, d, o, -1, true, true);
}

// SYS_SPAWN's argument string: none, a short one, one of exactly
// SPAWN_ARGS_MAX bytes without its NUL (-ENAMETOOLONG), or a pointer the
// kernel must refuse (-EFAULT).  The strings go at the start of scratch:
// the handle list a spawn reads lies in its second half.
static uint32_t
spawn_args_pick(struct fuzzer *f, uint32_t *bad)
{
    char *text = (char *)f->scratch;
    switch (rnd(f) % 6) {
    case 0: memcpy(text, "fuzz args", 10); return (uint32_t)(uintptr_t)text;
    case 1:
        memset(text, 'x', SPAWN_ARGS_MAX);
        text[SPAWN_ARGS_MAX] = '\0';
        *bad |= B(S_ENAMETOOLONG);
        return (uint32_t)(uintptr_t)text;
    case 2: *bad |= B(S_EFAULT); return one_in(f, 2) ? 0xC0000000u : 0x00001000u;
    default: return 0;
    }
}

// A fault_child given random handles, or a spawn that fails: a module
// handle of the wrong kind or without CAP_SPAWN, a handle in the list that
// is not one or lacks CAP_GRANT, a list that cannot be read, too many.
static void
fuzz_spawn(struct fuzzer *f, uint32_t a[5])
{
    struct pick m = pick_handle(f, U_SPAWN, true);
    uint32_t bad = m.verdict != S_OK ? B(m.verdict) : 0;
    struct pick passed[SPAWN_HANDLES_MAX + 8];
    unsigned filled = 0;
    uint32_t count;
    struct uptr list = pick_ptr(f, USE_READ);
    if (one_in(f, 5) && list.kind != P_RO && list.kind != P_RW) {
        // Unreadable: an edge pointer gets more entries than it holds.
        count = list.kind == P_EDGE ? list.room / sizeof(int) + 1 : 1 + rnd(f) % 4;
        bad |= B(S_EFAULT);
    } else {
        // In the second half of scratch, which pick_ptr never gives out.
        list = (struct uptr){ (uint32_t)(uintptr_t)f->scratch + SCRATCH_VALID +
                                  rnd(f) % (SCRATCH_SIZE - SCRATCH_VALID - sizeof passed),
                              P_RW, 0 };
        switch (rnd(f) % 8) {
        case 0: count = SPAWN_HANDLES_MAX; break;
        case 1: count = SPAWN_HANDLES_MAX + 1 + rnd(f) % 8; break;
        case 2: count = one_in(f, 2) ? rnd(f) : 0; break;
        default: count = rnd(f) % 6; break;
        }
        if (count > SPAWN_HANDLES_MAX)
            bad |= B(S_EINVAL) | (count > ARRAY_SIZE(passed) ? B(S_EFAULT) : 0);
        filled = count < ARRAY_SIZE(passed) ? count : ARRAY_SIZE(passed);
        for (unsigned i = 0; i < filled; i++) {
            // Probes only where the spawn fails anyway: a new process
            // handle might take a probe's number before the list is read.
            passed[i] = pick_handle(f, U_GRANT, bad != 0);
            if (passed[i].verdict != S_OK)
                bad |= B(passed[i].verdict);
            memcpy((void *)(uintptr_t)(list.addr + i * sizeof(int)), &passed[i].d.value,
                   sizeof(int));
        }
    }
    a[0] = (uint32_t)m.d.value;
    a[1] = list.addr;
    a[2] = count;
    a[3] = spawn_args_pick(f, &bad);
    long r = enter(f, SYS_SPAWN, a, NULL);
    record(f, SYS_SPAWN, a, r,
           expect_unless(bad,
                         MAY_NOROOM(((struct expect){ B(S_OK) | B(S_EAGAIN), ANY_OK, ANY_OK }))));
    if (r <= 0)
        return;
    f->spawned++;
    int o = obj_new(f, W_CHILD);
    for (unsigned i = 0; i < filled && !bad; i++) {
        const struct pick *p = &passed[i];
        sent_away(f, p->pool);
        if (o >= 0 && p->pool >= 0 && p->d.what == W_EP && (p->d.rights & CAP_RECV)) {
            int e = f->pool[p->pool].obj;
            if (!(f->objs[o].recv_in & BIT(e))) {
                f->objs[o].recv_in |= BIT(e);
                f->objs[e].children_recv++;
            }
        }
    }
    struct hd d = { (int)r, W_CHILD, CAP_TYPE_PROCESS, CAP_WAIT | CAP_KILL | CAP_GRANT, -1, 0, 0 };
    check_held(f, &d, "new child");
    pool_add(f, d, o, -1, true, true);
}

// A wait for one of the thread's threads or children may last (they end by
// themselves) and must then return their code, the same every time; one
// for another thread, or for the peer, lasts a few ticks at most.
static void
fuzz_wait(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_WAIT, true);
    bool own = t.verdict == S_OK && (t.d.what == W_CHILD || t.d.what == W_THREAD);
    int o = own ? f->pool[t.pool].obj : -1;
    uint32_t ticks;
    if (t.verdict != S_OK || own) {
        static const uint32_t choices[] = { WAIT_FOREVER, 0, 1, SHORT_WAIT, 50 };
        ticks = one_in(f, 4) ? rnd(f) : choices[rnd(f) % ARRAY_SIZE(choices)];
        if (own && ticks != WAIT_FOREVER && !one_in(f, 8))
            ticks %= 100; // else perhaps past WAIT_TICKS_MAX: -EINVAL
    } else {
        ticks = rnd(f) % (SHORT_WAIT + 1);
    }
    a[0] = (uint32_t)t.d.value;
    a[1] = ticks;
    struct expect e;
    if (ticks > WAIT_TICKS_MAX && ticks != WAIT_FOREVER) {
        e = expect_err(S_EINVAL);
        if (t.verdict != S_OK)
            e.mask |= B(t.verdict);
    } else if (t.verdict != S_OK) {
        e = expect_err(t.verdict);
    } else if (own) {
        e = exit_expect(f, o);
        if (ticks != WAIT_FOREVER && !f->objs[o].ended)
            e.mask |= B(S_ETIMEDOUT);
    } else if (t.d.what == W_PEER) {
        e = (struct expect){ B(S_OK) | B(S_ETIMEDOUT), 0, 1 };
    } else if (t.d.sibling == (int)f->index) {
        e = (struct expect){ B(S_EDEADLK) | B(S_ETIMEDOUT), ANY_OK, ANY_OK };
    } else if (t.d.sibling >= 0) {
        e = (struct expect){ B(S_OK) | B(S_ETIMEDOUT), FUZZ_THREAD_EXIT, FUZZ_THREAD_EXIT };
    } else {
        e = expect_err(S_ETIMEDOUT); // a helper: they run to the end
    }
    long r = enter(f, SYS_WAIT, a, NULL);
    record(f, SYS_WAIT, a, r, e);
    if (!own || r < 0 || f->objs[o].ended)
        return;
    if (f->objs[o].what == W_CHILD) {
        child_ended(f, o, r);
    } else {
        f->objs[o].ended = true;
        f->objs[o].code = r;
    }
}

// Only the thread's own children are ended.
static void
fuzz_kill(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_KILL, true);
    a[0] = (uint32_t)t.d.value;
    long r = enter(f, SYS_KILL, a, NULL);
    record(f, SYS_KILL, a, r, t.verdict == S_OK ? expect_ok(0) : expect_err(t.verdict));
    if (t.verdict == S_OK && r == 0)
        f->objs[f->pool[t.pool].obj].killed = true;
}

// A copy of the handle passed in a call came back in the responder's
// reply: the same object, rights and badge, maybe derived from the one
// passed (through the responder's copy, closed since).
static void
take_echo(struct fuzzer *f, int got, const struct pick *passed)
{
    f->hs.echoed++;
    struct hd d = passed->d;
    d.value = got;
    check_held(f, &d, "copy that came back");
    int obj = passed->pool >= 0 ? f->pool[passed->pool].obj : -1;
    pool_add(f, d, obj, passed->pool, false, false);
}

// Send or call: the responder's endpoint, or one that refuses at once.
// The call's reply must carry w0 + 1, the badge of the handle used, and a
// copy of the handle passed, if any.
static void
fuzz_send(struct fuzzer *f, bool call, uint32_t a[5])
{
    uint32_t n = call ? SYS_IPC_CALL : SYS_IPC_SEND;
    struct pick t = pick_handle(f, U_SEND, true);
    struct ipc_case c =
        pick_ipc_buf(f, call ? USE_WRITE : USE_READ, t.verdict == S_OK ? H_PASS : H_PASS_PROBE);
    a[0] = (uint32_t)t.d.value;
    a[1] = rnd(f);
    a[2] = t.d.what == W_RESP ? t.d.badge : rnd(f); // the responder checks it
    a[3] = c.buf.addr;
    uint32_t bad = t.verdict != S_OK ? B(t.verdict) : 0;
    bad |= sender_bad(&c, t.verdict != S_EBADF && !(t.d.rights & CAP_GRANT));
    if (call && c.known)
        bad |= receiver_bad(&c);
    struct expect e = expect_unless(bad, expect_ok(0));
    if (!c.known && t.verdict == S_OK) // a struct read from code: any of these
        e = (struct expect){ B(S_OK) | B(S_EFAULT) | B(S_EMSGSIZE), 0, 0 };
    struct ipc_words reply = { 0, 0, 0 };
    long r = enter(f, n, a, call ? &reply : NULL);
    record(f, n, a, r, MAY_NOMEM(e));
    if (r != 0)
        return;
    if (c.pass.d.value)
        sent_away(f, c.pass.pool);
    if (!call)
        return;
    if (reply.w0 != a[1] + 1 || reply.w1 != a[2])
        unexpected(f, "call: reply words %#x %#x, expected %#x %#x", reply.w0, reply.w1, a[1] + 1,
                   a[2]);
    int got = c.buf.kind == P_RW ? handle_word(&c) : 0;
    if (got && c.pass.d.value && got != c.pass.d.value) {
        take_echo(f, got, &c.pass);
    } else if (got) {
        unexpected(f, "call: handle word %d after the reply (passed %d)", got, c.pass.d.value);
        if (got != c.pass.d.value)
            sys_cap_close(got);
    }
}

// After a recv or reply_recv that returned r, with msg as it came back: a
// call from the feeder leaves a reply handle to answer, a send leaves
// none, and the feeder passes no handle.
static void
took_message(struct fuzzer *f, long r, const struct ipc_words *msg, const struct ipc_case *c)
{
    if (r < 0)
        return;
    bool call = msg->w0 & FEED_CALL;
    if (call && msg->reply > 0) {
        if (stale_has(f, msg->reply))
            unexpected(f, "reply handle %d has a number closed before", msg->reply);
        f->reply = msg->reply;
        f->hs.made++;
    } else if (call || msg->reply != 0) {
        unexpected(f, "recv: message w0 %#x came with reply handle %d", msg->w0, msg->reply);
        if (msg->reply > 0)
            sys_cap_close(msg->reply);
    }
    if (c->buf.kind == P_RW && handle_word(c) != 0)
        unexpected(f, "recv: handle word %d, but the feeder passes none", handle_word(c));
}

// recv on the thread's feed endpoint (announced: the feeder will send), or
// on one that refuses at once; the message comes with the feeder's badge.
static void
fuzz_recv(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_RECV, true);
    struct ipc_case c = pick_ipc_buf(f, USE_WRITE, H_OUT);
    a[0] = (uint32_t)t.d.value;
    a[3] = c.buf.addr;
    uint32_t bad = (t.verdict != S_OK ? B(t.verdict) : 0) | receiver_bad(&c);
    if (!bad)
        f->requests++;
    struct ipc_words msg;
    long r = enter(f, SYS_IPC_RECV, a, &msg);
    record(f, SYS_IPC_RECV, a, r, expect_unless(bad, expect_ok(FEED_BADGE(f->global))));
    took_message(f, r, &msg, &c);
}

// reply never waits: nothing it is given here is a pending reply.
static void
fuzz_reply(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_REPLY, true);
    struct ipc_case c = pick_ipc_buf(f, USE_READ, H_PASS_PROBE);
    a[0] = (uint32_t)t.d.value;
    a[3] = c.buf.addr;
    uint32_t bad = B(t.verdict) | sender_bad(&c, false);
    record(f, SYS_IPC_REPLY, a, enter(f, SYS_IPC_REPLY, a, NULL), expect_unless(bad, expect_ok(0)));
}

// reply_recv with no reply (0: a recv, announced as fuzz_recv's) or with a
// handle that is not a pending reply (it fails, and receives nothing).
static void
fuzz_reply_recv(struct fuzzer *f, uint32_t a[5])
{
    bool none = one_in(f, 2);
    struct pick t = { .d = { .value = 0 }, .pool = -1, .verdict = S_OK };
    if (!none && (t = pick_handle(f, U_REPLY, true)).d.value == 0)
        t.d.value = -1; // 0 would mean no reply

    struct pick e = pick_handle(f, U_RECV, true);
    struct ipc_case c = pick_ipc_buf(f, USE_WRITE, none ? H_OUT : H_PASS_PROBE);
    a[0] = (uint32_t)t.d.value;
    a[3] = c.buf.addr;
    a[4] = (uint32_t)e.d.value;
    uint32_t bad;
    if (!none) {
        bad = B(t.verdict) | sender_bad(&c, false);
    } else {
        bad = (e.verdict != S_OK ? B(e.verdict) : 0) | receiver_bad(&c);
        if (!bad)
            f->requests++;
    }
    struct ipc_words msg;
    long r = enter(f, SYS_IPC_REPLY_RECV, a, &msg);
    record(f, SYS_IPC_REPLY_RECV, a, r, expect_unless(bad, expect_ok(FEED_BADGE(f->global))));
    took_message(f, r, &msg, &c);
}

// The pending reply handle is used up (answered, or closed).
static void
answered(struct fuzzer *f)
{
    stale_add(f, f->reply);
    f->reply = 0;
    f->hs.answered++;
}

// A call that takes another kind of handle, given the pending reply
// handle: -EBADF, and it stays pending; or SYS_CAP_INFO on it.
static void
misuse_reply(struct fuzzer *f, const struct hd *d, uint32_t a[5])
{
    static const uint32_t calls[] = { SYS_IPC_SEND, SYS_IPC_CALL, SYS_IPC_RECV, SYS_WAIT,
                                      SYS_KILL,     SYS_SPAWN,    SYS_CAP_INFO, SYS_CAP_DUP };
    uint32_t n = calls[rnd(f) % ARRAY_SIZE(calls)];
    a[0] = (uint32_t)d->value;
    a[1] = a[2] = a[3] = 0; // no buffer, no ticks, no list
    if (n == SYS_CAP_DUP) {
        // The kernel refuses a second handle to one answer (the ABI is silent).
        a[1] = rnd(f);
        long r = enter(f, n, a, NULL);
        record(f, n, a, r, expect_err(S_EPERM));
        if (r > 0)
            sys_cap_close((int)r);
        return;
    }
    if (n != SYS_CAP_INFO) {
        record(f, n, a, enter(f, n, a, NULL), expect_err(S_EBADF));
        f->hs.wrong_type++;
        return;
    }
    uint8_t *out = f->scratch + rnd(f) % 256;
    a[1] = (uint32_t)(uintptr_t)out;
    long r = enter(f, n, a, NULL);
    record(f, n, a, r, expect_ok(0));
    struct cap_info info;
    memcpy(&info, out, sizeof info);
    if (r == 0 && !info_matches(d, &info))
        unexpected(f, "cap_info of reply handle %d: type %u badge %#x", d->value, info.type,
                   info.badge);
}

// The step after a call from the feeder: answer it - reply, reply_recv (which
// then receives, as fuzz_recv) or close - or first misuse the reply handle.
// A reply that fails on this side (its buffer, the handle it passes) leaves
// the call open (the ABI); whether the handle is still open is checked.
static void
fuzz_answer(struct fuzzer *f, uint32_t a[5])
{
    struct hd d = { .value = f->reply,
                    .what = W_REPLY,
                    .type = CAP_TYPE_REPLY,
                    .rights = RIGHTS_UNKNOWN,
                    .sibling = -1 };
    unsigned k = rnd(f) % 8;
    if (k == 0) {
        misuse_reply(f, &d, a);
        return;
    }
    if (k == 1) {
        a[0] = (uint32_t)d.value;
        long r = enter(f, SYS_CAP_CLOSE, a, NULL);
        record(f, SYS_CAP_CLOSE, a, r, expect_ok(0));
        answered(f);
        return;
    }
    bool both = k >= 5;
    uint32_t n = both ? SYS_IPC_REPLY_RECV : SYS_IPC_REPLY;
    struct ipc_case c = pick_ipc_buf(f, both ? USE_WRITE : USE_READ, H_PASS);
    // A probe only if the reply adds nothing to the table first.
    struct pick e = { .d = { .value = (int)a[4] }, .pool = -1, .verdict = S_OK };
    if (both)
        e = pick_handle(f, U_RECV, c.pass.d.value == 0);
    uint32_t reply_bad = sender_bad(&c, false), bad = reply_bad;
    if (both && !reply_bad) {
        bad = (e.verdict != S_OK ? B(e.verdict) : 0) | receiver_bad(&c);
        if (!bad)
            f->requests++;
    }
    a[0] = (uint32_t)d.value;
    a[3] = c.buf.addr;
    a[4] = (uint32_t)e.d.value;
    struct ipc_words msg;
    long r = enter(f, n, a, both ? &msg : NULL);
    struct expect ex = expect_unless(bad, expect_ok(both ? (long)FEED_BADGE(f->global) : 0));
    if (!c.known)
        ex = (struct expect){ B(S_OK) | B(S_EFAULT) | B(S_EMSGSIZE), 0, 0 };
    record(f, n, a, r, ex);
    struct cap_info info;
    int q = sys_cap_info(d.value, &info);
    if (q == 0 && c.known && !reply_bad)
        unexpected(f, "reply handle %d still open after its answer", d.value);
    if (q == -EBADF && c.known && reply_bad)
        unexpected(f, "reply handle %d closed by an answer that failed", d.value);
    if (q != 0) {
        if (!reply_bad && c.pass.d.value)
            sent_away(f, c.pass.pool);
        answered(f);
    }
    if (both)
        took_message(f, r, &msg, &c);
}

static void
fuzz_cap_info(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_INFO, true);
    struct uptr p = pick_ptr(f, USE_WRITE);
    a[0] = (uint32_t)t.d.value;
    a[1] = p.addr;
    uint32_t bad = (t.verdict != S_OK ? B(t.verdict) : 0) |
                   (ptr_ok(&p, sizeof(struct cap_info), USE_WRITE) ? 0 : B(S_EFAULT));
    long r = enter(f, SYS_CAP_INFO, a, NULL);
    record(f, SYS_CAP_INFO, a, r, expect_unless(bad, expect_ok(0)));
    if (r != 0 || bad)
        return;
    struct cap_info info;
    memcpy(&info, (const void *)(uintptr_t)p.addr, sizeof info);
    if (!info_matches(&t.d, &info))
        unexpected(f, "cap_info %d (what %u): type %u rights %#x badge %#x base %#x", t.d.value,
                   t.d.what, info.type, info.rights, info.badge, info.base);
}

// Any rights word: a subset of CAP_RIGHTS_ALL mostly; bits past it mean
// nothing (the new rights are rights & the old).
static uint32_t
pick_rights(struct fuzzer *f)
{
    switch (rnd(f) % 4) {
    case 0: return rnd(f);
    case 1: return CAP_RIGHTS_ALL;
    default: return rnd(f) & CAP_RIGHTS_ALL;
    }
}

static uint32_t
pick_badge(struct fuzzer *f)
{
    switch (rnd(f) % 8) {
    case 0:
    case 1: return 1 + rnd(f) % 1000;
    case 2: return rnd(f) & BADGE_MAX;
    case 3: return BADGE_MAX + 1 + rnd(f) % BADGE_MAX;
    default: return 0;
    }
}

// A duplicate with rights & the old ones and the badge given (0: the old
// one; a new one only on an unbadged handle, at most BADGE_MAX); it joins
// the pool, derived from the handle it came from.
static void
fuzz_cap_dup(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_DUP, true);
    uint32_t rights = pick_rights(f), badge = pick_badge(f);
    a[0] = (uint32_t)t.d.value;
    a[1] = rights;
    a[2] = badge;
    uint32_t bad = badge > BADGE_MAX ? B(S_EINVAL) : 0;
    if (t.verdict != S_OK)
        bad |= B(t.verdict);
    else if (badge && t.d.badge)
        bad |= B(S_EPERM);
    long r = enter(f, SYS_CAP_DUP, a, NULL);
    record(f, SYS_CAP_DUP, a, r, expect_unless(bad, MAY_NOROOM(expect_ok(ANY_OK))));
    if (r <= 0)
        return;
    if (bad) {
        sys_cap_close((int)r);
        return;
    }
    struct hd d = t.d;
    d.value = (int)r;
    d.rights &= (uint8_t)rights;
    if (badge)
        d.badge = badge;
    f->hs.rights[d.type][d.rights / 32] |= 1u << (d.rights % 32);
    check_held(f, &d, "duplicate");
    pool_add(f, d, t.pool >= 0 ? f->pool[t.pool].obj : -1, t.pool, true, false);
}

// Closes one of the pool's, or a number that is not a handle; the number
// of one closed is dead for good.
static void
fuzz_cap_close(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_CLOSE, true);
    a[0] = (uint32_t)t.d.value;
    long r = enter(f, SYS_CAP_CLOSE, a, NULL);
    record(f, SYS_CAP_CLOSE, a, r, t.verdict == S_OK ? expect_ok(0) : expect_err(t.verdict));
    if (t.verdict != S_OK || r != 0)
        return;
    f->hs.closed++;
    forget(f, t.pool);
    struct cap_info info;
    if (sys_cap_info(t.d.value, &info) != -EBADF)
        unexpected(f, "handle %d still answers cap_info after close", t.d.value);
}

// What SYS_CAP_REVOKE on pool entry x closed: every sure descendant in the
// pool and perhaps the maybe ones, nothing else of the pool, not x; and its
// count is those plus at most the copies passed on that may be open still.
static void
after_revoke(struct fuzzer *f, int x, long r)
{
    unsigned closed = 0;
    uint16_t gone = 0;
    for (int i = 0; i < POOL; i++) {
        const struct held *h = &f->pool[i];
        if (!h->d.value)
            continue;
        struct cap_info info;
        int q = sys_cap_info(h->d.value, &info);
        bool sure = h->sure & BIT(x), maybe = h->maybe & BIT(x);
        if (q != 0 && q != -EBADF)
            unexpected(f, "cap_info %d after a revoke: %d", h->d.value, q);
        else if (q == 0 && sure)
            unexpected(f, "revoke of %d left %d, derived from it, open", f->pool[x].d.value,
                       h->d.value);
        else if (q != 0 && (i == x || !(sure || maybe)))
            unexpected(f, "revoke of %d closed %d, not derived from it", f->pool[x].d.value,
                       h->d.value);
        if (q != 0) {
            closed++;
            gone |= BIT(i);
        }
    }
    unsigned away = f->pool[x].away;
    if ((unsigned long)r < closed || (unsigned long)r > closed + away)
        unexpected(f, "revoke of %d said %ld closed: %u in the pool, up to %u elsewhere",
                   f->pool[x].d.value, r, closed, away);
    f->pool[x].away = 0;
    f->hs.revoked += closed;
    for (int i = 0; i < POOL; i++)
        if (gone & BIT(i))
            forget(f, i);
}

static void
fuzz_cap_revoke(struct fuzzer *f, uint32_t a[5])
{
    struct pick t = pick_handle(f, U_REVOKE, true);
    a[0] = (uint32_t)t.d.value;
    long r = enter(f, SYS_CAP_REVOKE, a, NULL);
    record(f, SYS_CAP_REVOKE, a, r, t.verdict == S_OK ? expect_ok(ANY_OK) : expect_err(t.verdict));
    if (t.verdict == S_OK && r >= 0)
        after_revoke(f, t.pool, r);
}

// The list holds every handle of the pool and the shared ones, each once,
// and none of the numbers the thread saw closed.  (It is in slot order,
// "lowest first" as the kernel reads the ABI: not the numbers' order.)
static void
check_list(struct fuzzer *f, const int *list, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (list[i] <= 0 || stale_has(f, list[i]))
            unexpected(f, "cap_list: %d, which is no handle or was closed", list[i]);
        for (unsigned j = 0; j < i; j++)
            if (list[j] == list[i])
                unexpected(f, "cap_list: %d twice", list[i]);
    }
    for (unsigned k = 0; k < POOL + s_shared_count; k++) {
        int v = k < POOL ? f->pool[k].d.value : s_shared[k - POOL].value;
        bool found = !v;
        for (unsigned i = 0; i < n && !found; i++)
            found = list[i] == v;
        if (!found)
            unexpected(f, "cap_list: %d missing", v);
    }
}

static void
fuzz_cap_list(struct fuzzer *f, uint32_t a[5])
{
    struct uptr p = pick_ptr(f, USE_WRITE);
    if (p.kind == P_EDGE && p.room >= sizeof(int))
        // One entry would fit in the last bytes of the image or the stack.
        p = (struct uptr){ (uint32_t)(uintptr_t)f->scratch + rnd(f) % SCRATCH_VALID, P_RW, 0 };
    static const uint32_t maxes[] = { 0, 1, 2, 7, CAPS_PER_PROCESS, CAPS_PER_PROCESS + 1 };
    uint32_t max = one_in(f, 4) ? pick_len(f) : maxes[rnd(f) % ARRAY_SIZE(maxes)];
    a[0] = p.addr;
    a[1] = max;
    struct expect e = expect_ok(ANY_OK);
    if (max && !ptr_ok(&p, sizeof(int), USE_WRITE))
        e = expect_err(S_EFAULT);
    else if (max > CAPS_PER_PROCESS || !ptr_ok(&p, max * sizeof(int), USE_WRITE))
        e.mask |= B(S_EFAULT); // the ABI does not say whether all of max must be writable
    long r = enter(f, SYS_CAP_LIST, a, NULL);
    record(f, SYS_CAP_LIST, a, r, e);
    if (r < 0)
        return;
    unsigned held = s_shared_count;
    for (int i = 0; i < POOL; i++)
        held += f->pool[i].d.value != 0;
    if ((unsigned long)r > CAPS_PER_PROCESS || (unsigned long)r < held)
        unexpected(f, "cap_list: %ld open, but %u held here and at most %u in all", r, held,
                   CAPS_PER_PROCESS);
    else if (p.kind == P_RW && max >= (uint32_t)r) {
        int list[CAPS_PER_PROCESS];
        memcpy(list, (const void *)(uintptr_t)p.addr, (size_t)r * sizeof(int));
        check_list(f, list, (unsigned)r);
    }
}

static void
fuzz_endpoint_create(struct fuzzer *f, uint32_t a[5])
{
    long r = enter(f, SYS_ENDPOINT_CREATE, a, NULL);
    record(f, SYS_ENDPOINT_CREATE, a, r, MAY_NOROOM(expect_ok(ANY_OK)));
    if (r <= 0)
        return;
    struct cap_info info;
    struct hd d = { (int)r, W_EP, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_RECV | CAP_GRANT, -1, 0, 0 };
    if (sys_cap_info(d.value, &info) == 0)
        d.base = info.base; // its serial, which its duplicates and copies share
    check_held(f, &d, "new endpoint");
    pool_add(f, d, obj_new(f, W_EP), -1, true, true);
}

static void
fuzz_one(struct fuzzer *f)
{
    uint32_t a[5];
    for (unsigned i = 0; i < 5; i++)
        a[i] = rnd(f);
    if (f->reply) {
        fuzz_answer(f, a);
        return;
    }
    if (one_in(f, 12)) {
        fuzz_unknown_number(f, a);
        return;
    }
    uint32_t n = 2 + rnd(f) % (SYS_COUNT - 2); // SYS_EXIT is 1
    switch (n) {
    case SYS_THREAD_CREATE: fuzz_thread_create(f, a); break;
    case SYS_SLEEP: fuzz_sleep(f, a); break;
    case SYS_GETTID: record(f, n, a, enter(f, n, a, NULL), expect_ok(f->tid)); break;
    case SYS_DEBUG_WRITE: fuzz_debug_write(f, a); break;
    case SYS_IPC_SEND: fuzz_send(f, false, a); break;
    case SYS_IPC_CALL: fuzz_send(f, true, a); break;
    case SYS_IPC_RECV: fuzz_recv(f, a); break;
    case SYS_IPC_REPLY: fuzz_reply(f, a); break;
    case SYS_IPC_REPLY_RECV: fuzz_reply_recv(f, a); break;
    case SYS_KFAST_STATS: fuzz_struct_out(f, n, sizeof(struct kfast_stats), a); break;
    case SYS_SYSINFO: fuzz_struct_out(f, n, sizeof(struct sysinfo), a); break;
    case SYS_SPAWN: fuzz_spawn(f, a); break;
    case SYS_WAIT: fuzz_wait(f, a); break;
    case SYS_KILL: fuzz_kill(f, a); break;
    case SYS_CAP_INFO: fuzz_cap_info(f, a); break;
    case SYS_CAP_DUP: fuzz_cap_dup(f, a); break;
    case SYS_CAP_CLOSE: fuzz_cap_close(f, a); break;
    case SYS_CAP_REVOKE: fuzz_cap_revoke(f, a); break;
    case SYS_CAP_LIST: fuzz_cap_list(f, a); break;
    case SYS_ENDPOINT_CREATE: fuzz_endpoint_create(f, a); break;
    case SYS_CMDLINE: fuzz_cmdline(f, a); break;
    case SYS_YIELD: record(f, n, a, enter(f, n, a, NULL), expect_ok(0)); break;
    case SYS_TIME: record(f, n, a, enter(f, n, a, NULL), expect_ok(ANY_OK)); break;
    default: // SYS_THREAD_EXIT: not from a fuzz thread
        fuzz_unknown_number(f, a);
        break;
    }
}

// Leaves nothing behind: answers a call still open, waits for the
// children, closes the pool.
static void
fuzz_cleanup(struct fuzzer *f)
{
    if (f->reply) {
        int r = sys_ipc_reply(f->reply, 0, 0, NULL);
        if (r != 0)
            unexpected(f, "answering the feeder at the end: %d", r);
        answered(f);
    }
    for (int i = 0; i < POOL; i++)
        if (f->pool[i].d.value)
            pool_close(f, i);
}

static int
fuzz_thread(void *arg)
{
    struct fuzzer *f = arg;
    f->tid = sys_gettid();
    while (!s_go)
        sys_yield();
    while (f->made < f->calls)
        fuzz_one(f);
    fuzz_cleanup(f);
    f->stats_result = sys_kfast_stats(&f->stats);
    f->done = true;
    return FUZZ_THREAD_EXIT;
}

// ---- Options and figures -----------------------------------------------------

// Parses a decimal or 0x-hex number that ends at a space or the string's
// end; false if there is none.
static bool
parse_uint(const char *s, uint32_t *out)
{
    uint32_t v = 0, base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    bool any = false;
    for (; *s && *s != ' '; s++, any = true) {
        uint32_t d;
        if (*s >= '0' && *s <= '9')
            d = (uint32_t)(*s - '0');
        else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
            d = (uint32_t)((*s | 0x20) - 'a' + 10);
        else
            return false;
        v = v * base + d;
    }
    *out = v;
    return any;
}

// Reads fuzz_seed= and fuzz_calls= from the kernel command line.
static bool
read_options(char *cmdline, size_t cap)
{
    int len = sys_cmdline(cmdline, cap);
    if (len < 0)
        return false;
    s_cmdline_len = len;
    for (const char *w = cmdline; *w; w++) {
        if (w != cmdline && w[-1] != ' ')
            continue;
        uint32_t v;
        if (strncmp(w, "fuzz_seed=", 10) == 0 && parse_uint(w + 10, &v))
            s_seed = v;
        else if (strncmp(w, "fuzz_calls=", 11) == 0 && parse_uint(w + 11, &v))
            s_calls = v;
        else if (strncmp(w, "fuzz_eflags=", 12) == 0 && parse_uint(w + 12, &v))
            s_eflags_mask = v;
    }
    return true;
}


// Reads the options and finds the modules: fault_child (in both
// processes) and exc_child (test_fuzz's).
static bool
setup(char *cmdline, size_t cap)
{
    s_main_tid = sys_gettid();
    if (!read_options(cmdline, cap))
        return false;
    s_fault_child = module_find(FAULT_NAME);
    s_exc_child = module_find(EXC_NAME);
    return s_fault_child > 0 && (FUZZ_PEER || s_exc_child > 0);
}

static void
share(struct hd d)
{
    if (s_shared_count < SHARED_MAX)
        s_shared[s_shared_count++] = d;
}

// The handles the fuzz threads share: every module handle of the process
// (as SYS_CAP_INFO names it), the responder's endpoint and the helpers.
// The fuzz threads and the peer join once they exist.
static bool
share_handles(void)
{
    static int handles[CAPS_PER_PROCESS];
    int n = sys_cap_list(handles, CAPS_PER_PROCESS);
    if (n < 0)
        return false;
    for (int i = 0; i < n && i < CAPS_PER_PROCESS; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) != 0 || info.type != CAP_TYPE_MODULE)
            continue;
        bool fault = strncmp(info.name, FAULT_NAME, sizeof info.name) == 0;
        share((struct hd){ handles[i], fault ? W_FAULT_MOD : W_MODULE, CAP_TYPE_MODULE,
                           (uint8_t)info.rights, -1, info.badge, 0 });
    }
    struct cap_info info;
    if (sys_cap_info(s_resp_ep, &info) != 0)
        return false;
    share((struct hd){ s_resp_ep, W_RESP, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_RECV | CAP_GRANT, -1, 0,
                       info.base });
    share((struct hd){ s_responder, W_SIBLING, CAP_TYPE_THREAD, CAP_WAIT, -1, 0, 0 });
    share((struct hd){ s_feeder, W_SIBLING, CAP_TYPE_THREAD, CAP_WAIT, -1, 0, 0 });
    return true;
}

// Thread i of process p (0: test_fuzz, 1: the peer) is thread
// p * FUZZ_THREADS + i of the run: its seed and its share of the calls
// follow from that number alone.
static void
prepare_threads(void)
{
    unsigned p = FUZZ_PEER, all = PROCESSES * FUZZ_THREADS;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        struct fuzzer *f = &s_fuzz[i];
        f->index = i;
        f->global = p * FUZZ_THREADS + i;
        f->rng = mix(s_seed + f->global);
        f->calls = s_calls / all + (f->global < s_calls % all);
        for (unsigned k = 0; k < POOL; k++)
            f->pool[k].obj = -1;
        // The peer's thread 0 has the top of the main stack, which only its
        // main thread could have used: that one runs on s_peer_stack.
        f->region = p == 1 && i == 0 ? STACK_TOP - STATE_REGION : STACK_BOTTOM + i * STATE_REGION;
    }
}

// Makes the endpoints (the responder's; each fuzz thread's feed, and the
// feeder's badged handle to it) and starts the helpers.
static bool
start_helpers(void)
{
    if ((s_resp_ep = sys_endpoint_create()) <= 0)
        return false;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        struct fuzzer *f = &s_fuzz[i];
        if ((f->feed = sys_endpoint_create()) <= 0)
            return false;
        if ((f->feed_send = sys_cap_dup(f->feed, CAP_SEND, FEED_BADGE(f->global))) <= 0)
            return false;
        struct cap_info info;
        if (sys_cap_info(f->feed, &info) != 0)
            return false;
        f->feed_base = info.base;
    }
    s_responder = thread_spawn(responder, NULL, s_responder_stack, sizeof s_responder_stack);
    s_feeder = thread_spawn(feeder, NULL, s_feeder_stack, sizeof s_feeder_stack);
    return s_responder > 0 && s_feeder > 0 && share_handles();
}

// Starts this process's fuzz threads and waits while any of them makes
// progress.  Returns false, having reported which threads are stuck, after
// HANG_TICKS without progress.
static bool
run_fuzz_threads(void)
{
    unsigned p = FUZZ_PEER;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        struct fuzzer *f = &s_fuzz[i];
        if ((f->handle = thread_spawn(fuzz_thread, f, f->stack, sizeof f->stack)) <= 0)
            return false;
    }
    // Their handles are shared with their ids, which SYS_CAP_INFO gives.
    unsigned since = sys_time();
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        while (s_fuzz[i].tid <= 0)
            if (sys_time() - since > HANG_TICKS)
                return false;
            else
                sys_yield();
        share((struct hd){ s_fuzz[i].handle, W_SIBLING, CAP_TYPE_THREAD, CAP_WAIT, (int8_t)i, 0,
                           (uint32_t)s_fuzz[i].tid });
    }
    s_go = true;
    unsigned last = 0;
    since = sys_time();
    for (;;) {
        unsigned made = 0, done = 0;
        for (unsigned i = 0; i < FUZZ_THREADS; i++) {
            made += s_fuzz[i].made;
            done += s_fuzz[i].done;
        }
        if (done == FUZZ_THREADS)
            break;
        if (made != last) {
            last = made;
            since = sys_time();
        } else if (sys_time() - since > HANG_TICKS) {
            for (unsigned i = 0; i < FUZZ_THREADS; i++)
                if (!s_fuzz[i].done)
                    utest_note("%sthread %u (tid %d) stuck after %u calls", p ? "peer " : "", i,
                               s_fuzz[i].tid, s_fuzz[i].made);
            return false;
        }
        sys_sleep(5);
    }
    bool gone = true;
    for (unsigned i = 0; i < FUZZ_THREADS; i++)
        gone &= sys_wait(s_fuzz[i].handle, SETTLE_TICKS) == FUZZ_THREAD_EXIT;
    return gone;
}

// Ends the helpers and closes the handles start_helpers and
// run_fuzz_threads made; whether all went as it should.
static bool
stop_helpers(void)
{
    s_feeder_stop = true;
    bool ok = sys_wait(s_feeder, SETTLE_TICKS) == 0;
    s_responder_stop = true;
    ok &= sys_ipc_send(s_resp_ep, 0, 0, NULL) == 0;
    ok &= sys_wait(s_responder, SETTLE_TICKS) == 0;
    ok &= sys_cap_close(s_feeder) == 0;
    ok &= sys_cap_close(s_responder) == 0;
    ok &= sys_cap_close(s_resp_ep) == 0;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        ok &= sys_cap_close(s_fuzz[i].feed_send) == 0;
        ok &= sys_cap_close(s_fuzz[i].feed) == 0;
        ok &= sys_cap_close(s_fuzz[i].handle) == 0;
    }
    return ok;
}

// Everything this process's threads counted, summed.
struct totals {
    unsigned slots[SLOTS], calls, calls_due, unexpected, state_calls[2], state_bad;
    unsigned doomed, spawned, raw, done;
    struct handle_stats hs;
};

static struct totals
sum_up(void)
{
    struct totals t = { 0 };
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        const struct fuzzer *f = &s_fuzz[i];
        for (unsigned s = 0; s < SLOTS; s++)
            t.slots[s] += f->results[s];
        t.calls += f->made;
        t.calls_due += f->calls;
        t.unexpected += f->unexpected;
        t.state_calls[0] += f->state_calls[0];
        t.state_calls[1] += f->state_calls[1];
        t.state_bad += f->state_bad;
        t.doomed += f->doomed;
        t.spawned += f->spawned;
        t.raw += f->raw_threads;
        t.done += f->done;
        const struct handle_stats *h = &f->hs;
        t.hs.made += h->made;
        t.hs.closed += h->closed;
        t.hs.revoked += h->revoked;
        t.hs.echoed += h->echoed;
        t.hs.answered += h->answered;
        t.hs.probes += h->probes;
        t.hs.foreign += h->foreign;
        t.hs.busy += h->busy;
        t.hs.stale += h->stale;
        t.hs.wrong_type += h->wrong_type;
        t.hs.no_right += h->no_right;
        for (unsigned k = 0; k <= CAP_TYPE_REPLY; k++)
            for (unsigned w = 0; w < 4; w++)
                t.hs.rights[k][w] |= h->rights[k][w];
    }
    return t;
}

// How many distinct rights words sys_cap_dup made for handles of type.
static unsigned
rights_made(const struct handle_stats *h, unsigned type)
{
    unsigned n = 0;
    for (unsigned r = 0; r <= CAP_RIGHTS_ALL; r++)
        n += (h->rights[type][r / 32] >> (r % 32)) & 1;
    return n;
}

// Prints the calls by result and by number as two diagnostic lines, then
// what the handle calls did.
static void
print_totals(const char *who, const struct totals *t)
{
    char line[256];
    int n = ksnprintf(line, sizeof line, "%scalls %u", who, t->calls);
    for (unsigned s = 0; s < SLOTS; s++)
        if (t->slots[s] && n < (int)sizeof line)
            n += ksnprintf(line + n, sizeof line - (size_t)n, ", %s %u", s_slots[s].name,
                           t->slots[s]);
    printf("  # %s\n", line); // longer than a utest_note may be
    n = ksnprintf(line, sizeof line, "%sby number:", who);
    for (unsigned k = 0; k <= SYS_COUNT; k++) {
        unsigned c = 0;
        for (unsigned i = 0; i < FUZZ_THREADS; i++)
            c += s_fuzz[i].by_number[k];
        if (c && n < (int)sizeof line)
            n += k < SYS_COUNT ? ksnprintf(line + n, sizeof line - (size_t)n, " %u:%u", k, c)
                               : ksnprintf(line + n, sizeof line - (size_t)n, " other:%u", c);
    }
    printf("  # %s\n", line);
    utest_note("%sentry state chosen at random: %u calls by int 0x80, %u by sysenter, "
               "%u came back wrong",
               who, t->state_calls[0], t->state_calls[1], t->state_bad);
    const struct handle_stats *h = &t->hs;
    printf("  # %shandles: %u made, %u closed, %u by revoke, %u came back in replies, %u feeder"
           " calls answered; given where -EBADF was due %u, -EPERM %u\n",
           who, h->made, h->closed, h->revoked, h->echoed, h->answered, h->wrong_type, h->no_right);
    printf("  # %snumbers not held: %u stale, %u checked closed (%u the other process's), %u"
           " not tried (table busy); rights words made by cap_dup: endpoint %u, process %u,"
           " thread %u, module %u\n",
           who, h->stale, h->probes, h->foreign, h->busy, rights_made(h, CAP_TYPE_ENDPOINT),
           rights_made(h, CAP_TYPE_PROCESS), rights_made(h, CAP_TYPE_THREAD),
           rights_made(h, CAP_TYPE_MODULE));
}

// Whether every arena of this process is empty and intact.
static bool
arenas_ok(void)
{
    bool ok = true;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        const struct fuzzer *f = &s_fuzz[i];
        if (f->stats_result != 0 || f->stats.in_use != 0 || f->stats.collisions != 0) {
            utest_note("%sfuzz thread %u: kfast_stats %d, in use %u, collisions %u",
                       FUZZ_PEER ? "peer " : "", i, f->stats_result, f->stats.in_use,
                       f->stats.collisions);
            ok = false;
        }
    }
    return ok;
}

#if FUZZ_PEER
// ---- The peer: fuzz_peer, a second process fuzzing at the same time ------------
// test_fuzz spawns it with an endpoint (handle 1: the peer alone receives
// on it) and fault_child's module (handle 2).  It reads the same options,
// swaps handle lists with test_fuzz over the endpoint, runs threads
// FUZZ_THREADS to 2 * FUZZ_THREADS - 1 of the run, and exits with 0 if it
// made all its calls and every check held, 1 otherwise.  Its fuzz threads
// return FUZZ_THREAD_EXIT, so that the process cannot end with 0 unless
// this thread says so.

#define PEER_XCHG 1

static uint8_t s_peer_stack[16384] ALIGNED(16);

// Makes and closes a few endpoints first, so that the peer's handle numbers
// are not the ones test_fuzz's table gives out in the same order.
static void
churn(void)
{
    for (unsigned k = 0; k < 1 + s_seed % 7; k++) {
        int e = sys_endpoint_create();
        if (e > 0)
            sys_cap_close(e);
    }
}

// Receives test_fuzz's handle numbers into s_foreign and answers with its own.
static bool
swap_lists(int xchg)
{
    static int in[FOREIGN_MAX], out[FOREIGN_MAX];
    struct ipc_buf b = { in, 0, sizeof in, 0 };
    struct ipc_words msg;
    if (sys_ipc_recv(xchg, &msg, &b) < 0 || msg.reply <= 0)
        return false;
    s_foreign_count = b.len / sizeof(int);
    memcpy(s_foreign, in, b.len);
    int n = sys_cap_list(out, FOREIGN_MAX);
    n = n < 0 ? 0 : n > FOREIGN_MAX ? FOREIGN_MAX : n;
    struct ipc_buf r = { out, (unsigned)n * sizeof(int), 0, 0 };
    return sys_ipc_reply(msg.reply, 0, 0, &r) == 0;
}

NORETURN static void
peer_main(void)
{
    static char cmdline[CMDLINE_MAX];
    struct cap_info info;
    bool ok = setup(cmdline, sizeof cmdline) && sys_cap_info(PEER_XCHG, &info) == 0 &&
              info.type == CAP_TYPE_ENDPOINT;
    if (!ok)
        utest_note("peer: setup failed");
    churn();
    prepare_threads();
    if (ok && !(start_helpers() && swap_lists(PEER_XCHG) && sys_cap_close(PEER_XCHG) == 0)) {
        utest_note("peer: starting the helpers or swapping handle lists failed");
        ok = false;
    }
    if (ok && !run_fuzz_threads()) {
        utest_note("peer: no progress for %u ticks: seed %#x", HANG_TICKS, s_seed);
        sys_exit(1);
    }
    ok &= stop_helpers();
    struct totals t = sum_up();
    print_totals("peer: ", &t);
    ok &= t.done == FUZZ_THREADS && t.calls >= t.calls_due && t.unexpected == 0 &&
          t.slots[S_OTHER] == 0 && t.state_bad == 0 && s_helper_errors == 0 &&
          s_doomed_survivors == 0 && s_tf_survivors == 0 && arenas_ok();
    utest_note("peer: %u threads done, %u of %u calls, %u unexpected, %u helper errors, "
               "%u doomed survivors, %u TF survivors: %s",
               t.done, t.calls, t.calls_due, t.unexpected, s_helper_errors, s_doomed_survivors,
               s_tf_survivors, ok ? "ok" : "FAILED");
    sys_exit(ok ? 0 : 1);
}

// Leaves the main stack to thread 0's frames (see prepare_threads).
int
main(void)
{
    __asm__ volatile("mov %0, %%esp\n"
                     "call *%1\n"
                     :
                     : "r"(s_peer_stack + sizeof s_peer_stack), "r"(peer_main)
                     : "memory");
    __builtin_unreachable();
}

#else
// ---- The tests ---------------------------------------------------------------------

static int s_peer_module = -1;
static int s_peer = -1; // fuzz_peer's process
static struct sysinfo s_baseline;

// Frames free or held by the heap: the heap gives free pages at its top
// back, so frames move between the two with where its top block lies.
static unsigned
frames_not_leaked(const struct sysinfo *s)
{
    return s->frames_free + s->heap_frames;
}

static bool
counters_equal(const struct sysinfo *a, const struct sysinfo *b)
{
    return frames_not_leaked(a) == frames_not_leaked(b) &&
           a->heap_live_blocks == b->heap_live_blocks &&
           a->heap_bytes_in_use == b->heap_bytes_in_use && a->threads == b->threads &&
           a->processes == b->processes && a->handles == b->handles && a->objects == b->objects;
}

// Sends this process's handle numbers to the peer over xchg (CAP_SEND
// only: should the peer die, the call fails) and takes its numbers from
// the reply into s_foreign.
static bool
swap_lists(int xchg)
{
    static int buf[FOREIGN_MAX];
    int n = sys_cap_list(buf, FOREIGN_MAX);
    if (n < 0)
        return false;
    n = n > FOREIGN_MAX ? FOREIGN_MAX : n;
    struct ipc_buf b = { buf, (unsigned)n * sizeof(int), sizeof buf, 0 };
    if (sys_ipc_call(xchg, 0, 0, &b, NULL) != 0)
        return false;
    s_foreign_count = b.len / sizeof(int);
    memcpy(s_foreign, buf, b.len);
    return true;
}

// Grows the main stack now, to more than the run will use, so that its
// pages (mapped on demand past USER_STACK_SIZE, and kept) are in the
// baseline and not counted as frames the run leaked.
static NOINLINE void
stack_grow(void)
{
    volatile char deep[64 * 1024];
    for (unsigned i = 0; i < sizeof deep; i += 4096)
        deep[i] = 0;
}

UTEST(options_and_baseline)
{
    static char cmdline[CMDLINE_MAX];
    stack_grow();
    UASSERT_TRUE(setup(cmdline, sizeof cmdline));
    utest_note("fuzz_seed=%#x fuzz_calls=%u fuzz_eflags=%#x threads=%u in %u processes "
               "(command line: %s)",
               s_seed, s_calls, s_eflags_mask, FUZZ_THREADS, PROCESSES, cmdline);
    s_peer_module = module_find(PEER_NAME);
    UASSERT_GT(s_peer_module, 0);
    // Settled: the previous test program's threads may still be reaped.
    UASSERT_TRUE(sysinfo_settled(&s_baseline, 300));
}

// Both processes at once; fails if either stops making progress.
UTEST(fuzz)
{
    unsigned t0 = sys_time();
    prepare_threads();
    UASSERT_TRUE(start_helpers());
    int xchg = sys_endpoint_create();
    UASSERT_GT(xchg, 0);
    int handles[2] = { xchg, s_fault_child };
    s_peer = sys_spawn(s_peer_module, handles, 2);
    // The peer keeps the only handle that receives on xchg.
    int xchg_send = sys_cap_dup(xchg, CAP_SEND, 0);
    UEXPECT_EQ(sys_cap_close(xchg), 0);
    UASSERT_GT(s_peer, 0);
    UASSERT_GT(xchg_send, 0);
    share(
        (struct hd){ s_peer, W_PEER, CAP_TYPE_PROCESS, CAP_WAIT | CAP_KILL | CAP_GRANT, -1, 0, 0 });
    UEXPECT_TRUE(swap_lists(xchg_send));
    UEXPECT_EQ(sys_cap_close(xchg_send), 0);
    utest_note("%u shared handles, %u of fuzz_peer's handle numbers", s_shared_count,
               s_foreign_count);
    if (!run_fuzz_threads()) {
        // The results this plan promised and never prints fail the run.
        UFAIL("no progress for %u ticks: seed %#x", HANG_TICKS, s_seed);
        sys_exit(1);
    }
    UEXPECT_EQ(sys_wait(s_peer, WAIT_FOREVER), 0);
    unsigned ticks = sys_time() - t0;
    // The peer's calls: at least its share (it checks that it made them).
    struct totals t = sum_up();
    unsigned calls = t.calls + (s_calls - t.calls_due);
    printf("  # %u calls in %u ticks: %u calls/s\n", calls, ticks,
           ticks ? calls * TICK_HZ / ticks : 0);
}

UTEST(results_as_expected)
{
    struct totals t = sum_up();
    print_totals("", &t);
    utest_note("helpers: responder served %u, feeder sent %u (%u calls), errors %u",
               s_responder_served, s_feeder_sent, s_feeder_calls, s_helper_errors);
    UEXPECT_UGE(t.calls, t.calls_due); // a spawn and its wait may end a thread's share
    UEXPECT_UEQ(t.unexpected, 0);
    UEXPECT_UEQ(t.slots[S_OTHER], 0);
    UEXPECT_UEQ(t.state_bad, 0);
    UEXPECT_UEQ(s_helper_errors, 0);
    if (t.unexpected || t.state_bad)
        utest_note("replay with fuzz_seed=%#x fuzz_calls=%u", s_seed, s_calls);
}

UTEST(only_doomed_threads_killed)
{
    struct totals t = sum_up();
    for (unsigned i = 0; i < FUZZ_THREADS; i++)
        if (!UEXPECT_TRUE(s_fuzz[i].done))
            utest_note("fuzz thread %u was killed", i);
    utest_note("threads killed: %u on purpose (%u doomed threads, %u fault_child), "
               "0 fuzz threads; %u threads created at random; %u survived TF",
               t.doomed + t.spawned, t.doomed, t.spawned, t.raw, s_tf_survivors);
    UEXPECT_UEQ(s_doomed_survivors, 0);
    UEXPECT_UEQ(s_tf_survivors, 0); // ABI: TF single-steps into the next instruction
}

UTEST(arenas_empty)
{
    UEXPECT_TRUE(arenas_ok());
    struct kfast_stats mine;
    UASSERT_EQ(sys_kfast_stats(&mine), 0);
    UEXPECT_UEQ(mine.in_use, 0);
    UEXPECT_UEQ(mine.collisions, 0);
    utest_note("arena peak %u of %u bytes in fuzz thread 0, %u spills, low water %u",
               s_fuzz[0].stats.peak, s_fuzz[0].stats.block_size, s_fuzz[0].stats.spills,
               s_fuzz[0].stats.stack_low_water);
}

UTEST(kernel_alive)
{
    UEXPECT_EQ(sys_gettid(), s_main_tid);
    unsigned t0 = sys_time();
    UEXPECT_EQ(sys_sleep(2), 0);
    UEXPECT_UGE(sys_time() - t0, 2);
    struct ipc_words reply;
    UEXPECT_EQ(sys_ipc_call(s_resp_ep, 41, 0, NULL, &reply), 0);
    UEXPECT_UEQ(reply.w0, 42);
    UEXPECT_UEQ(reply.w1, 0); // the badge of s_resp_ep: none
    int child = sys_spawn(s_fault_child, NULL, 0);
    UASSERT_GT(child, 0);
    UEXPECT_EQ(sys_wait(child, WAIT_FOREVER), FAULT_CHILD_EXIT);
    UEXPECT_EQ(sys_cap_close(child), 0);
}

UTEST(helpers_stop)
{
    UEXPECT_TRUE(stop_helpers());
    UEXPECT_EQ(sys_cap_close(s_peer), 0);
}

UTEST(counters_back_to_baseline)
{
    struct sysinfo now;
    unsigned start = sys_time();
    do {
        UASSERT_EQ(sys_sysinfo(&now), 0);
        if (counters_equal(&now, &s_baseline))
            break;
        sys_sleep(1);
    } while (sys_time() - start < SETTLE_TICKS);
    UEXPECT_UEQ(frames_not_leaked(&now), frames_not_leaked(&s_baseline));
    UEXPECT_UEQ(now.heap_live_blocks, s_baseline.heap_live_blocks);
    UEXPECT_UEQ(now.heap_bytes_in_use, s_baseline.heap_bytes_in_use);
    UEXPECT_UEQ(now.threads, s_baseline.threads);
    UEXPECT_UEQ(now.processes, s_baseline.processes);
    UEXPECT_UEQ(now.handles, s_baseline.handles);
    UEXPECT_UEQ(now.objects, s_baseline.objects);
}

// SYS_EXIT, kept out of the random calls: in an exc_child (handle 1: an
// endpoint it receives on), with a code from the seed, while its other
// thread runs.
UTEST(exit_in_a_child)
{
    unsigned code = mix(s_seed) % 256;
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    int child = sys_spawn(s_exc_child, &ep, 1);
    // The child keeps the only handle that receives: should it die first,
    // the call fails instead of waiting.
    int send = sys_cap_dup(ep, CAP_SEND, 0);
    UEXPECT_EQ(sys_cap_close(ep), 0);
    UASSERT_GT(child, 0);
    UASSERT_GT(send, 0);
    char text[96] = "exit"; // room for exc_child's note, should a check fail
    struct ipc_buf buf = { text, 4, sizeof text, 0 };
    UEXPECT_EQ(sys_ipc_call(send, code, 0, &buf, NULL), 0);
    UEXPECT_EQ(sys_wait(child, WAIT_FOREVER), (int)code);
    UEXPECT_EQ(sys_cap_close(send), 0);
    UEXPECT_EQ(sys_cap_close(child), 0);
}

int
main(void)
{
    return utest_run("test_fuzz");
}
#endif
