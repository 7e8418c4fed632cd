// A system call fuzzer.  FUZZ_THREADS threads issue random system calls with
// random arguments - every number in range and beyond, kernel addresses,
// unmapped, straddling and misaligned pointers, huge and negative lengths,
// random IPC targets - through int 0x80 and sysenter at random, each from a
// generator seeded from one printed seed, so that a failure can be replayed
// (each thread's calls follow from the seed; how the threads interleave
// does not).
// Every result is checked against what the arguments call for, and counted
// by errno.  Afterwards the kernel must be alive, the frame, heap, thread
// and process counters back at their baseline, and every arena empty.
//
// Options, words of the kernel command line (sys_cmdline):
//   fuzz_seed=N    the seed (decimal or 0x hex; default FUZZ_SEED_DEFAULT)
//   fuzz_calls=N   calls in all, shared by the threads (default 20000)
//
// No call may leave a thread blocked for good, so the random choices keep to
// rules:
// - SYS_EXIT ends the process and SYS_THREAD_EXIT the caller: the fuzz
//   threads never make them.  Threads the fuzzer creates at random make
//   SYS_THREAD_EXIT (fuzz_raw_exit), and the last test makes SYS_EXIT in an
//   exc_child process.
// - send and call go only to a responder thread that receives from anyone
//   and replies, or to targets that refuse at once: no thread, a dead one,
//   kmain (tid 1, a kernel thread: -ESRCH), the caller itself (-EDEADLK).
// - recv takes from a feeder thread that sends to a fuzz thread once for
//   each recv it announced (s_fuzz[i].requests), or from the targets that
//   refuse at once.  A recv that fails before it waits leaves the feeder's
//   send queued; the thread's next recv takes it, or its exit ends it.
// - reply never waits: any target.
// - sleep is 0 to 2 ticks, or more than the kernel accepts (-EINVAL).
// - spawn starts fault_child (which ends by itself with a page fault) and
//   waits for it at once, or names no module; wait targets are never
//   another fuzz thread's child.
// - a pointer the kernel may write is never one into data the fuzzer uses:
//   it is a per-thread scratch area, a read-only table, an address that
//   fails, or the last bytes of the image or of the stack with a length
//   that runs past them, which the kernel must refuse whole.
//
// Some threads are killed on purpose: thread_create at an unmapped entry,
// or at fuzz_doomed_sysenter with a bad sysenter stack pointer, and every
// fault_child.  No fuzz thread may be.
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define STR_(x)         #x
#define STR(x)          STR_(x)

#define FUZZ_SEED_DEFAULT  0x7A4D3E11u
#define FUZZ_CALLS_DEFAULT 20000u
#define FUZZ_THREADS    4
#define FUZZ_STACK      8192
#define HELPER_STACK    4096
#define SCRATCH_SIZE    8192            // per thread; writable pointers land in its first half
#define SCRATCH_VALID   4096
#define LINE_MAX        128
#define UNEXPECTED_SHOWN 6              // per thread
#define CMDLINE_MAX     256
#define NAME_MAX        64
#define MODULES_MAX     32

#define USER_BASE       0x00400000u
#define STACK_TOP       0xBFFF0000u     // the main stack ends here (ABI)
#define STACK_BOTTOM    0xBFFE0000u     // its lowest mapped byte at start (64 KiB)
#define STACK_LIMIT     0xBFEF0000u     // it may grow down to here; system calls grow it too
#define UNMAPPED        0x10000000u
#define KERNEL_BASE     0xC0000000u
#define NO_SUCH_TID     0x7FFFFFF0u
#define KMAIN_TID       1
#define SLEEP_MAX       100000          // the kernel's longest sleep (kernel/syscall/sys_thread.c)
#define FAULT_CHILD_EXIT (128 + 14)
#define HANG_TICKS      1000            // no progress for this long is a hang
#define SETTLE_TICKS    300             // for the reaper to bring counters back

extern char _end[];                     // the first page past the image (user/user.ld)

// ---- Results by errno ------------------------------------------------------------

enum slot {
    S_OK, S_EPERM, S_ENOENT, S_ESRCH, S_EINTR, S_ENOEXEC, S_EAGAIN, S_ENOMEM, S_EFAULT,
    S_EINVAL, S_EDEADLK, S_ENAMETOOLONG, S_ENOSYS, S_EMSGSIZE, S_OTHER, SLOTS
};

