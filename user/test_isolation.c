// Isolation holes an attacker found, each closed by the kernel: a killed
// waiter, null data selectors on entry, half-delivered IPC, system calls on the growing stack, a heap
// that kept its frames, and no limit on processes or threads; and the
// capability rule itself: two processes that share no capability cannot
// reach each other through any handle number.  Helpers: user/iso_child.c,
// user/iso_attacker.c (protocol: user/iso_child.h).
#include "iso_child.h"
#include "leak_check.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define SETTLE_TICKS 300            // 3 s: far longer than any clean-up takes
#define ATTACK_TICKS (60 * TICK_HZ) // the attacker's every guess, on a slow emulator

static int s_child = -1;    // iso_child's module handle
static int s_attacker = -1; // iso_attacker's

// Expects every counter a leak would move back at *base.
#define EXPECT_BASELINE(base) EXPECT_COUNTS_BACK(base, SETTLE_TICKS)

UTEST(start)
{
    s_child = module_find("iso_child");
    s_attacker = module_find("iso_attacker");
    UASSERT_GT(s_child, 0);
    UASSERT_GT(s_attacker, 0);
}

// SYS_SYSINFO entered with selector sel in ds and es and null in fs and gs,
// through the instructions `entry`; ds, es, fs and gs are read back into
// ds, es, fs and gs.  Nothing between the loads and the pops may touch
// memory through ds or es: only the stack (ss) is used.
#define SYSINFO_WITH_SELECTORS(entry)                                                         \
    __asm__ volatile("push %%ds; push %%es; push %%fs; push %%gs\n\t"                         \
                     "mov %w[sel], %%ds; mov %w[sel], %%es\n\t"                               \
                     "mov %w[null], %%fs; mov %w[null], %%gs\n\t" entry                       \
                     "mov %%ds, %[ds]; mov %%es, %[es]; mov %%fs, %[fs]; mov %%gs, %[gs]\n\t" \
                     "pop %%gs; pop %%fs; pop %%es; pop %%ds"                                 \
                     : "=a"(r), [ds] "=r"(ds), [es] "=r"(es), [fs] "=r"(fs), [gs] "=r"(gs)    \
                     : "a"(SYS_SYSINFO), "b"(si), [sel] "r"((uint32_t)sel), [null] "r"(0u)    \
                     : "memory", "cc")

// That call through the gate syscall_mode_get() names; *after: the four
// selectors as it left them.
static int
sysinfo_with_selectors(uint16_t sel, struct sysinfo *si, uint32_t after[4])
{
    int r;
    uint32_t ds, es, fs, gs;
    if (syscall_mode_get() == SYSCALL_INT80)
        SYSINFO_WITH_SELECTORS("int $0x80\n\t");
    else // the sysenter stub's frame (include/uapi/syscall.h), on the stack
        SYSINFO_WITH_SELECTORS("push %%ebp; push %%edx; push %%ecx; push $1f\n\t"
                               "mov %%esp, %%ebp\n\t"
                               "sysenter\n"
                               "1:\tpop %%ecx; pop %%edx; pop %%ebp\n\t");
    after[0] = ds & 0xFFFF;
    after[1] = es & 0xFFFF;
    after[2] = fs & 0xFFFF;
    after[3] = gs & 0xFFFF;
    return r;
}

// Ring 3 may leave the null selector in any data segment register.  The
// entry reloads ds and es only when they are not the flat user selector
// (kernel/entry/trap_frame.inc): left null, the kernel's first access
// through ds would fault, and copy_to_user's rep movs through es would
// fail.  Whatever the program left must come back as it was.  (QEMU's
// TCG does not fault on a null ds or es; Bochs does, and make test runs
// this under Bochs too.)
UTEST(syscall_with_null_data_selectors)
{
    FOR_EACH_SYSCALL_MODE() {
        uint32_t user_ds;
        __asm__ volatile("mov %%ds, %0" : "=r"(user_ds));
        user_ds &= 0xFFFF;
        const uint16_t sels[2] = { 0, (uint16_t)user_ds };
        for (unsigned i = 0; i < 2; i++) {
            struct sysinfo si;
            uint32_t after[4];
            memset(&si, 0, sizeof si);
            UEXPECT_EQ(sysinfo_with_selectors(sels[i], &si, after), 0);
            UEXPECT_UEQ(si.test_mode, 1); // the kernel wrote it through es
            UEXPECT_UEQ(after[0], sels[i]);
            UEXPECT_UEQ(after[1], sels[i]);
            UEXPECT_UEQ(after[2], 0);
            UEXPECT_UEQ(after[3], 0);
        }
    }
}

