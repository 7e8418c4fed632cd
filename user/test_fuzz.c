// A system call fuzzer.  FUZZ_THREADS threads in each of two processes
// (this one and fuzz_peer, user/fuzz_peer.c, which it spawns) issue random
// system calls with random arguments - every number in range and beyond,
// kernel addresses, unmapped, straddling and misaligned pointers, huge and
// negative lengths, random IPC targets - through int 0x80 and sysenter at
// random, each from a generator seeded from one printed seed, so that a
// failure can be replayed (each thread's calls follow from the seed; how
// the threads interleave does not).
// Each call's entry state is random too (see "Entry state" below): EFLAGS
// (DF, AC, NT, RF, ID, IOPL and IF attempts), ds, es, fs and gs, and the
// stack frame placed at page and region edges; what comes back is checked
// against the ABI: registers, segments, EFLAGS.
// Every result is checked against what the arguments call for, and counted
// by errno.  Afterwards the kernel must be alive, the frame, heap, thread
// and process counters back at their baseline, and every arena empty.  The
// run's rate is printed as "# N calls in T ticks: R calls/s".
//
// Options, words of the kernel command line (sys_cmdline):
//   fuzz_seed=N    the seed (decimal or 0x hex; default FUZZ_SEED_DEFAULT)
//   fuzz_calls=N   calls in all, shared by the threads of both processes
//                  (default 20000)
//   fuzz_eflags=M  only the EFLAGS bits in M are tried on entry (default
//                  all; IF: clearing it, TF: threads that die of it)
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

#define STR_(x)         #x
#define STR(x)          STR_(x)

#define FUZZ_SEED_DEFAULT  0x7A4D3E11u
#define FUZZ_CALLS_DEFAULT 20000u
#define FUZZ_THREADS    4               // in each process
#define PROCESSES       2               // test_fuzz and fuzz_peer
#define PEER_NAME       "fuzz_peer"
#define FUZZ_THREAD_EXIT 77             // a fuzz thread's exit code (see peer_main)
#ifndef FUZZ_PEER
#define FUZZ_PEER       0               // user/fuzz_peer.c: 1
#endif
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
    unsigned index;                     // in this process
    unsigned global;                    // across both processes: seeds the generator
    uint32_t rng;
    uint32_t region;                    // STATE_REGION bytes of the main stack for entry frames
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
    unsigned state_calls[2];            // calls made through fuzz_state_call: int 0x80, sysenter
    unsigned state_bad;                 // of those, how many came back with a wrong state
    uint32_t dead_tid;                  // a thread known to be gone
    int stats_result;
    struct kfast_stats stats;           // at the end
    char line[LINE_MAX];
};

static struct fuzzer s_fuzz[FUZZ_THREADS] ALIGNED(4096);

static uint32_t s_seed = FUZZ_SEED_DEFAULT;
static unsigned s_calls = FUZZ_CALLS_DEFAULT;
static uint32_t s_eflags_mask = ~0u;    // fuzz_eflags=: the EFLAGS bits entries may set
static int s_main_tid;                  // also this process's pid
static int s_fault_child = -1;          // module indexes
static int s_exc_child = -1;
static unsigned s_module_count;
static int s_name_len[MODULES_MAX];     // each module name's length
static int s_cmdline_len;

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