static const struct { int err; const char *name; } s_slots[SLOTS] = {
    [S_OK] = { 0, "ok" }, [S_EPERM] = { EPERM, "EPERM" }, [S_ENOENT] = { ENOENT, "ENOENT" },
    [S_ESRCH] = { ESRCH, "ESRCH" }, [S_EINTR] = { EINTR, "EINTR" },
    [S_ENOEXEC] = { ENOEXEC, "ENOEXEC" }, [S_EAGAIN] = { EAGAIN, "EAGAIN" },
    [S_ENOMEM] = { ENOMEM, "ENOMEM" }, [S_EFAULT] = { EFAULT, "EFAULT" },
    [S_EINVAL] = { EINVAL, "EINVAL" }, [S_EDEADLK] = { EDEADLK, "EDEADLK" },
    [S_ENAMETOOLONG] = { ENAMETOOLONG, "ENAMETOOLONG" }, [S_ENOSYS] = { ENOSYS, "ENOSYS" },
    [S_EMSGSIZE] = { EMSGSIZE, "EMSGSIZE" }, [S_OTHER] = { 0, "other" },
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

#define B(s)            (1u << (s))
#define ANY_OK          (-1L)           // struct expect.value: any result >= 0

// What a call may return: one of the slots in mask; if S_OK is among them
// and value is not ANY_OK, exactly value.
struct expect {
    uint32_t mask;
    long value;
};

static struct expect
expect_ok(long value)
{
    return (struct expect){ B(S_OK), value };
}

static struct expect
expect_err(enum slot s)
{
    return (struct expect){ B(s), ANY_OK };
}

// ---- Per-thread state -----------------------------------------------------------

struct fuzzer {
    uint8_t scratch[SCRATCH_SIZE];      // what the kernel may write (pick_ptr)
    uint8_t stack[FUZZ_STACK];
    unsigned index;
    uint32_t rng;
    unsigned calls;                     // to make
    volatile int tid;
    volatile unsigned made;
    volatile bool done;
    volatile unsigned requests;         // recvs announced to the feeder
    unsigned sent;                      // the feeder's sends for them (feeder only)
    unsigned results[SLOTS];
    unsigned by_number[SYS_COUNT + 1];  // the last entry: numbers out of range
    unsigned unexpected;
    unsigned spawned, doomed, raw_threads;
    uint32_t dead_tid;                  // a thread known to be gone
    int stats_result;
    struct kfast_stats stats;           // at the end
    char line[LINE_MAX];
};

static struct fuzzer s_fuzz[FUZZ_THREADS] ALIGNED(4096);

static uint32_t s_seed = FUZZ_SEED_DEFAULT;
static unsigned s_calls = FUZZ_CALLS_DEFAULT;
static int s_main_tid;                  // also this process's pid
static int s_fault_child = -1;          // module indexes
static int s_exc_child = -1;
static unsigned s_module_count;
static int s_name_len[MODULES_MAX];     // each module name's length
static int s_cmdline_len;
static struct sysinfo s_baseline;

// A table the kernel may read but not write; each entry decodes as a
// struct ipc_buf whose pointers fail or are NULL.
static const struct ipc_buf s_ro_bufs[] = {
    { NULL, 0, 0 },
    { (void *)KERNEL_BASE, 16, 16 },
    { (void *)UNMAPPED, 0, 64 },
    { NULL, 0xFFFFFFFFu, 0 },
    { (void *)UNMAPPED, 4, 0 },
    { NULL, 0, 0xFFFFFFFFu },
};

// ---- Helper threads: the responder and the feeder ------------------------------

static uint8_t s_responder_stack[HELPER_STACK] ALIGNED(16);
static uint8_t s_feeder_stack[HELPER_STACK] ALIGNED(16);
static uint8_t s_responder_in[IPC_BUF_MAX], s_responder_out[IPC_BUF_MAX];
static uint8_t s_feeder_out[IPC_BUF_MAX];
static volatile int s_responder = -1, s_feeder = -1;
static volatile bool s_responder_stop, s_feeder_stop;
static volatile unsigned s_responder_served, s_feeder_sent, s_helper_errors;

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

// Receives from anyone and replies to calls with a random payload, falling
// back to none when the caller's buffer is too small for it.
static int
responder(void *arg)
{
    uint32_t rng = mix(s_seed ^ 0x5EED0001u);
    (void)arg;
    for (;;) {
        struct ipc_buf in = { s_responder_in, 0, sizeof s_responder_in };
        struct ipc_words msg;
        int from = sys_ipc_recv(IPC_ANY, &msg, &in);
        if (s_responder_stop)
            return 0;
        if (from < 0) {
            s_helper_errors++;
            continue;
        }
        s_responder_served++;
        struct ipc_buf out = { s_responder_out, xorshift(&rng) % 80, 0 };
        if (xorshift(&rng) % 8 == 0)
            out.len = IPC_BUF_MAX;
        int r = sys_ipc_reply(from, msg.w0 + 1, msg.w1, &out);
        // -EPERM: it used send, not call.  -EMSGSIZE: more than its cap.
        // Anything else would leave the caller waiting: answer it bare.
        if (r != 0 && r != -EPERM) {
            if (r != -EMSGSIZE)
                s_helper_errors++;
            if (sys_ipc_reply(from, msg.w0 + 1, msg.w1, NULL) != 0)
                s_helper_errors++;
        }
    }
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
            if (f->sent == f->requests || f->tid <= 0)
                continue;
            busy = true;
            struct ipc_buf out = { s_feeder_out, xorshift(&rng) % 32, 0 };
            int r = sys_ipc_send(f->tid, i, f->sent, &out);
            if (r == -EMSGSIZE)         // more than that recv's cap
                r = sys_ipc_send(f->tid, i, f->sent, NULL);
            if (r != 0 && r != -ESRCH)  // -ESRCH: the thread has ended
                s_helper_errors++;
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
    KERNEL_BASE, 0xC0100000u, 0xC0000000u + 0x1000, 0xFFFFFFFFu, 0xFFFFF000u, 0xFFFFFFFCu,
    0xE0000000u, 0xFFC00000u,
};

static const uint32_t s_user_holes[] = {
    1, 0x1000, USER_BASE - 1, USER_BASE - 4, UNMAPPED, UNMAPPED + 3,
    0xBFEEF000u,                        // below where the main stack may grow
    STACK_TOP, 0xBFFFFFF0u, 0xBFFFFFFFu,
};

enum ptr_kind {
    P_NULL,
    P_BAD,      // every access fails (unmapped or kernel, or starts there)
    P_EDGE,     // `room` bytes mapped, then nothing: larger accesses fail
    P_RO,       // readable up to _end, never writable
    P_RW,       // this thread's scratch: readable and writable up to _end
};

struct uptr {
    uint32_t addr;
    enum ptr_kind kind;
    uint32_t room;              // P_EDGE: the mapped bytes
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
    case 0:
        return (struct uptr){ 0, P_NULL, 0 };
    case 1:
        return (struct uptr){ s_kernel_addrs[rnd(f) % ARRAY_SIZE(s_kernel_addrs)], P_BAD, 0 };
    case 2:
        return (struct uptr){ s_user_holes[rnd(f) % ARRAY_SIZE(s_user_holes)], P_BAD, 0 };
    case 3:                             // anywhere in the big hole, any alignment
        return (struct uptr){ UNMAPPED + rnd(f) % 0x90000000u, P_BAD, 0 };
    case 4:                             // anywhere in the kernel
        return (struct uptr){ KERNEL_BASE | rnd(f), P_BAD, 0 };
    case 5:                             // from below the stack's growth window into it
        return (struct uptr){ STACK_LIMIT - 1 - rnd(f) % 11, P_BAD, 0 };
    case 6: {                           // the last bytes of the image or of the stack
        uint32_t k = 1 + rnd(f) % 11;
        return (struct uptr){ (one_in(f, 2) ? end : STACK_TOP) - k, P_EDGE, k };
    }
    case 7:
        if (use == USE_READ)            // code: any bytes at all
            return (struct uptr){ (uint32_t)(uintptr_t)fuzz_raw_exit + rnd(f) % 512, P_RO, 0 };
        return (struct uptr){ (uint32_t)(uintptr_t)&s_ro_bufs[rnd(f) % ARRAY_SIZE(s_ro_bufs)],
                              P_RO, 0 };
    default:                            // scratch, often misaligned
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
    case P_EDGE:
        return n <= p->room;
    case P_RO:
        return use == USE_READ && n <= (uint32_t)(uintptr_t)_end - p->addr;
    case P_RW:
        return n <= (uint32_t)(uintptr_t)_end - p->addr;
    default:
        return false;
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

// A struct ipc_buf for a call or a recv: at p, and if p is this thread's
// scratch, with fields filled in.
struct ipc_case {
    struct uptr buf;            // the struct ipc_buf
    struct uptr data;           // its fields, when it is scratch or s_ro_bufs
    uint32_t len, cap;
    bool known;                 // whether the kernel's verdict can be predicted
};

static struct ipc_case
pick_ipc_buf(struct fuzzer *f, enum ptr_use data_use)
{
    struct ipc_case c = { .buf = pick_ptr(f, data_use) };
    if (c.buf.kind == P_RW) {
        if (one_in(f, 2)) {
            // Fields that pass, so that messages do flow.
            c.data = (struct uptr){ (uint32_t)(uintptr_t)f->scratch + rnd(f) % SCRATCH_VALID,
                                    P_RW, 0 };
            c.len = rnd(f) % (IPC_BUF_MAX + 1);
            c.cap = rnd(f) % (IPC_BUF_MAX + 64);
        } else {
            c.data = pick_ptr(f, data_use);
            c.len = one_in(f, 2) ? pick_len(f) : pick_len(f) % (IPC_BUF_MAX + 2);
            c.cap = data_use == USE_WRITE ? pick_write_len(f, &c.data) : pick_len(f);
        }
        // 12 bytes, misaligned or not, in scratch.
        struct ipc_buf b = { (void *)(uintptr_t)c.data.addr, c.len, c.cap };
        memcpy((void *)(uintptr_t)c.buf.addr, &b, sizeof b);
    } else if (c.buf.kind == P_RO && data_use == USE_WRITE) {
        const struct ipc_buf *b = (const struct ipc_buf *)(uintptr_t)c.buf.addr;
        c.data = (struct uptr){ (uint32_t)(uintptr_t)b->data, b->data ? P_BAD : P_NULL, 0 };
        c.len = b->len;
        c.cap = b->cap;
    }
    // Unknown only when read from code; NULL, bad and edge pointers fail
    // before their fields matter.
    c.known = !(c.buf.kind == P_RO && data_use == USE_READ);
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
    uint32_t cap = c->cap < IPC_BUF_MAX ? c->cap : IPC_BUF_MAX;
    return ptr_ok(&c->data, cap, USE_WRITE) ? S_OK : S_EFAULT;
}

// The received length goes back into the struct ipc_buf, if there is one.
static enum slot
length_verdict(const struct ipc_case *c)
{
    if (c->buf.kind == P_NULL)
        return S_OK;
    return ptr_ok(&c->buf, sizeof(struct ipc_buf), USE_WRITE) ? S_OK : S_EFAULT;
}

enum target { T_NOBODY, T_DEAD, T_KMAIN, T_SELF, T_PEER };

// An IPC target: one that refuses at once, or the peer (a helper thread).
static uint32_t
pick_target(struct fuzzer *f, int peer, enum target *kind)
{
    switch (rnd(f) % 8) {
    case 0:
        *kind = T_NOBODY;
        switch (rnd(f) % 4) {
        case 0: return 0x40000000u + rnd(f) % 0x40000000u;
        case 1: return 0x80000000u | rnd(f);
        case 2: return 0xFFFFFFFFu;
        default: return NO_SUCH_TID;
        }
    case 1:
        *kind = T_DEAD;
        return f->dead_tid;
    case 2:
        *kind = T_KMAIN;
        return KMAIN_TID;
    case 3:
        *kind = T_SELF;
        return (uint32_t)f->tid;
    default:
        *kind = T_PEER;
        return (uint32_t)peer;
    }
}

// ---- One call ----------------------------------------------------------------

// Makes system call n through int 0x80 or sysenter, at random.
static long
enter(struct fuzzer *f, uint32_t n, const uint32_t a[5])
{
    if (one_in(f, 2) || !syscall_mode_available(SYSCALL_SYSENTER))
        return syscall_int80((long)n, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4]);
    return syscall_sysenter((long)n, (long)a[0], (long)a[1], (long)a[2], (long)a[3], (long)a[4]);
}

// Counts r and checks it against e; reports the first few surprises.
static void
record(struct fuzzer *f, uint32_t n, const uint32_t a[5], long r, struct expect e)
{
    enum slot s = slot_of(r);
    f->results[s]++;
    f->by_number[n < SYS_COUNT ? n : SYS_COUNT]++;
    f->made++;
    bool fine = (e.mask & B(s)) && (s != S_OK || e.value == ANY_OK || r == e.value);
    if (fine)
        return;
    if (f->unexpected++ < UNEXPECTED_SHOWN)
        printf("  # thread %u call %u: syscall %u (%#x, %#x, %#x, %#x, %#x) returned %ld;"
               " expected slots %#x, value %ld\n", f->index, f->made, n, a[0], a[1], a[2],
               a[3], a[4], r, e.mask, e.value);
}

// Tolerated wherever the kernel allocates: strict arenas may refuse.
#define MAY_NOMEM(e)    ((struct expect){ (e).mask | B(S_ENOMEM), (e).value })

static void
fuzz_unknown_number(struct fuzzer *f, uint32_t a[5])
{
    static const uint32_t numbers[] = { 0, SYS_COUNT, SYS_COUNT + 1, 0x80000000u, 0xFFFFFFFFu,
                                        0x7FFFFFFFu, 1000 };
    uint32_t n = one_in(f, 2) ? numbers[rnd(f) % ARRAY_SIZE(numbers)] : rnd(f);
    if (n > 0 && n < SYS_COUNT)
        n += SYS_COUNT;
    record(f, n, a, enter(f, n, a), expect_err(S_ENOSYS));
}

static void
fuzz_sleep(struct fuzzer *f, uint32_t a[5])
{
    a[0] = one_in(f, 4) ? SLEEP_MAX + 1 + rnd(f) % 0x7FFFFFFFu : rnd(f) % 3;
    long r = enter(f, SYS_SLEEP, a);
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
        record(f, SYS_DEBUG_WRITE, a, enter(f, SYS_DEBUG_WRITE, a), MAY_NOMEM(expect_ok(len)));
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
                      : len == 0           ? expect_ok(0)
                                           : expect_err(S_EFAULT);
    record(f, SYS_DEBUG_WRITE, a, enter(f, SYS_DEBUG_WRITE, a), e);
}

// sysinfo and kfast_stats: one struct written through a pointer.
static void
fuzz_struct_out(struct fuzzer *f, uint32_t n, uint32_t size, uint32_t a[5])
{
    struct uptr p = pick_ptr(f, USE_WRITE);
    a[0] = p.addr;
    long r = enter(f, n, a);
    record(f, n, a, r, ptr_ok(&p, size, USE_WRITE) ? expect_ok(0) : expect_err(S_EFAULT));
}

// module_name and cmdline: a string of len bytes and its NUL copied into
// (buf, cap).  The kernel wants [buf, buf + cap) inside user space and the
// pages of its first bytes (as many as the longest string) writable, so a
// cap larger than the mapping is fine on scratch, where those bytes are.
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
fuzz_module_name(struct fuzzer *f, uint32_t a[5])
{
    uint32_t index = one_in(f, 3) ? s_module_count + rnd(f) % 8 : rnd(f) % s_module_count;
    if (one_in(f, 8))
        index = rnd(f) | 0x80000000u;
    struct uptr p = pick_ptr(f, USE_WRITE);
    a[0] = index;
    a[1] = p.addr;
    a[2] = pick_write_len(f, &p);
    struct expect e = index >= s_module_count ? expect_err(S_ENOENT)
                                              : string_expect(&p, a[2], s_name_len[index]);
    record(f, SYS_MODULE_NAME, a, enter(f, SYS_MODULE_NAME, a), e);
}

static void
fuzz_cmdline(struct fuzzer *f, uint32_t a[5])
{
    struct uptr p = pick_ptr(f, USE_WRITE);
    a[0] = p.addr;
    a[1] = pick_write_len(f, &p);
    record(f, SYS_CMDLINE, a, enter(f, SYS_CMDLINE, a), string_expect(&p, a[1], s_cmdline_len));
}

static void
fuzz_thread_create(struct fuzzer *f, uint32_t a[5])
{
    static const uint32_t bad_entries[] = { 0, 0x1000, USER_BASE - 1, KERNEL_BASE,
                                            0xFFFFFFFFu, 0xC0100000u };
    static const uint32_t bad_stacks[] = { 0, 0x1000, USER_BASE, KERNEL_BASE + 1, 0xFFFFFFF0u };
    bool doomed = false, bad = false;
    a[0] = (uint32_t)(uintptr_t)fuzz_raw_exit;
    a[1] = USER_BASE + 1 + rnd(f) % (KERNEL_BASE - USER_BASE);  // any: it is not touched
    a[2] = rnd(f);                                              // the exit code
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
        if (one_in(f, 4)) {             // dies at its first instruction
            a[0] = UNMAPPED + 4 * (rnd(f) % 1024);
            doomed = true;
        } else if (one_in(f, 3) && syscall_mode_available(SYSCALL_SYSENTER)) {  // dies in sysenter
            static const uint32_t bad_ebp[] = { 0, 4, UNMAPPED, KERNEL_BASE, 0xFFFFFFF8u,
                                                KERNEL_BASE - 8, STACK_BOTTOM - 4 };
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_sysenter;
            a[2] = bad_ebp[rnd(f) % ARRAY_SIZE(bad_ebp)];
            doomed = true;
        }
        break;
    }
    long r = enter(f, SYS_THREAD_CREATE, a);
    struct expect e = bad ? expect_err(S_EFAULT)
                          : (struct expect){ B(S_OK) | B(S_EAGAIN) | B(S_ENOMEM), ANY_OK };
    record(f, SYS_THREAD_CREATE, a, r, e);
    if (r > 0) {
        f->raw_threads++;
        f->doomed += doomed;
    }
}

