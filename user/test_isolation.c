// Isolation holes an attacker found, each closed by the kernel: a killed
// waiter, half-delivered IPC, system calls on the growing stack, ring-3
// descriptor-table reads (UMIP), a heap that kept its frames, and no limit
// on processes or threads.  Helpers: user/iso_child.c.
#include "iso_child.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define SETTLE_TICKS    300             // 3 s: far longer than any clean-up takes

static int s_child = -1;                // iso_child's module index

// Waits until the thread and process counts and the heap's live blocks are
// back to *base; returns whether they came back, leaving the last reading in *now.
static bool
settle(const struct sysinfo *base, struct sysinfo *now, bool processes_too)
{
    unsigned start = sys_time();
    for (;;) {
        if (sys_sysinfo(now) != 0)
            return false;
        if (now->threads == base->threads &&
            (!processes_too || (now->processes == base->processes &&
                                now->heap_live_blocks == base->heap_live_blocks)))
            return true;
        if (sys_time() - start > SETTLE_TICKS)
            return false;
        sys_sleep(1);
    }
}

// Expects every counter settle() watches to be back at *base.
static void
expect_baseline(const struct sysinfo *base)
{
    struct sysinfo now;
    settle(base, &now, true);
    UEXPECT_UEQ(now.threads, base->threads);
    UEXPECT_UEQ(now.processes, base->processes);
    UEXPECT_UEQ(now.heap_live_blocks, base->heap_live_blocks);
}

UTEST(start)
{
    s_child = module_find("iso_child");
    UASSERT_GT(s_child, 0);
}

// A thread in SYS_WAIT on a child that will not end while a sibling calls
// SYS_EXIT: the kill must reach the waiter, so the process ends at once,
// and the child, which then ends too (its holder is gone), is freed
// although nobody waits for it.
UTEST(exit_ends_a_thread_in_wait)
{
    struct sysinfo base, now;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    int pid = sys_spawn((unsigned)s_child);
    UASSERT_GT(pid, 0);
    UASSERT_EQ(sys_ipc_send(pid, ISO_WAIT_KILL, 0, NULL), 0);
    // Waiting for the process could hang the whole run if it never ends.
    if (!UEXPECT_TRUE(settle(&base, &now, false))) {
        utest_note("  threads: %u, %u at the start", now.threads, base.threads);
        return;
    }
    UEXPECT_EQ(sys_wait(pid), ISO_EXIT_CODE);
    expect_baseline(&base);
}

// ---- IPC receive is all or nothing ------------------------------------------

#define THREAD_STACK    4096

static uint8_t s_peer_stack[THREAD_STACK] ALIGNED(16);
static int s_main_tid;
static volatile int s_peer_result;
static volatile bool s_peer_done;

// Writable bytes a read-only struct ipc_buf points at.
static char s_landing[64];
// In .rodata: the kernel cannot write the received length into it.
static const struct ipc_buf s_read_only_buf = { s_landing, 0, sizeof s_landing };

static int
send_hello(void *arg)
{
    (void)arg;
    struct ipc_buf b = { "hello", 5, 0 };
    s_peer_result = sys_ipc_send(s_main_tid, 11, 22, &b);
    s_peer_done = true;
    return 0;
}

static int
reply_once(void *arg)
{
    (void)arg;
    struct ipc_words msg;
    int caller = sys_ipc_recv(IPC_ANY, &msg, NULL);
    struct ipc_buf b = { "reply", 5, 0 };
    s_peer_result = caller < 0 ? caller : sys_ipc_reply(caller, 33, 44, &b);
    s_peer_done = true;
    return 0;
}

// Starts fn in the peer thread; returns its tid.
static int
start_peer(int (*fn)(void *))
{
    s_main_tid = sys_gettid();
    s_peer_done = false;
    s_peer_result = 1;
    memset(s_landing, 0, sizeof s_landing);
    return thread_spawn(fn, NULL, s_peer_stack, sizeof s_peer_stack);
}

// A sender is queued; a receive whose struct ipc_buf is read-only must
// fail without taking the message: no payload written, the sender not told
// it arrived.  A good receive then gets all of it.
UTEST(recv_into_read_only_ipc_buf_takes_nothing)
{
    int peer = start_peer(send_hello);
    UASSERT_GT(peer, 0);
    sys_sleep(5);                       // the sender is queued on us by now
    struct ipc_words msg = { 0, 0 };
    UEXPECT_EQ(sys_ipc_recv(peer, &msg, (struct ipc_buf *)&s_read_only_buf), -EFAULT);
    UEXPECT_EQ(s_landing[0], 0);
    sys_sleep(2);
    UEXPECT_FALSE(s_peer_done);
    struct ipc_buf good = { s_landing, 0, sizeof s_landing };
    UEXPECT_EQ(sys_ipc_recv(peer, &msg, &good), peer);
    UEXPECT_UEQ(good.len, 5);
    UEXPECT_MEMEQ(s_landing, "hello", 5);
    UEXPECT_UEQ(msg.w0, 11);
    UEXPECT_TRUE(wait_gone(peer, SETTLE_TICKS));
    UEXPECT_EQ(s_peer_result, 0);
}