// Counts a helper's surprise and reports the first few.
static void
helper_error(const char *what, int r)
{
    if (s_helper_errors++ < UNEXPECTED_SHOWN)
        printf("  # %s%s returned %d\n", FUZZ_PEER ? "peer " : "", what, r);
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
            helper_error("responder: recv", from);
            continue;
        }
        s_responder_served++;
        struct ipc_buf out = { s_responder_out, xorshift(&rng) % 80, 0 };
        if (xorshift(&rng) % 8 == 0)
            out.len = IPC_BUF_MAX;
        int r = sys_ipc_reply(from, msg.w0 + 1, msg.w1, &out);
        // -EPERM: it used send, not call.  -ESRCH: it used send and has
        // ended since (a thread that waits for a reply cannot end).
        // -EMSGSIZE: more than its cap.  Anything else would leave the
        // caller waiting: answer it bare.
        if (r != 0 && r != -EPERM && r != -ESRCH) {
            if (r != -EMSGSIZE)
                helper_error("responder: reply", r);
            if ((r = sys_ipc_reply(from, msg.w0 + 1, msg.w1, NULL)) != 0)
                helper_error("responder: bare reply", r);
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
                helper_error("feeder: send", r);
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

#define EF_CF           0x00000001u
#define EF_PF           0x00000004u
#define EF_AF           0x00000010u
#define EF_ZF           0x00000040u
#define EF_SF           0x00000080u
#define EF_TF           0x00000100u
#define EF_IF           0x00000200u
#define EF_DF           0x00000400u
#define EF_OF           0x00000800u
#define EF_IOPL         0x00003000u
#define EF_NT           0x00004000u
#define EF_RF           0x00010000u
#define EF_VM           0x00020000u
#define EF_AC           0x00040000u
#define EF_VIF          0x00080000u
#define EF_VIP          0x00100000u
#define EF_ID           0x00200000u
#define EF_ARITH        (EF_CF | EF_PF | EF_AF | EF_ZF | EF_SF | EF_OF)
#define EF_RESERVED1    0x00000002u     // always 1
// The bits ring 3 owns (include/x86.h, EFLAGS_USER); TF never comes back
// from a call that survives.
#define EF_USER         (EF_ARITH | EF_DF | EF_NT | EF_RF | EF_AC | EF_ID)

#define USER_CS_SEL     0x1B            // include/gdt.h
#define USER_DS_SEL     0x23
#define STATE_FRAME     68
#define STATE_REGION    8192            // per thread, in the main stack

// What the stub pushes on the way back, lowest address first.
struct state_out {
    uint32_t gs, fs, es, ds;            // 32-bit pushes: only the low 16 bits count
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;   // pushad (esp: T - 12)
    uint32_t eflags;
};

// One call; the offsets are the stub's.
struct state_call {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp;         // 0: ebp only for int 0x80
    uint32_t eflags;                                    // 28: popf'd before the entry
    uint32_t ds, es, fs, gs;                            // 32
    uint32_t top;                                       // 48: T
    uint32_t sysenter;                                  // 52: 0: int 0x80
    uint32_t c_esp;                                     // 56: the stub's own
    uint32_t accepted;                                  // 60: EFLAGS after the popf
    struct state_out out;                               // 64
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
    KERNEL_BASE, 0xC0100000u, 0xC0000000u + 0x1000, 0xFFFFFFFFu, 0xFFFFF000u, 0xFFFFFFFCu,
    0xE0000000u, 0xFFC00000u,
};

static const uint32_t s_user_holes[] = {
    1, 0x1000, USER_BASE - 1, USER_BASE - 4, UNMAPPED, UNMAPPED + 3,
    USER_STACK_TOP - USER_STACK_MAX - 0x1000,   // below where the main stack may grow
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
    case 5:                             // from the unmapped page below the stack into it
        return (struct uptr){ USER_STACK_TOP - USER_STACK_MAX - 1 - rnd(f) % 11, P_BAD, 0 };
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
        fl |= (1 + rnd(f) % 3) << 12;   // IOPL 1 to 3
    if (one_in(f, 8))
        fl |= EF_IF;                    // cleared below
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
// - every register but eax preserved, except ebx and esi from ipc_recv and
//   ipc_call, and ecx and edx after sysenter (sysexit's eip and esp);
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
    bool ipc_out = n == SYS_IPC_RECV || n == SYS_IPC_CALL;
    int len = 0;
    what[0] = '\0';
#define WRONG(name) (len += ksnprintf(what + len, cap - (size_t)len, " %s", name), \
                     len = len < (int)cap ? len : (int)cap - 1)
    if (!ipc_out && o->ebx != c->ebx)
        WRONG("ebx");
    if (!ipc_out && o->esi != c->esi)
        WRONG("esi");
    if (o->edi != c->edi)
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
        WRONG("popf");          // ring 3 changed what it may not
    if (!(o->eflags & EF_IF))
        WRONG("IF");
    if (o->eflags & EF_IOPL)
        WRONG("IOPL");
    if (o->eflags != ((c->accepted & EF_USER) | EF_IF | EF_RESERVED1))
        WRONG("eflags");
#undef WRONG
    return len > 0;
}