// A thread in SYS_WAIT on a child that will not end while a sibling calls
// SYS_EXIT: the kill must reach the waiter, so the process ends at once,
// and the child, which then ends too (the reply handle that held it is
// gone), is freed although nobody waits for it.
UTEST(exit_ends_a_thread_in_wait)
{
    struct sysinfo base;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    struct iso_link l;
    UASSERT_EQ(iso_start(&l, s_child, s_child, ISO_WAIT_KILL, NULL, 0), 0);
    // A time limit: waiting for ever could hang the whole run if it never ends.
    UEXPECT_EQ(iso_finish(&l, SETTLE_TICKS), ISO_EXIT_CODE);
    EXPECT_BASELINE(&base);
}

// ---- IPC receive is all or nothing ------------------------------------------

#define THREAD_STACK 4096
#define PEER_BADGE   0x1234u

static uint8_t s_peer_stack[THREAD_STACK] ALIGNED(16);
static int s_ep;        // this process's endpoint (CAP_SEND | CAP_RECV)
static int s_peer_send; // a badged send-only duplicate for the peer thread
static volatile int s_peer_result;
static volatile bool s_peer_done;

// Writable bytes a read-only struct ipc_buf points at.
static char s_landing[64];
// In .rodata: the kernel cannot write the received length into it.
static const struct ipc_buf s_read_only_buf = { s_landing, 0, sizeof s_landing, 0 };

static int
send_hello(void *arg)
{
    (void)arg;
    struct ipc_buf b = { "hello", 5, 0, 0 };
    s_peer_result = sys_ipc_send(s_peer_send, 11, 22, &b);
    s_peer_done = true;
    return 0;
}

// Receives one call on s_ep and answers it with *arg (NULL: no payload).
static int
reply_once(void *arg)
{
    struct ipc_words msg = { 0, 0, 0 };
    int r = sys_ipc_recv(s_ep, &msg, NULL);
    s_peer_result = r < 0 ? r : sys_ipc_reply(msg.reply, 33, 44, arg);
    s_peer_done = true;
    return 0;
}

static struct ipc_buf s_reply_payload = { "reply", 5, 0, 0 };

// Starts fn(arg) in the peer thread; returns its handle.
static int
start_peer(int (*fn)(void *), void *arg)
{
    if (s_ep <= 0) {
        s_ep = sys_endpoint_create();
        s_peer_send = sys_cap_dup(s_ep, CAP_SEND, PEER_BADGE);
    }
    s_peer_done = false;
    s_peer_result = 1;
    memset(s_landing, 0, sizeof s_landing);
    return thread_spawn(fn, arg, s_peer_stack, sizeof s_peer_stack);
}

// Whether the peer a handle names ends in time; closes the handle.
static bool
peer_ends(int peer)
{
    bool ended = sys_wait(peer, SETTLE_TICKS) != -ETIMEDOUT;
    sys_cap_close(peer);
    return ended;
}