// A fault_child, waited for at once, or a module index that names nothing.
static void
fuzz_spawn(struct fuzzer *f, uint32_t a[5])
{
    if (!one_in(f, 4)) {
        a[0] = one_in(f, 2) ? s_module_count + rnd(f) % 64 : rnd(f) | 0x80000000u;
        record(f, SYS_SPAWN, a, enter(f, SYS_SPAWN, a), expect_err(S_ENOENT));
        return;
    }
    a[0] = (uint32_t)s_fault_child;
    long pid = enter(f, SYS_SPAWN, a);
    record(f, SYS_SPAWN, a, pid, (struct expect){ B(S_OK) | B(S_ENOMEM), ANY_OK });
    if (pid <= 0)
        return;
    f->spawned++;
    uint32_t w[5] = { (uint32_t)pid, rnd(f), rnd(f), rnd(f), rnd(f) };
    record(f, SYS_WAIT, w, enter(f, SYS_WAIT, w), expect_ok(FAULT_CHILD_EXIT));
    f->dead_tid = (uint32_t)pid;       // wait returns once its thread is freed
}

// Never a child of another fuzz thread: those have pids above this
// process's own.
static void
fuzz_wait(struct fuzzer *f, uint32_t a[5])
{
    switch (rnd(f) % 4) {
    case 0:
        a[0] = (uint32_t)s_main_tid;
        record(f, SYS_WAIT, a, enter(f, SYS_WAIT, a), expect_err(S_EDEADLK));
        return;
    case 1:
        a[0] = rnd(f) % (uint32_t)s_main_tid;
        break;
    case 2:
        a[0] = f->dead_tid;
        break;
    default:
        a[0] = 0x40000000u + rnd(f) % 0xC0000000u;
        break;
    }
    record(f, SYS_WAIT, a, enter(f, SYS_WAIT, a), expect_err(S_ESRCH));
}