// Makes system call n through int 0x80 or sysenter, at random, with the
// entry state at random (fuzz_state_call), or, one call in 8, through the
// runtime's own stubs.  A state that comes back wrong is counted and the
// first few reported; the result goes to record() as always.
static long
enter(struct fuzzer *f, uint32_t n, const uint32_t a[5])
{
    // Without sysenter (a CPU without SEP) every call takes int 0x80; the
    // random choices stay the same.
    bool sysenter = one_in(f, 2) && syscall_mode_available(SYSCALL_SYSENTER);
    if (one_in(f, 8)) {
        if (!sysenter)
            return syscall_int80((long)n, (long)a[0], (long)a[1], (long)a[2], (long)a[3],
                                 (long)a[4]);
        return syscall_sysenter((long)n, (long)a[0], (long)a[1], (long)a[2], (long)a[3],
                                (long)a[4]);
    }
    struct state_call c = {
        .eax = n, .ebx = a[0], .ecx = a[1], .edx = a[2], .esi = a[3], .edi = a[4],
        .ebp = rnd(f), .sysenter = sysenter, .eflags = pick_eflags(f),
    };
    uint32_t *segs[4] = { &c.ds, &c.es, &c.fs, &c.gs };
    for (unsigned i = 0; i < 4; i++)
        *segs[i] = one_in(f, 2) ? USER_DS_SEL
                                : s_user_selectors[rnd(f) % ARRAY_SIZE(s_user_selectors)];
    c.top = pick_top(f, c.eflags & EF_AC);
    long r = fuzz_state_call(&c);
    f->state_calls[sysenter]++;
    char what[64];
    if (state_wrong(&c, n, what, sizeof what) && f->state_bad++ < UNEXPECTED_SHOWN) {
        const struct state_out *o = &c.out;
        printf("  # thread %u call %u: syscall %u by %s, T %#x: wrong on return:%s\n",
               f->index, f->made + 1, n, sysenter ? "sysenter" : "int 0x80", c.top, what);
        printf("  #   eflags %#x accepted %#x back %#x; ds %#x es %#x fs %#x gs %#x back %#x"
               " %#x %#x %#x\n", c.eflags, c.accepted, o->eflags, c.ds, c.es, c.fs, c.gs,
               o->ds & 0xFFFF, o->es & 0xFFFF, o->fs & 0xFFFF, o->gs & 0xFFFF);
        printf("  #   in  ebx %#x ecx %#x edx %#x esi %#x edi %#x ebp %#x\n", c.ebx, c.ecx,
               c.edx, c.esi, c.edi, sysenter ? c.top - 12 : c.ebp);
        printf("  #   out ebx %#x ecx %#x edx %#x esi %#x edi %#x ebp %#x esp %#x eax %#x\n",
               o->ebx, o->ecx, o->edx, o->esi, o->edi, o->ebp, o->esp, o->eax);
    }
    return r;
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
        } else if (one_in(f, 3) && syscall_mode_available(SYSCALL_SYSENTER)) {   // dies in sysenter
            static const uint32_t bad_ebp[] = { 0, 4, UNMAPPED, KERNEL_BASE, 0xFFFFFFF8u,
                                                KERNEL_BASE - 8, STACK_BOTTOM - 4 };
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_sysenter;
            a[2] = bad_ebp[rnd(f) % ARRAY_SIZE(bad_ebp)];
            doomed = true;
        } else if (one_in(f, 2) && (s_eflags_mask & EF_TF)) {   // dies of TF, in int 0x80 or sysenter
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_tf;
            a[1] = (uint32_t)(uintptr_t)(s_doomed_stack + sizeof s_doomed_stack);
            a[2] = rnd(f) % 2 && syscall_mode_available(SYSCALL_SYSENTER);
            doomed = true;
        } else {                        // dies loading a selector ring 3 may not
            static const uint32_t bad_selectors[] = {
                0x08, 0x0B, 0x10, 0x13,         // the kernel's code and data
                0x28, 0x2B, 0x30,               // the TSS, the double-fault TSS
                0x38, 0x3B, 0xFFF8, 0xFFFF,     // past the GDT
                0x04, 0x1F, 0x27,               // the LDT (there is none)
            };
            a[0] = (uint32_t)(uintptr_t)fuzz_doomed_segment;
            a[2] = bad_selectors[rnd(f) % ARRAY_SIZE(bad_selectors)];
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

// Reads the options and what the checks need to know of the modules.
static bool
setup(char *cmdline, size_t cap)
{
    s_main_tid = sys_gettid();
    if (!read_options(cmdline, cap))
        return false;
    s_fault_child = module_find("fault_child");
    s_exc_child = module_find("exc_child");
    struct sysinfo info;
    if (s_fault_child <= 0 || s_exc_child <= 0 || sys_sysinfo(&info) != 0 ||
        info.module_count > MODULES_MAX)
        return false;
    s_module_count = info.module_count;
    for (unsigned i = 0; i < s_module_count; i++) {
        char name[NAME_MAX];
        if ((s_name_len[i] = sys_module_name(i, name, sizeof name)) < 0)
            return false;
    }
    return true;
}

// Starts the helpers and this process's fuzz threads and waits while any
// of them makes progress.  Thread i of process p (0: test_fuzz, 1: the
// peer) is thread p * FUZZ_THREADS + i of the run: its seed and its share
// of the calls follow from that number alone.  Returns false, having
// reported which threads are stuck, after HANG_TICKS without progress.
static bool
run_fuzz_threads(void)
{
    unsigned p = FUZZ_PEER, all = PROCESSES * FUZZ_THREADS;
    s_responder = thread_spawn(responder, NULL, s_responder_stack, sizeof s_responder_stack);
    s_feeder = thread_spawn(feeder, NULL, s_feeder_stack, sizeof s_feeder_stack);
    if (s_responder <= 0 || s_feeder <= 0)
        return false;
    for (unsigned i = 0; i < FUZZ_THREADS; i++) {
        struct fuzzer *f = &s_fuzz[i];
        f->index = i;
        f->global = p * FUZZ_THREADS + i;
        f->rng = mix(s_seed + f->global);
        f->calls = s_calls / all + (f->global < s_calls % all);
        f->dead_tid = NO_SUCH_TID;
        // The peer's thread 0 has the top of the main stack, which only its
        // main thread could have used: that one runs on s_peer_stack.
        f->region = p == 1 && i == 0 ? STACK_TOP - STATE_REGION
                                     : STACK_BOTTOM + i * STATE_REGION;
        if (thread_spawn(fuzz_thread, f, f->stack, sizeof f->stack) <= 0)
            return false;
    }
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
                    utest_note("%sthread %u (tid %d) stuck after %u calls",
                               p ? "peer " : "", i, s_fuzz[i].tid, s_fuzz[i].made);
            return false;
        }
        sys_sleep(5);
    }
    bool gone = true;
    for (unsigned i = 0; i < FUZZ_THREADS; i++)
        gone &= wait_gone(s_fuzz[i].tid, SETTLE_TICKS);
    return gone;
}