// A sender is queued; a receive whose struct ipc_buf is read-only must
// fail without taking the message: no payload written, the sender not told
// it arrived.  A good receive then gets all of it, and the badge of the
// handle it was sent through.
UTEST(recv_into_read_only_ipc_buf_takes_nothing)
{
    int peer = start_peer(send_hello, NULL);
    UASSERT_GT(peer, 0);
    sys_sleep(5); // the sender is queued by now
    struct ipc_words msg = { 0, 0, 0 };
    UEXPECT_EQ(sys_ipc_recv(s_ep, &msg, (struct ipc_buf *)&s_read_only_buf), -EFAULT);
    UEXPECT_EQ(s_landing[0], 0);
    sys_sleep(2);
    UEXPECT_FALSE(s_peer_done);
    struct ipc_buf good = { s_landing, 0, sizeof s_landing, 0 };
    UEXPECT_EQ(sys_ipc_recv(s_ep, &msg, &good), (int)PEER_BADGE);
    UEXPECT_UEQ(good.len, 5);
    UEXPECT_MEMEQ(s_landing, "hello", 5);
    UEXPECT_UEQ(msg.w0, 11);
    UEXPECT_EQ(msg.reply, 0);
    UEXPECT_TRUE(peer_ends(peer));
    UEXPECT_EQ(s_peer_result, 0);
}

// The same for a call's reply: a caller whose struct ipc_buf is read-only
// is refused before it sends, so no reply can be half-delivered.
UTEST(call_with_read_only_ipc_buf_sends_nothing)
{
    int peer = start_peer(reply_once, &s_reply_payload);
    UASSERT_GT(peer, 0);
    sys_sleep(2); // the server is waiting to receive
    struct ipc_words reply = { 0, 0, 0 };
    UEXPECT_EQ(sys_ipc_call(s_ep, 1, 2, (struct ipc_buf *)&s_read_only_buf, &reply), -EFAULT);
    UEXPECT_EQ(s_landing[0], 0);
    sys_sleep(2);
    UEXPECT_FALSE(s_peer_done);
    struct ipc_buf good = { s_landing, 0, sizeof s_landing, 0 };
    UEXPECT_EQ(sys_ipc_call(s_ep, 1, 2, &good, &reply), 0);
    UEXPECT_UEQ(good.len, 5);
    UEXPECT_MEMEQ(s_landing, "reply", 5);
    UEXPECT_UEQ(reply.w0, 33);
    UEXPECT_TRUE(peer_ends(peer));
    UEXPECT_EQ(s_peer_result, 0);
}

// ---- System calls on the growing stack ------------------------------------------

// Pages of the main stack's growth window (include/process.h: below
// USER_STACK_TOP - USER_STACK_SIZE, down to USER_STACK_TOP - USER_STACK_MAX),
// far below anything this program's stack reaches: untouched, so unmapped
// until something uses them.  One page per use.
#define GROWTH_PAGE(i) (0xBFF00000u + (i)*0x10000u)

static volatile int s_received_len = -1;
static volatile unsigned s_received_sum = ~0u;

static int
receive_once(void *arg)
{
    (void)arg;
    static unsigned char data[16];
    struct ipc_buf b = { data, 0, sizeof data, 0 };
    struct ipc_words msg;
    memset(data, 0xAA, sizeof data);
    if (sys_ipc_recv(s_ep, &msg, &b) < 0)
        return 1;
    unsigned sum = 0;
    for (unsigned i = 0; i < sizeof data; i++)
        sum += data[i];
    s_received_sum = sum;
    s_received_len = (int)b.len;
    return 0;
}

// The kernel writes into an untouched page of the window: it must grow the
// stack there, as a ring-3 write would, not fail with -EFAULT.
UTEST(syscall_writes_into_the_stack_growth_window)
{
    struct sysinfo *info = (struct sysinfo *)(GROWTH_PAGE(0) + 0x100);
    UASSERT_EQ(sys_sysinfo(info), 0);
    UEXPECT_UGT(info->module_count, 0);
    UEXPECT_UGT(info->threads, 0);
    struct kfast_stats *st = (struct kfast_stats *)(GROWTH_PAGE(1) + 0xFF0); // across two pages
    UEXPECT_EQ(sys_kfast_stats(st), 0);
    UEXPECT_UGT(st->block_size, 0);
    int *handles = (int *)(GROWTH_PAGE(2) + 0xFFC); // across two pages as well
    UEXPECT_GT(sys_cap_list(handles, 2), 0);
    UEXPECT_EQ(handles[0], 1); // init passes this process its module handles first
}