// The same for a call's reply: a caller whose struct ipc_buf is read-only
// is refused before it sends, so no reply can be half-delivered.
UTEST(call_with_read_only_ipc_buf_sends_nothing)
{
    int peer = start_peer(reply_once);
    UASSERT_GT(peer, 0);
    sys_sleep(2);                       // the server is waiting to receive
    struct ipc_words reply = { 0, 0 };
    UEXPECT_EQ(sys_ipc_call(peer, 1, 2, (struct ipc_buf *)&s_read_only_buf, &reply), -EFAULT);
    UEXPECT_EQ(s_landing[0], 0);
    sys_sleep(2);
    UEXPECT_FALSE(s_peer_done);
    struct ipc_buf good = { s_landing, 0, sizeof s_landing };
    UEXPECT_EQ(sys_ipc_call(peer, 1, 2, &good, &reply), 0);
    UEXPECT_UEQ(good.len, 5);
    UEXPECT_MEMEQ(s_landing, "reply", 5);
    UEXPECT_UEQ(reply.w0, 33);
    UEXPECT_TRUE(wait_gone(peer, SETTLE_TICKS));
    UEXPECT_EQ(s_peer_result, 0);
}

// ---- System calls on the growing stack ------------------------------------------

// Pages of the main stack's growth window (include/process.h: below
// USER_STACK_TOP - USER_STACK_SIZE, down to USER_STACK_TOP - USER_STACK_MAX),
// far below anything this program's stack reaches: untouched, so unmapped
// until something uses them.  One page per use.
#define GROWTH_PAGE(i)  (0xBFF00000u + (i) * 0x10000u)

static volatile int s_received_len = -1;
static volatile unsigned s_received_sum = ~0u;

static int
receive_once(void *arg)
{
    (void)arg;
    static unsigned char data[16];
    struct ipc_buf b = { data, 0, sizeof data };
    struct ipc_words msg;
    memset(data, 0xAA, sizeof data);
    if (sys_ipc_recv(IPC_ANY, &msg, &b) < 0)
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
    struct kfast_stats *st = (struct kfast_stats *)(GROWTH_PAGE(1) + 0xFF0);  // across two pages
    UEXPECT_EQ(sys_kfast_stats(st), 0);
    UEXPECT_UGT(st->block_size, 0);
}

// ... and reads from one (a fresh page reads as zeros).
UTEST(syscall_reads_from_the_stack_growth_window)
{
    int peer = start_peer(receive_once);
    UASSERT_GT(peer, 0);
    struct ipc_buf b = { (void *)(GROWTH_PAGE(3) + 0x800), 8, 0 };
    UEXPECT_EQ(sys_ipc_send(peer, 1, 2, &b), 0);
    UEXPECT_TRUE(wait_gone(peer, SETTLE_TICKS));
    UEXPECT_EQ(s_received_len, 8);
    UEXPECT_UEQ(s_received_sum, 8 * 0xAA);      // 8 zeros, 8 untouched 0xAA
    // The struct ipc_buf itself in the window: read by the kernel first.
    struct ipc_buf *far = (struct ipc_buf *)(GROWTH_PAGE(4) + 0x10);
    UEXPECT_EQ(sys_ipc_send(sys_gettid(), 0, 0, far), -EDEADLK);
    UEXPECT_EQ(sys_debug_write((const void *)(GROWTH_PAGE(5)), 0), 0);
}

// ---- Limits on processes and threads -------------------------------------------

// Starts iso_child with cmd (ISO_SPAWN_MAX or ISO_THREAD_MAX) and reads its
// report: how many it made and what stopped it.  Returns its pid or < 0.
static int
start_counting_child(unsigned cmd, unsigned *made, int *refusal)
{
    int pid = sys_spawn((unsigned)s_child);
    if (pid < 0)
        return pid;
    struct ipc_words report = { 0, 0 };
    int r = sys_ipc_send(pid, cmd, 0, NULL);
    if (r == 0)
        r = sys_ipc_recv(pid, &report, NULL);
    *made = report.w0;
    *refusal = (int)report.w1;
    return r < 0 ? r : pid;
}

// Lets a counting child go and collects it.
static void
finish_counting_child(int pid)
{
    UEXPECT_EQ(sys_ipc_send(pid, 0, 0, NULL), 0);
    UEXPECT_EQ(sys_wait(pid), 0);
}