// Ends the helpers; whether both are gone.
static bool
stop_helpers(void)
{
    s_feeder_stop = true;
    bool gone = wait_gone(s_feeder, SETTLE_TICKS);
    s_responder_stop = true;
    gone &= sys_ipc_send(s_responder, 0, 0, NULL) == 0;
    return gone & wait_gone(s_responder, SETTLE_TICKS);
}

// Everything this process's threads counted, summed.
struct totals {
    unsigned slots[SLOTS], calls, calls_due, unexpected, state_calls[2], state_bad;
    unsigned doomed, spawned, raw, done;
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
    }
    return t;
}

// Prints the calls by result and by number as two diagnostic lines.
static void
print_totals(const char *who, const struct totals *t)
{
    char line[256];
    int n = ksnprintf(line, sizeof line, "%scalls %u", who, t->calls);
    for (unsigned s = 0; s < SLOTS; s++)
        if (t->slots[s] && n < (int)sizeof line)
            n += ksnprintf(line + n, sizeof line - (size_t)n, ", %s %u", s_slots[s].name,
                           t->slots[s]);
    printf("  # %s\n", line);          // longer than a utest_note may be
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
               "%u came back wrong", who, t->state_calls[0], t->state_calls[1], t->state_bad);
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
// test_fuzz spawns it and waits for it; it reads the same options and runs
// threads FUZZ_THREADS to 2 * FUZZ_THREADS - 1 of the run, and exits with 0
// if it made all its calls and every check held, 1 otherwise.  Its fuzz
// threads return FUZZ_THREAD_EXIT, so that the process cannot end with 0
// unless this thread says so.