// The verdict on a target that refuses at once, or S_OK for the peer.
static enum slot
target_verdict(enum target kind)
{
    return kind == T_PEER ? S_OK : kind == T_SELF ? S_EDEADLK : S_ESRCH;
}

static void
fuzz_send(struct fuzzer *f, bool call, uint32_t a[5])
{
    enum target kind;
    uint32_t n = call ? SYS_IPC_CALL : SYS_IPC_SEND;
    struct ipc_case c = pick_ipc_buf(f, call ? USE_WRITE : USE_READ);
    a[0] = pick_target(f, s_responder, &kind);
    a[1] = rnd(f);
    a[2] = rnd(f);
    a[3] = c.buf.addr;
    long r = enter(f, n, a);
    enum slot s = target_verdict(kind);
    if (s == S_OK && c.known) {
        s = payload_verdict(&c);
        if (s == S_OK && call)
            s = buffer_verdict(&c);
        if (s == S_OK && call)
            s = length_verdict(&c);
    } else if (s == S_OK) {             // a struct read from code: any of these
        record(f, n, a, r,
               (struct expect){ B(S_OK) | B(S_EFAULT) | B(S_EMSGSIZE) | B(S_ENOMEM), 0 });
        return;
    }
    record(f, n, a, r, MAY_NOMEM(s == S_OK ? expect_ok(0) : expect_err(s)));
}