// ... and reads from one (a fresh page reads as zeros).
UTEST(syscall_reads_from_the_stack_growth_window)
{
    int peer = start_peer(receive_once, NULL);
    UASSERT_GT(peer, 0);
    struct ipc_buf b = { (void *)(GROWTH_PAGE(3) + 0x800), 8, 0, 0 };
    UEXPECT_EQ(sys_ipc_send(s_ep, 1, 2, &b), 0);
    UEXPECT_TRUE(peer_ends(peer));
    UEXPECT_EQ(s_received_len, 8);
    UEXPECT_UEQ(s_received_sum, 8 * 0xAA); // 8 zeros, 8 untouched 0xAA
    // The struct ipc_buf itself in the window (all zeros: no payload, no
    // room, no handle), read by the kernel first, then written with the
    // reply's length.
    peer = start_peer(reply_once, NULL);
    UASSERT_GT(peer, 0);
    struct ipc_buf *far = (struct ipc_buf *)(GROWTH_PAGE(4) + 0x10);
    struct ipc_words reply = { 0, 0, 0 };
    UEXPECT_EQ(sys_ipc_call(s_ep, 0, 0, far, &reply), 0);
    UEXPECT_UEQ(reply.w0, 33);
    UEXPECT_UEQ(far->len, 0);
    UEXPECT_EQ(far->handle, 0);
    UEXPECT_TRUE(peer_ends(peer));
    UEXPECT_EQ(s_peer_result, 0);
    UEXPECT_EQ(sys_debug_write((const void *)(GROWTH_PAGE(5)), 0), 0);
}

// ---- Limits on processes and threads -------------------------------------------

// Starts iso_child with cmd (ISO_SPAWN_MAX or ISO_THREAD_MAX) and takes its
// report: how many it made and what stopped it; the report's call stays
// unanswered (l->held) until finish_counting_child.  Returns 0 or -errno.
static int
start_counting_child(struct iso_link *l, unsigned cmd, unsigned *made, int *refusal)
{
    int r = iso_start(l, s_child, s_child, cmd, NULL, 0);
    if (r < 0)
        return r;
    struct ipc_words report = { 0, 0, 0 };
    r = iso_next(l, &report, NULL);
    if (r < 0)
        return r;
    l->held = r;
    *made = report.w0;
    *refusal = (int)report.w1;
    return 0;
}

// Lets a counting child go and collects it.
static void
finish_counting_child(struct iso_link *l)
{
    UEXPECT_EQ(iso_finish(l, SETTLE_TICKS), 0);
}

// A process may have CHILDREN_PER_PROCESS children at once, then SYS_SPAWN
// says -EAGAIN; every one of them still ends and is collected.
UTEST(spawn_refused_past_children_per_process)
{
    static struct iso_link links[CHILDREN_PER_PROCESS + 1];
    struct sysinfo base;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned n = 0;
    int r = 0;
    while (n < ARRAY_SIZE(links) && (r = iso_start_held(&links[n], s_child)) == 0)
        n++;
    UEXPECT_EQ(r, -EAGAIN);
    UEXPECT_UEQ(n, CHILDREN_PER_PROCESS);
    if (n < ARRAY_SIZE(links) && links[n].proc > 0)
        iso_finish(&links[n], SETTLE_TICKS);
    for (unsigned i = 0; i < n; i++)
        UEXPECT_EQ(iso_finish(&links[i], SETTLE_TICKS), 0); // let it go, collect it
    EXPECT_BASELINE(&base);
    // The limit counts live children: with them gone there is room again.
    struct iso_link one;
    UEXPECT_EQ(iso_start_held(&one, s_child), 0);
    UEXPECT_EQ(iso_finish(&one, SETTLE_TICKS), 0);
}