// A process may have CHILDREN_PER_PROCESS children at once, then SYS_SPAWN
// says -EAGAIN; every one of them still ends and is collected.
UTEST(spawn_refused_past_children_per_process)
{
    static int pids[CHILDREN_PER_PROCESS + 1];
    struct sysinfo base;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned n = 0;
    int r = 0;
    while (n < ARRAY_SIZE(pids) && (r = sys_spawn((unsigned)s_child)) > 0) {
        pids[n++] = r;
        UEXPECT_EQ(sys_ipc_send(r, ISO_HOLD, 0, NULL), 0);
    }
    UEXPECT_EQ(r, -EAGAIN);
    UEXPECT_UEQ(n, CHILDREN_PER_PROCESS);
    for (unsigned i = 0; i < n; i++) {
        UEXPECT_EQ(sys_ipc_send(pids[i], 0, 0, NULL), 0);      // let it go
        UEXPECT_EQ(sys_wait(pids[i]), 0);
    }
    expect_baseline(&base);
    // The limit counts live children: with them gone there is room again.
    int pid = sys_spawn((unsigned)s_child);
    UEXPECT_GT(pid, 0);
    if (pid > 0) {
        UEXPECT_EQ(sys_ipc_send(pid, ISO_HOLD, 0, NULL), 0);
        UEXPECT_EQ(sys_ipc_send(pid, 0, 0, NULL), 0);
        UEXPECT_EQ(sys_wait(pid), 0);
    }
}

// Children that each spawn as many as they may reach PROCESSES_MAX
// together: the last is refused with -EAGAIN although it is far below its
// own limit.
UTEST(spawn_refused_past_processes_max)
{
    static int pids[PROCESSES_MAX / CHILDREN_PER_PROCESS + 2];
    struct sysinfo base, full;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned k = 0, made = 0;
    int refusal = 0;
    do {
        int pid = start_counting_child(ISO_SPAWN_MAX, &made, &refusal);
        if (!UEXPECT_GT(pid, 0))
            break;
        pids[k++] = pid;
        UEXPECT_EQ(refusal, -EAGAIN);
    } while (made == CHILDREN_PER_PROCESS && k < ARRAY_SIZE(pids));
    UEXPECT_ULT(made, CHILDREN_PER_PROCESS);
    UEXPECT_EQ(sys_sysinfo(&full), 0);
    UEXPECT_UEQ(full.processes, PROCESSES_MAX);
    UEXPECT_EQ(sys_spawn((unsigned)s_child), -EAGAIN);
    for (unsigned i = 0; i < k; i++)
        finish_counting_child(pids[i]);
    expect_baseline(&base);
}

// Processes that each make as many threads as they may reach THREADS_MAX
// together: then SYS_THREAD_CREATE and SYS_SPAWN say -EAGAIN.
UTEST(thread_create_refused_past_threads_max)
{
    static int pids[PROCESSES_MAX];
    struct sysinfo base, full;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned k = 0, made = 0;
    int refusal = 0;
    do {
        int pid = start_counting_child(ISO_THREAD_MAX, &made, &refusal);
        if (!UEXPECT_GT(pid, 0)) {
            utest_note("  after %u children of %u threads each", k, made + 1);
            break;
        }
        pids[k++] = pid;
        UEXPECT_EQ(refusal, -EAGAIN);
    } while (made + 1 == THREADS_PER_PROCESS && k < ARRAY_SIZE(pids));
    UEXPECT_ULT(made + 1, THREADS_PER_PROCESS);
    UEXPECT_EQ(sys_sysinfo(&full), 0);
    UEXPECT_UEQ(full.threads, THREADS_MAX);
    UEXPECT_EQ(thread_spawn(reply_once, NULL, s_peer_stack, sizeof s_peer_stack), -EAGAIN);
    UEXPECT_EQ(sys_spawn((unsigned)s_child), -EAGAIN);
    for (unsigned i = 0; i < k; i++)
        finish_counting_child(pids[i]);
    expect_baseline(&base);
}

// ---- The heap gives its frames back ----------------------------------------------

// Fills the system with processes, then with threads, the way a spawn
// bomb would; the heap grows for their control blocks.  Once they are all
// gone it must give those frames back, less the little it keeps at its top.
UTEST(heap_frames_return_after_a_spawn_bomb)
{
    static int pids[PROCESSES_MAX];
    struct sysinfo base, full, now;
    UASSERT_TRUE(sysinfo_settled(&base, SETTLE_TICKS));
    unsigned peak = base.heap_frames;
    static const unsigned cmds[] = { ISO_SPAWN_MAX, ISO_THREAD_MAX };
    for (unsigned c = 0; c < ARRAY_SIZE(cmds); c++) {
        unsigned k = 0, made;
        int refusal;
        int pid;
        while (k < ARRAY_SIZE(pids) && (pid = start_counting_child(cmds[c], &made, &refusal)) > 0) {
            pids[k++] = pid;
            if (refusal != -EAGAIN || made == 0)
                break;
        }
        UEXPECT_EQ(sys_sysinfo(&full), 0);
        if (full.heap_frames > peak)
            peak = full.heap_frames;
        for (unsigned i = 0; i < k; i++)
            finish_counting_child(pids[i]);
        expect_baseline(&base);
    }
    UEXPECT_EQ(sys_sysinfo(&now), 0);
    utest_note("heap frames: %u at the start, %u at the peak, %u after", base.heap_frames, peak,
               now.heap_frames);
    UEXPECT_UGE(peak, base.heap_frames + 8);            // the bomb did grow the heap
    UEXPECT_ULE(now.heap_frames, base.heap_frames + 4); // HEAP_GROW_MIN kept at most
}

int
main(void)
{
    return utest_run("test_isolation");
}