static void
fuzz_recv(struct fuzzer *f, uint32_t a[5])
{
    enum target kind;
    struct ipc_case c = pick_ipc_buf(f, USE_WRITE);
    uint32_t from = pick_target(f, s_feeder, &kind);
    if (kind == T_PEER && one_in(f, 2))
        from = IPC_ANY;
    a[0] = from;
    a[1] = rnd(f);
    a[2] = rnd(f);
    a[3] = c.buf.addr;
    enum slot s = target_verdict(kind);
    if (s == S_OK) {
        // The feeder must send: announce this recv unless it fails first.
        s = buffer_verdict(&c);
        if (s == S_OK) {
            f->requests++;
            s = length_verdict(&c);
        }
    }
    long r = enter(f, SYS_IPC_RECV, a);
    record(f, SYS_IPC_RECV, a, r, s == S_OK ? expect_ok(s_feeder) : expect_err(s));
}

// reply never waits: any target; nobody calls a fuzz thread.
static void
fuzz_reply(struct fuzzer *f, uint32_t a[5])
{
    struct ipc_case c = pick_ipc_buf(f, USE_READ);
    uint32_t to;
    switch (rnd(f) % 4) {
    case 0: to = rnd(f); break;
    case 1: to = (uint32_t)s_responder; break;
    case 2: to = (uint32_t)f->tid; break;
    default: to = rnd(f) % ((uint32_t)f->tid + 16); break;
    }
    a[0] = to;
    a[1] = rnd(f);
    a[2] = rnd(f);
    a[3] = c.buf.addr;
    record(f, SYS_IPC_REPLY, a, enter(f, SYS_IPC_REPLY, a),
           (struct expect){ B(S_EPERM) | B(S_ESRCH), ANY_OK });
}