static uint8_t s_peer_stack[16384] ALIGNED(16);

NORETURN static void
peer_main(void)
{
    static char cmdline[CMDLINE_MAX];
    bool ok = setup(cmdline, sizeof cmdline);
    if (!ok)
        utest_note("peer: setup failed");
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
               "%u doomed survivors, %u TF survivors: %s", t.done, t.calls, t.calls_due,
               t.unexpected, s_helper_errors, s_doomed_survivors, s_tf_survivors,
               ok ? "ok" : "FAILED");
    sys_exit(ok ? 0 : 1);
}

// Leaves the main stack to thread 0's frames (see run_fuzz_threads).
int
main(void)
{
    __asm__ volatile("mov %0, %%esp\n"
                     "call *%1\n"
                     :: "r"(s_peer_stack + sizeof s_peer_stack), "r"(peer_main) : "memory");
    __builtin_unreachable();
}

#else
// ---- The tests ---------------------------------------------------------------------

static int s_peer = -1;                 // fuzz_peer's module index, then its pid
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
           a->processes == b->processes;
}


UTEST(options_and_baseline)
{
    static char cmdline[CMDLINE_MAX];
    UASSERT_TRUE(setup(cmdline, sizeof cmdline));
    utest_note("fuzz_seed=%#x fuzz_calls=%u fuzz_eflags=%#x threads=%u in %u processes "
               "(command line: %s)", s_seed, s_calls, s_eflags_mask, FUZZ_THREADS, PROCESSES,
               cmdline);
    s_peer = module_find(PEER_NAME);
    UASSERT_GT(s_peer, 0);
    // Settled: the previous test program's threads may still be reaped.
    UASSERT_TRUE(sysinfo_settled(&s_baseline, 300));
}

// Both processes at once; fails if either stops making progress.
UTEST(fuzz)
{
    unsigned t0 = sys_time();
    s_peer = sys_spawn((unsigned)s_peer);
    UASSERT_GT(s_peer, 0);
    if (!run_fuzz_threads()) {
        // The results this plan promised and never prints fail the run.
        UFAIL("no progress for %u ticks: seed %#x", HANG_TICKS, s_seed);
        sys_exit(1);
    }
    UEXPECT_EQ(sys_wait(s_peer), 0);
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
    utest_note("helpers: responder served %u, feeder sent %u, errors %u", s_responder_served,
               s_feeder_sent, s_helper_errors);
    UEXPECT_UGE(t.calls, t.calls_due);  // a spawn and its wait may end a thread's share
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
               "0 fuzz threads; %u threads created at random; %u survived TF", t.doomed + t.spawned,
               t.doomed, t.spawned, t.raw, s_tf_survivors);
    UEXPECT_UEQ(s_doomed_survivors, 0);
    UEXPECT_UEQ(s_tf_survivors, 0);     // ABI: TF single-steps into the next instruction
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
    UEXPECT_EQ(sys_ipc_call(s_responder, 41, 7, NULL, &reply), 0);
    UEXPECT_UEQ(reply.w0, 42);
    UEXPECT_UEQ(reply.w1, 7);
    int pid = sys_spawn((unsigned)s_fault_child);
    UASSERT_GT(pid, 0);
    UEXPECT_EQ(sys_wait(pid), FAULT_CHILD_EXIT);
}

UTEST(helpers_stop)
{
    UEXPECT_TRUE(stop_helpers());
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
#endif