// Children that each spawn as many as they may reach PROCESSES_MAX
// together: the last is refused with -EAGAIN although it is far below its
// own limit.
UTEST(spawn_refused_past_processes_max)
{
    static struct iso_link links[PROCESSES_MAX / CHILDREN_PER_PROCESS + 2];
    struct sysinfo base, full;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned k = 0, made = 0;
    int refusal = 0;
    do {
        int r = start_counting_child(&links[k], ISO_SPAWN_MAX, &made, &refusal);
        if (links[k].proc > 0)
            k++;
        if (!UEXPECT_EQ(r, 0))
            break;
        UEXPECT_EQ(refusal, -EAGAIN);
    } while (made == CHILDREN_PER_PROCESS && k < ARRAY_SIZE(links));
    UEXPECT_ULT(made, CHILDREN_PER_PROCESS);
    UEXPECT_EQ(sys_sysinfo(&full), 0);
    UEXPECT_UEQ(full.processes, PROCESSES_MAX);
    struct iso_link refused;
    UEXPECT_EQ(iso_start(&refused, s_child, 0, ISO_HOLD, NULL, 0), -EAGAIN);
    for (unsigned i = 0; i < k; i++)
        finish_counting_child(&links[i]);
    EXPECT_BASELINE(&base);
}

// Processes that each make as many threads as they may reach THREADS_MAX
// together: then SYS_THREAD_CREATE and SYS_SPAWN say -EAGAIN.
UTEST(thread_create_refused_past_threads_max)
{
    static struct iso_link links[PROCESSES_MAX];
    struct sysinfo base, full;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned k = 0, made = 0;
    int refusal = 0;
    do {
        int r = start_counting_child(&links[k], ISO_THREAD_MAX, &made, &refusal);
        if (links[k].proc > 0)
            k++;
        if (!UEXPECT_EQ(r, 0)) {
            utest_note("  after %u children of %u threads each", k, made + 1);
            break;
        }
        UEXPECT_EQ(refusal, -EAGAIN);
    } while (made + 1 == THREADS_PER_PROCESS && k < ARRAY_SIZE(links));
    UEXPECT_ULT(made + 1, THREADS_PER_PROCESS);
    UEXPECT_EQ(sys_sysinfo(&full), 0);
    UEXPECT_UEQ(full.threads, THREADS_MAX);
    UEXPECT_EQ(thread_spawn(reply_once, NULL, s_peer_stack, sizeof s_peer_stack), -EAGAIN);
    struct iso_link refused;
    UEXPECT_EQ(iso_start(&refused, s_child, 0, ISO_HOLD, NULL, 0), -EAGAIN);
    for (unsigned i = 0; i < k; i++)
        finish_counting_child(&links[i]);
    EXPECT_BASELINE(&base);
}

// ---- The heap gives its frames back ----------------------------------------------

// Fills the system with processes, then with threads, the way a spawn
// bomb would; the heap grows for their control blocks.  Once they are all
// gone it must give those frames back, less the little it keeps at its top.
UTEST(heap_frames_return_after_a_spawn_bomb)
{
    static struct iso_link links[PROCESSES_MAX];
    struct sysinfo base, full, now;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned peak = base.heap_frames;
    static const unsigned cmds[] = { ISO_SPAWN_MAX, ISO_THREAD_MAX };
    for (unsigned c = 0; c < ARRAY_SIZE(cmds); c++) {
        unsigned k = 0, made = 0;
        int refusal = 0;
        while (k < ARRAY_SIZE(links)) {
            int r = start_counting_child(&links[k], cmds[c], &made, &refusal);
            if (links[k].proc > 0)
                k++;
            if (r != 0 || refusal != -EAGAIN || made == 0)
                break;
        }
        UEXPECT_EQ(sys_sysinfo(&full), 0);
        if (full.heap_frames > peak)
            peak = full.heap_frames;
        for (unsigned i = 0; i < k; i++)
            iso_finish(&links[i], SETTLE_TICKS);
        EXPECT_BASELINE(&base);
    }
    UEXPECT_EQ(sys_sysinfo(&now), 0);
    utest_note("heap frames: %u at the start, %u at the peak, %u after", base.heap_frames, peak,
               now.heap_frames);
    UEXPECT_UGE(peak, base.heap_frames + 8);            // the bomb did grow the heap
    UEXPECT_ULE(now.heap_frames, base.heap_frames + 4); // HEAP_GROW_MIN kept at most
}