static void
fuzz_one(struct fuzzer *f)
{
    uint32_t a[5];
    for (unsigned i = 0; i < 5; i++)
        a[i] = rnd(f);
    if (one_in(f, 12)) {
        fuzz_unknown_number(f, a);
        return;
    }
    uint32_t n = 2 + rnd(f) % (SYS_COUNT - 2);     // SYS_EXIT is 1
    switch (n) {
    case SYS_THREAD_CREATE: fuzz_thread_create(f, a); break;
    case SYS_SLEEP:         fuzz_sleep(f, a); break;
    case SYS_GETTID:        record(f, n, a, enter(f, n, a), expect_ok(f->tid)); break;
    case SYS_DEBUG_WRITE:   fuzz_debug_write(f, a); break;
    case SYS_IPC_SEND:      fuzz_send(f, false, a); break;
    case SYS_IPC_CALL:      fuzz_send(f, true, a); break;
    case SYS_IPC_RECV:      fuzz_recv(f, a); break;
    case SYS_IPC_REPLY:     fuzz_reply(f, a); break;
    case SYS_KFAST_STATS:   fuzz_struct_out(f, n, sizeof(struct kfast_stats), a); break;
    case SYS_SYSINFO:       fuzz_struct_out(f, n, sizeof(struct sysinfo), a); break;
    case SYS_SPAWN:         fuzz_spawn(f, a); break;
    case SYS_WAIT:          fuzz_wait(f, a); break;
    case SYS_MODULE_NAME:   fuzz_module_name(f, a); break;
    case SYS_CMDLINE:       fuzz_cmdline(f, a); break;
    case SYS_YIELD:         record(f, n, a, enter(f, n, a), expect_ok(0)); break;
    case SYS_TIME:          record(f, n, a, enter(f, n, a), expect_ok(ANY_OK)); break;
    default:                // SYS_THREAD_EXIT: not from a fuzz thread
        fuzz_unknown_number(f, a);
        break;
    }
}

static int
fuzz_thread(void *arg)
{
    struct fuzzer *f = arg;
    f->tid = sys_gettid();
    while (f->made < f->calls)
        fuzz_one(f);
    f->stats_result = sys_kfast_stats(&f->stats);
    f->done = true;
    return 0;
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
    }
    return true;
}

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
           a->processes == b->processes;
}

// ---- The tests ---------------------------------------------------------------------

UTEST(options_and_baseline)
{
    static char cmdline[CMDLINE_MAX];
    s_main_tid = sys_gettid();
    UASSERT_TRUE(read_options(cmdline, sizeof cmdline));
    utest_note("fuzz_seed=%#x fuzz_calls=%u threads=%u (command line: %s)", s_seed, s_calls,
               FUZZ_THREADS, cmdline);
    s_fault_child = module_find("fault_child");
    s_exc_child = module_find("exc_child");
    UASSERT_GT(s_fault_child, 0);
    UASSERT_GT(s_exc_child, 0);
    struct sysinfo info;
    UASSERT_EQ(sys_sysinfo(&info), 0);
    s_module_count = info.module_count;
    UASSERT_TRUE(s_module_count <= MODULES_MAX);
    for (unsigned i = 0; i < s_module_count; i++) {
        char name[NAME_MAX];
        s_name_len[i] = sys_module_name(i, name, sizeof name);
        UASSERT_GE(s_name_len[i], 0);
    }
    UASSERT_EQ(sys_sysinfo(&s_baseline), 0);
}

UTEST(fuzz)
{
    s_responder = thread_spawn(responder, NULL, s_responder_stack, sizeof s_responder_stack);
    s_feeder = thread_spawn(feeder, NULL, s_feeder_stack, sizeof s_feeder_stack);
    UASSERT_GT(s_responder, 0);
    UASSERT_GT(s_feeder, 0);
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        struct fuzzer *f = &s_fuzz[i];
        f->index = i;
        f->rng = mix(s_seed + i);
        f->calls = s_calls / FUZZ_THREADS + (i < s_calls % FUZZ_THREADS);
        f->dead_tid = NO_SUCH_TID;
        int tid = thread_spawn(fuzz_thread, f, f->stack, sizeof f->stack);
        UASSERT_GT(tid, 0);
    }
    // Waits while any thread makes progress; a hang ends the process, so
    // that the missing results say so instead of a silent wait.
    unsigned last = 0, since = sys_time();
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
                    utest_note("thread %u (tid %d) stuck after %u calls", i, s_fuzz[i].tid,
                               s_fuzz[i].made);
            // The results this plan promised and never prints fail the run.
            UFAIL("no progress for %u ticks: seed %#x", HANG_TICKS, s_seed);
            sys_exit(1);
        }
        sys_sleep(5);
    }
    for (unsigned i = 0; i < FUZZ_THREADS; i++)
        UEXPECT_TRUE(wait_gone(s_fuzz[i].tid, SETTLE_TICKS));
}