// ---- No shared capability, no way through ------------------------------------------

// Starts the victim (an ISO_VICTIM iso_child) and takes its ISO_READY call,
// which stays unanswered (v->held) while it is attacked; *names gets what
// it holds.  Returns 0 or -errno.
static int
start_victim(struct iso_link *v, struct iso_names *names)
{
    int r = iso_start(v, s_child, 0, ISO_VICTIM, NULL, 0);
    if (r < 0)
        return r;
    struct ipc_words msg = { 0, 0, 0 };
    struct ipc_buf in = { names, 0, sizeof *names, 0 };
    r = iso_next(v, &msg, &in);
    if (r < 0)
        return r;
    v->held = r;
    if (msg.w0 != ISO_READY || in.len != sizeof *names)
        return -EINVAL;
    struct cap_info info;
    r = sys_cap_info(v->proc, &info);
    names->pid = info.base;
    return r;
}

// Lets the victim go on, takes its ISO_RESULT and collects it; returns its
// failed checks (the first noted) or, for a protocol error, -errno.
static int
finish_victim(struct iso_link *v)
{
    if (!UEXPECT_EQ(sys_ipc_reply(v->held, ISO_GO, 0, NULL), 0))
        return -EPIPE;
    v->held = 0;
    char note[ISO_NOTE_MAX + 1];
    struct ipc_words msg = { 0, 0, 0 };
    struct ipc_buf in = { note, 0, ISO_NOTE_MAX, 0 };
    int r = iso_next(v, &msg, &in);
    if (r < 0)
        return r;
    v->held = r;
    note[in.len] = '\0';
    if (msg.w0 != ISO_RESULT)
        return -EINVAL;
    if (msg.w1)
        utest_note("  the victim: %s", note);
    return (int)msg.w1;
}

// Two processes that share no capability - the victim, which holds
// endpoints, a call taken and not answered, and waiting threads, and the
// attacker (user/iso_attacker.c), which tries every call that takes a
// handle with every number it can guess, the victim's own among them -
// cannot reach each other: the attacker gets -EBADF from every call (and
// holds nothing of the victim's), and the victim sees nothing: no message,
// no error, its handle table as it was.  This process, which holds both,
// is left alone as well.
UTEST(no_shared_capability_no_way_through)
{
    static struct iso_names names;
    static struct iso_table mine_before, mine_after;
    struct sysinfo base;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    struct iso_link victim, attacker;
    UASSERT_EQ(start_victim(&victim, &names), 0);
    utest_note("the victim: process %u, %u threads, %u handles", names.pid, names.tid_count,
               names.handle_count);
    UEXPECT_TRUE(iso_table_read(&mine_before));
    UEXPECT_EQ(iso_start(&attacker, s_attacker, s_child, ISO_ATTACK, &names, sizeof names), 0);
    // The attacker's verdict is its exit code; its failures it prints.
    unsigned t0 = sys_time();
    int code = sys_wait(attacker.proc, ATTACK_TICKS);
    if (code == -ETIMEDOUT)
        UFAIL("the attacker did not finish in %u ticks: a guessed handle let it wait on "
              "something",
              ATTACK_TICKS);
    else
        utest_note("the attack took %u ticks", sys_time() - t0);
    UEXPECT_EQ(iso_finish(&attacker, 0), 0);
    UEXPECT_EQ(sys_wait(victim.proc, 0), -ETIMEDOUT); // still there
    UEXPECT_TRUE(iso_table_read(&mine_after));
    if (!iso_table_equal(&mine_before, &mine_after))
        UFAIL("this process's handle table changed during the attack");
    UEXPECT_EQ(finish_victim(&victim), 0);
    UEXPECT_EQ(iso_finish(&victim, SETTLE_TICKS), 0);
    EXPECT_BASELINE(&base);
}

int
main(void)
{
    return utest_run("test_isolation");
}