UTEST(results_as_expected)
{
    unsigned totals[SLOTS] = { 0 }, calls = 0, unexpected = 0;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        for (unsigned s = 0; s < SLOTS; s++)
            totals[s] += s_fuzz[i].results[s];
        calls += s_fuzz[i].made;
        unexpected += s_fuzz[i].unexpected;
    }
    char line[256];
    int n = ksnprintf(line, sizeof line, "calls %u", calls);
    for (unsigned s = 0; s < SLOTS; s++)
        if (totals[s] && n < (int)sizeof line)
            n += ksnprintf(line + n, sizeof line - (size_t)n, ", %s %u", s_slots[s].name,
                           totals[s]);
    printf("  # %s\n", line);          // longer than a utest_note may be
    n = ksnprintf(line, sizeof line, "by number:");
    for (unsigned k = 0; k <= SYS_COUNT; k++) {
        unsigned c = 0;
        for (unsigned i = 0; i < FUZZ_THREADS; i++)
            c += s_fuzz[i].by_number[k];
        if (c && n < (int)sizeof line)
            n += k < SYS_COUNT ? ksnprintf(line + n, sizeof line - (size_t)n, " %u:%u", k, c)
                               : ksnprintf(line + n, sizeof line - (size_t)n, " other:%u", c);
    }
    printf("  # %s\n", line);
    utest_note("helpers: responder served %u, feeder sent %u, errors %u", s_responder_served,
               s_feeder_sent, s_helper_errors);
    UEXPECT_UGE(calls, s_calls);        // a spawn and its wait may end a thread's share
    UEXPECT_UEQ(unexpected, 0);
    UEXPECT_UEQ(totals[S_OTHER], 0);
    UEXPECT_UEQ(s_helper_errors, 0);
    if (unexpected)
        utest_note("replay with fuzz_seed=%#x fuzz_calls=%u", s_seed, s_calls);
}

UTEST(only_doomed_threads_killed)
{
    unsigned doomed = 0, spawned = 0, raw = 0;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        if (!UEXPECT_TRUE(s_fuzz[i].done))
            utest_note("fuzz thread %u was killed", i);
        doomed += s_fuzz[i].doomed;
        spawned += s_fuzz[i].spawned;
        raw += s_fuzz[i].raw_threads;
    }
    utest_note("threads killed: %u on purpose (%u doomed threads, %u fault_child), "
               "0 fuzz threads; %u threads created at random", doomed + spawned, doomed,
               spawned, raw);
    UEXPECT_UEQ(s_doomed_survivors, 0);
}

UTEST(arenas_empty)
{
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        struct fuzzer *f = &s_fuzz[i];
        UEXPECT_EQ(f->stats_result, 0);
        bool empty = UEXPECT_UEQ(f->stats.in_use, 0);
        bool intact = UEXPECT_UEQ(f->stats.collisions, 0);
        if (!empty || !intact)
            utest_note("fuzz thread %u", i);
    }
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
    UEXPECT_EQ(sys_ipc_call(s_responder, 41, 7, NULL, &reply), 0);
    UEXPECT_UEQ(reply.w0, 42);
    UEXPECT_UEQ(reply.w1, 7);
    int pid = sys_spawn((unsigned)s_fault_child);
    UASSERT_GT(pid, 0);
    UEXPECT_EQ(sys_wait(pid), FAULT_CHILD_EXIT);
}

UTEST(helpers_stop)
{
    s_feeder_stop = true;
    UEXPECT_TRUE(wait_gone(s_feeder, SETTLE_TICKS));
    s_responder_stop = true;
    UEXPECT_EQ(sys_ipc_send(s_responder, 0, 0, NULL), 0);
    UEXPECT_TRUE(wait_gone(s_responder, SETTLE_TICKS));
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
}

// SYS_EXIT, kept out of the random calls: in an exc_child, with a code
// from the seed, while its other thread runs.
UTEST(exit_in_a_child)
{
    unsigned code = mix(s_seed) % 256;
    int pid = sys_spawn((unsigned)s_exc_child);
    UASSERT_GT(pid, 0);
    char name[] = "exit";
    struct ipc_buf buf = { name, 4, 0 };
    UEXPECT_EQ(sys_ipc_call(pid, code, 0, &buf, NULL), 0);
    UEXPECT_EQ(sys_wait(pid), (int)code);
}

int
main(void)
{
    return utest_run("test_fuzz");
}
