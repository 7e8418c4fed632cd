// The kernel mechanisms the user-space drivers stand on: I/O ports through
// the TSS bitmap, device memory (SYS_MEM_MAP), IRQ notifications (COM1 in
// loopback), the kernel log (SYS_LOG_READ, its notifications,
// SYS_CONSOLE_TAKE), SYS_THREAD_LIST and SYS_SPAWN's argument string.
// init gives this test (as every test_dev*) every device handle and the
// log; the processes it starts (user/dev_child.c) get only what it passes.
// The last test checks that every handle and object the others made is gone.
#include "com1_loopback.h"
#include "dev_child.h"
#include "device.h"
#include "leak_check.h"
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define WAIT_TICKS   500 // a generous bound on anything awaited
#define SETTLE_TICKS 300
#define NOTIFY_TICKS 100 // an expected notification comes well within this
#define QUIET_TICKS  5   // an interrupt would have been seen within this
#define THREAD_STACK 4096

#define VGA_TEXT     0xB8000u
#define VGA_CELLS    (80 * 25)
#define SCREEN_AT    0x00800000u // where this test maps the screen
#define PAGE         0x1000u
#define STACK_WINDOW (USER_STACK_TOP - USER_STACK_MAX)
#define IRQ_BADGE    0x40
#define OTHER_BADGE  0x400
#define LOG_BADGE    0x8
#define PROBE        0x50524F42u // "PROB": recv_within's time-out message

extern char _end[]; // the first page past the image (user/user.ld)

// The handles init gave (found by name).
static int s_com1, s_irq4, s_vga, s_log;
static struct sysinfo s_base; // the counters before anything here ran
static volatile uint16_t *const s_screen = (volatile uint16_t *)SCREEN_AT;
static bool s_screen_mapped;

static uint8_t s_stacks[2][THREAD_STACK] ALIGNED(16);

// ---- Helpers: receiving with a time limit -------------------------------------------
// A receive waits for ever, so a probe thread sends PROBE on the endpoint
// after the time limit (or as soon as told to stop); a probe received first
// means nothing came in time.  Notifications come before any waiting
// sender, so a pending one always wins over the probe.

struct probe {
    int ep;
    unsigned ticks;
    volatile bool stop;
};

// What arrived (recv_within), and what arrived while the probe was being
// collected, kept for the next recv_within.
struct received {
    int badge;
    struct ipc_words msg;
    unsigned len;
    int handle;
};

static struct received s_kept;
static bool s_have_kept;

static int
probe_main(void *arg)
{
    struct probe *p = arg;
    for (unsigned t = 0; t < p->ticks && !p->stop; t++)
        sys_sleep(1);
    return sys_ipc_send(p->ep, PROBE, 0, NULL) == 0 ? 0 : 1;
}

static bool
is_probe(int badge, const struct ipc_words *msg)
{
    return badge == 0 && msg->w0 == PROBE && !msg->reply;
}

static int
receive(int ep, struct received *out)
{
    uint8_t data[16];
    struct ipc_buf buf = { data, 0, sizeof data, 0 };
    out->badge = sys_ipc_recv(ep, &out->msg, &buf);
    out->len = buf.len;
    out->handle = buf.handle;
    return out->badge;
}

// Receives on ep what arrives within `ticks`; returns the badge (out: the
// message), -ETIMEDOUT if nothing came, or a -errno.  Prints nothing.
static int
recv_within(int ep, unsigned ticks, struct received *out)
{
    if (s_have_kept) {
        s_have_kept = false;
        *out = s_kept;
        return out->badge;
    }
    static struct probe p;
    p = (struct probe){ ep, ticks, false };
    int thread = thread_spawn(probe_main, &p, s_stacks[0], THREAD_STACK);
    if (thread < 0)
        return thread;
    int r = receive(ep, out);
    if (r >= 0 && is_probe(r, &out->msg)) {
        r = -ETIMEDOUT;
    } else {
        p.stop = true;
        struct received late;
        while (receive(ep, &late) >= 0 && !is_probe(late.badge, &late.msg)) {
            s_kept = late;
            s_have_kept = true;
        }
    }
    sys_wait(thread, WAIT_TICKS);
    sys_cap_close(thread);
    return r;
}

// ---- Helpers: checks made while COM1 loops back -----------------------------------------
// The kernel's console writes to COM1: with the UART in loopback its text
// would be swallowed (and received, as interrupts).  Checks made then are
// kept and reported once the UART is restored.

struct late_check {
    const char *got_text, *want_text;
    long long got, want;
    int line;
};

static struct late_check s_late[16];
static unsigned s_late_count;

static void
late_eq(long long got, long long want, const char *got_text, const char *want_text, int line)
{
    if (got != want && s_late_count < ARRAY_SIZE(s_late))
        s_late[s_late_count++] = (struct late_check){ got_text, want_text, got, want, line };
}

#define LATE_EQ(a, b) late_eq((long long)(a), (long long)(b), #a, #b, __LINE__)

static void
late_report(void)
{
    for (unsigned i = 0; i < s_late_count; i++)
        utest_check_int(UT_EQ, s_late[i].got, s_late[i].want, s_late[i].got_text,
                        s_late[i].want_text, __FILE__, s_late[i].line);
    s_late_count = 0;
}

// ---- Helpers: the screen -----------------------------------------------------------------

// Whether the screen shows text (anywhere: lines are read as one run).
static bool
screen_shows(const char *text)
{
    unsigned n = strlen(text);
    for (unsigned at = 0; at + n <= VGA_CELLS; at++) {
        unsigned i = 0;
        while (i < n && (s_screen[at + i] & 0xFF) == (uint8_t)text[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

// Prints a diagnostic line with a text of its own in `marker`.
static void
note_marker(char *marker, size_t size, const char *what)
{
    ksnprintf(marker, size, "%s marker %u", what, sys_time());
    utest_note("%s", marker);
}

// ---- The handles init gave --------------------------------------------------------------

#define ANY_BASE 0xFFFFFFFFu

static void
expect_device(int handle, unsigned type, unsigned base, unsigned size)
{
    struct cap_info info;
    if (!UEXPECT_EQ(sys_cap_info(handle, &info), 0))
        return;
    UEXPECT_UEQ(info.type, type);
    UEXPECT_UEQ(info.rights, CAP_USE | CAP_GRANT);
    if (base != ANY_BASE)
        UEXPECT_UEQ(info.base, base);
    UEXPECT_UEQ(info.size, size);
}

UTEST(devices_given)
{
    s_com1 = cap_find(CAP_TYPE_IOPORT, "com1");
    s_irq4 = cap_find(CAP_TYPE_IRQ, "irq4-com1");
    s_vga = cap_find(CAP_TYPE_MEMORY, "vga-text");
    s_log = cap_find(CAP_TYPE_LOG, "kernel-log");
    UASSERT_GT(s_com1, 0);
    UASSERT_GT(s_irq4, 0);
    UASSERT_GT(s_vga, 0);
    UASSERT_GT(s_log, 0);
    expect_device(s_com1, CAP_TYPE_IOPORT, COM1, 8);
    expect_device(s_irq4, CAP_TYPE_IRQ, 4, 1);
    expect_device(s_vga, CAP_TYPE_MEMORY, VGA_TEXT, PAGE);
    expect_device(s_log, CAP_TYPE_LOG, ANY_BASE, LOG_RING_SIZE); // base: the log's head
    UEXPECT_GT(cap_find(CAP_TYPE_IRQ, "irq1-keyboard"), 0);
    UEXPECT_GT(cap_find(CAP_TYPE_IOPORT, "vga-crtc"), 0);
    UEXPECT_TRUE(sysinfo_settled(&s_base, SETTLE_TICKS));
}

// ---- I/O ports ----------------------------------------------------------------------------

// The scratch register holds what was written to it: a child that reads
// it back has read the UART.
UTEST(ports_of_a_handle_work)
{
    outb(COM1_SCRATCH, 0xA5);
    UEXPECT_UEQ(inb(COM1_SCRATCH), 0xA5);
    struct ipc_words reply;
    UEXPECT_EQ(child_run("inb", s_com1, COM1_SCRATCH, &reply), 0);
    UEXPECT_UEQ(reply.w0, 0xA5);
    UEXPECT_EQ(child_run("inb", s_com1, COM1, &reply), 0); // the range's first
}

UTEST(ports_without_the_handle_are_gp)
{
    struct ipc_words reply;
    UEXPECT_EQ(child_run("inb", 0, COM1_LSR, &reply), DEV_CHILD_EXIT_GP);
    UEXPECT_EQ((int)reply.w0, -EPIPE); // it died before answering
    // A handle without CAP_USE opens nothing.
    int no_use = sys_cap_dup(s_com1, CAP_GRANT, 0);
    UASSERT_GT(no_use, 0);
    UEXPECT_EQ(child_run("inb", no_use, COM1_LSR, &reply), DEV_CHILD_EXIT_GP);
    UEXPECT_EQ(sys_cap_close(no_use), 0);
}

UTEST(ports_outside_the_handle_are_gp)
{
    static const unsigned ports[] = { COM1 - 1, COM1_SCRATCH + 1, 0x3F0, 0x80, 0x3D4, 0x60 };
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++) {
        struct ipc_words reply;
        if (!UEXPECT_EQ(child_run("inb", s_com1, ports[i], &reply), DEV_CHILD_EXIT_GP))
            utest_note("port %#x", ports[i]);
    }
}

// The child reads the port, closes its only handle to it and reads again.
UTEST(ports_closed_fault_at_once)
{
    outb(COM1_SCRATCH, 0x5C);
    struct ipc_words reply;
    UEXPECT_EQ(child_run("inb-close", s_com1, COM1_SCRATCH, &reply), DEV_CHILD_EXIT_GP);
    UEXPECT_UEQ(reply.w0, 0x5C); // the read before the close
}

// The parent revokes the child's copy while the child reads in a loop.
UTEST(ports_revoked_fault_at_once)
{
    int mine = sys_cap_dup(s_com1, CAP_USE | CAP_GRANT, 0);
    UASSERT_GT(mine, 0);
    struct child c = { 0, 0 };
    UASSERT_EQ(child_start(&c, "inb-loop", mine), 0);
    struct ipc_words reply;
    UEXPECT_EQ(sys_ipc_call(c.ep, 0, COM1_SCRATCH, NULL, &reply), 0);
    UEXPECT_EQ(sys_cap_revoke(mine), 1);
    UEXPECT_EQ(child_finish(&c), DEV_CHILD_EXIT_GP);
    UEXPECT_EQ(sys_cap_close(mine), 0);
}

// ---- SYS_MEM_MAP ------------------------------------------------------------------------

UTEST(mem_map_shows_the_screen)
{
    UASSERT_TRUE((uintptr_t)_end <= SCREEN_AT);
    UASSERT_EQ(sys_mem_map(s_vga, (void *)SCREEN_AT), 0);
    s_screen_mapped = true;
    // The kernel writes its console there: a line printed now is on it.
    char marker[48];
    note_marker(marker, sizeof marker, "vga");
    UEXPECT_TRUE(screen_shows(marker));
    volatile uint16_t *last = &s_screen[VGA_CELLS - 1];
    uint16_t saved = *last;
    *last = 0x4E21;
    UEXPECT_UEQ(*last, 0x4E21);
    *last = saved;
    // One mapping per handle.
    UEXPECT_EQ(sys_mem_map(s_vga, (void *)SCREEN_AT), -EBUSY);
    UEXPECT_EQ(sys_mem_map(s_vga, (void *)(SCREEN_AT + 16 * PAGE)), -EBUSY);
}

// The kernel writes a receiver's struct ipc_buf and bytes through its
// direct map, which holds RAM only: a receive naming device memory for
// either is refused before it waits.
UTEST(ipc_buffers_in_device_memory_are_refused)
{
    UASSERT_TRUE(s_screen_mapped);
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    struct ipc_words w;
    UEXPECT_EQ(sys_ipc_recv(ep, &w, (struct ipc_buf *)SCREEN_AT), -EFAULT);
    struct ipc_buf b = { .data = (void *)SCREEN_AT, .size = 64 };
    UEXPECT_EQ(sys_ipc_recv(ep, &w, &b), -EFAULT);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

UTEST(mem_map_refuses_bad_addresses)
{
    static const uintptr_t bad[] = {
        // Not page aligned.
        SCREEN_AT + 16 * PAGE + 4,
        // Below user space.
        0,
        PAGE,
        // The kernel's.
        0xC0000000u,
        0xFFFFF000u,
        // Mapped already, by s_vga.
        SCREEN_AT,
        // Mapped already: this program.
        0x00400000u,
        // The stack's to grow.
        STACK_WINDOW,
        STACK_WINDOW + 64 * PAGE,
        USER_STACK_TOP - PAGE,
    };
    int h = sys_cap_dup(s_vga, CAP_USE, 0);
    UASSERT_GT(h, 0);
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
        if (!UEXPECT_EQ(sys_mem_map(h, (void *)bad[i]), -EINVAL))
            utest_note("address %#x", (unsigned)bad[i]);
    // Right below the stack's window is fine, and the refusals left nothing behind.
    UEXPECT_EQ(sys_mem_map(h, (void *)(STACK_WINDOW - PAGE)), 0);
    UEXPECT_EQ(sys_cap_close(h), 0);
}

UTEST(mem_map_needs_cap_use_and_memory)
{
    int no_use = sys_cap_dup(s_vga, CAP_GRANT, 0);
    UASSERT_GT(no_use, 0);
    UEXPECT_EQ(sys_mem_map(no_use, (void *)(SCREEN_AT + 16 * PAGE)), -EPERM);
    UEXPECT_EQ(sys_cap_close(no_use), 0);
    UEXPECT_EQ(sys_mem_map(s_com1, (void *)(SCREEN_AT + 16 * PAGE)), -EBADF);
    UEXPECT_EQ(sys_mem_map(no_use, (void *)(SCREEN_AT + 16 * PAGE)), -EBADF);
}

// Closing the handle unmaps: the address is free for another mapping here,
// and a child touching its closed mapping dies of a page fault.
UTEST(mem_map_closed_is_gone)
{
    const uintptr_t at = SCREEN_AT + 16 * PAGE;
    int h = sys_cap_dup(s_vga, CAP_USE, 0);
    UASSERT_GT(h, 0);
    UEXPECT_EQ(sys_mem_map(h, (void *)at), 0);
    UEXPECT_EQ(sys_cap_close(h), 0);
    h = sys_cap_dup(s_vga, CAP_USE, 0);
    UASSERT_GT(h, 0);
    UEXPECT_EQ(sys_mem_map(h, (void *)at), 0);
    UEXPECT_EQ(sys_cap_close(h), 0);

    struct ipc_words reply;
    UEXPECT_EQ(child_run("map-close", s_vga, 0x2F3F, &reply), DEV_CHILD_EXIT_PF);
    UEXPECT_EQ((int)reply.w0, 0);
    UEXPECT_UEQ(reply.w1, 0x2F3F);
}

// A process that ends with a mapping leaves the frame alone: it is the
// device's, not the allocator's.  (The child's cell shows on our mapping:
// nothing printed in between to scroll it away.)
UTEST(mem_map_outlived_frees_no_frame)
{
    struct sysinfo before, after;
    UASSERT_TRUE(s_screen_mapped);
    uint16_t saved = s_screen[0];
    UASSERT_TRUE(sysinfo_settled(&before, SETTLE_TICKS));
    struct ipc_words reply;
    UEXPECT_EQ(child_run("map-exit", s_vga, 0x2F3F, &reply), 0);
    UEXPECT_EQ((int)reply.w0, 0);
    UEXPECT_UEQ(s_screen[0], 0x2F3F); // the same screen as ours
    s_screen[0] = saved;
    UASSERT_TRUE(sysinfo_settled(&after, SETTLE_TICKS));
    UEXPECT_UEQ(after.frames_free + after.heap_frames, before.frames_free + before.heap_frames);
    UEXPECT_UEQ(after.frames_free, before.frames_free);
}

// ---- IRQ notifications ------------------------------------------------------------------

UTEST(notify_bind_refusals)
{
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    int recv_only = sys_cap_dup(ep, CAP_RECV, 0);
    int no_use = sys_cap_dup(s_irq4, CAP_GRANT, 0);
    int other = sys_cap_dup(s_irq4, CAP_USE, 0);
    UASSERT_GT(recv_only, 0);
    UASSERT_GT(no_use, 0);
    UASSERT_GT(other, 0);
    UEXPECT_EQ(sys_notify_bind(s_irq4, ep, 0), -EINVAL); // a badge is all it says
    UEXPECT_EQ(sys_notify_bind(s_irq4, ep, BADGE_MAX + 1), -EINVAL);
    UEXPECT_EQ(sys_notify_bind(no_use, ep, IRQ_BADGE), -EPERM);
    UEXPECT_EQ(sys_notify_bind(s_irq4, recv_only, IRQ_BADGE), -EPERM);
    UEXPECT_EQ(sys_notify_bind(s_com1, ep, IRQ_BADGE), -EBADF);
    UEXPECT_EQ(sys_irq_ack(s_com1), -EBADF);
    UEXPECT_EQ(sys_irq_ack(no_use), -EPERM);
    // One binder at a time; the binder itself may rebind, and unbind.
    UEXPECT_EQ(sys_notify_bind(s_irq4, ep, IRQ_BADGE), 0);
    UEXPECT_EQ(sys_notify_bind(other, ep, OTHER_BADGE), -EBUSY);
    UEXPECT_EQ(sys_notify_bind(other, 0, 0), -EBUSY);
    UEXPECT_EQ(sys_notify_bind(s_irq4, ep, OTHER_BADGE), 0);
    UEXPECT_EQ(sys_notify_bind(s_irq4, 0, 0), 0);
    UEXPECT_EQ(sys_notify_bind(other, ep, OTHER_BADGE), 0);
    UEXPECT_EQ(sys_notify_bind(other, 0, 0), 0);
    UEXPECT_EQ(sys_cap_close(other), 0);
    UEXPECT_EQ(sys_cap_close(no_use), 0);
    UEXPECT_EQ(sys_cap_close(recv_only), 0);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// Takes a notification an ack may bring for a byte already taken: an I/O
// APIC can see one byte's interrupt twice (QEMU's makes two edges of it),
// and the kernel holds the second for the ack (kernel/smp/irq_routing.c).
// A driver finds nothing to read then; a check that nothing comes starts
// after it.
static void
drain(int ep)
{
    struct received r;
    recv_within(ep, QUIET_TICKS, &r);
}

// Takes a notification an interrupt latched while the line was masked
// may bring at a bind (QEMU's PIC keeps such an edge, Bochs' forgets it
// once the line falls), and lets the line interrupt again.
static void
flush(int ep, int irq)
{
    drain(ep);
    sys_irq_ack(irq);
}

// Expects exactly one notification with badge, then the byte it announced.
static void
expect_interrupt(int ep, unsigned badge, char byte)
{
    struct received r;
    LATE_EQ(recv_within(ep, NOTIFY_TICKS, &r), badge);
    LATE_EQ(r.msg.w0, IPC_NOTIFICATION);
    LATE_EQ(r.msg.w1, 0);
    LATE_EQ(r.msg.reply, 0);
    LATE_EQ(r.len, 0);
    LATE_EQ(r.handle, 0);
    LATE_EQ(com1_take(), byte);
}

// Expects no notification for the byte sent, which is taken all the same.
static void
expect_silence(int ep, char byte)
{
    struct received r;
    LATE_EQ(recv_within(ep, QUIET_TICKS, &r), -ETIMEDOUT);
    LATE_EQ(com1_take(), byte);
}

// The checks in loopback; each byte sent comes back and raises IRQ 4.
static void
loopback_checks(int ep, int other)
{
    LATE_EQ(sys_notify_bind(s_irq4, ep, IRQ_BADGE), 0);
    com1_send('A');
    expect_interrupt(ep, IRQ_BADGE, 'A');
    // Masked until the ack: the next byte's interrupt waits for it.
    com1_send('B');
    struct received r;
    LATE_EQ(recv_within(ep, QUIET_TICKS, &r), -ETIMEDOUT);
    LATE_EQ(sys_irq_ack(s_irq4), 0);
    expect_interrupt(ep, IRQ_BADGE, 'B');
    LATE_EQ(sys_irq_ack(s_irq4), 0);
    LATE_EQ(sys_notify_bind(other, ep, OTHER_BADGE), -EBUSY);
    drain(ep);
    // Unbound: nothing arrives.
    LATE_EQ(sys_notify_bind(s_irq4, 0, 0), 0);
    com1_send('C');
    expect_silence(ep, 'C');
    // Bound through another handle, which is then closed: nothing arrives.
    LATE_EQ(sys_notify_bind(other, ep, OTHER_BADGE), 0);
    flush(ep, other);
    com1_send('D');
    expect_interrupt(ep, OTHER_BADGE, 'D');
    LATE_EQ(sys_irq_ack(other), 0);
    drain(ep);
    LATE_EQ(sys_cap_close(other), 0);
    com1_send('E');
    expect_silence(ep, 'E');
    // And the line is free for the next binder.
    LATE_EQ(sys_notify_bind(s_irq4, ep, IRQ_BADGE), 0);
    flush(ep, s_irq4);
    LATE_EQ(sys_notify_bind(s_irq4, 0, 0), 0);
}

// COM1 in loopback raises IRQ 4 for every byte it sends itself; the UART
// is given back as the kernel had it, and only then is anything printed.
UTEST(irq_notifications_with_com1_in_loopback)
{
    int ep = sys_endpoint_create();
    int other = sys_cap_dup(s_irq4, CAP_USE, 0);
    UASSERT_GT(ep, 0);
    UASSERT_GT(other, 0);
    struct uart_regs saved = { 0, 0, 0 };
    UASSERT_TRUE(com1_loopback_enter(&saved));
    loopback_checks(ep, other);
    com1_loopback_leave(&saved);
    late_report();
    sys_cap_close(other); // open still if the close above failed
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// ---- The kernel log -------------------------------------------------------------------------

// Whether text[0, n) holds what.
static bool
contains(const char *text, unsigned n, const char *what)
{
    unsigned len = strlen(what);
    for (unsigned at = 0; at + len <= n; at++)
        if (memcmp(text + at, what, len) == 0)
            return true;
    return false;
}

UTEST(log_read_finds_a_debug_write)
{
    static char text[LOG_RING_SIZE / 16];
    char line[48];
    int n = ksnprintf(line, sizeof line, "  # log marker %u\n", sys_time());
    struct cap_info info;
    UASSERT_EQ(sys_cap_info(s_log, &info), 0); // base: the log's head
    struct log_read cur = { info.base, 0, 0 };
    UASSERT_EQ(sys_debug_write(line, n), n);
    int got = sys_log_read(s_log, &cur, text, sizeof text);
    UEXPECT_EQ(got, n); // nothing else was logged
    UEXPECT_TRUE(got > 0 && contains(text, got, line));
    UEXPECT_UEQ(cur.pos, info.base + n);
    UEXPECT_UEQ(cur.lost, 0);
    // Nothing new: nothing read, the position stays.
    UEXPECT_EQ(sys_log_read(s_log, &cur, text, sizeof text), 0);
    UEXPECT_UEQ(cur.pos, info.base + n);
    UEXPECT_EQ(sys_log_read(s_log, &cur, text, 0), 0);
    UEXPECT_UEQ(cur.pos, info.base + n);
}

// A reader in step reads on from its position and loses nothing; one left
// behind the ring's oldest text skips to it and adds the gap to lost.
UTEST(log_read_position_lost_dropped)
{
    static char text[64], again[64];
    struct cap_info info;
    UASSERT_EQ(sys_cap_info(s_log, &info), 0);
    unsigned head = info.base;
    unsigned oldest = head > LOG_RING_SIZE ? head - LOG_RING_SIZE : 0;
    UASSERT_GT(head, 64);
    struct log_read cur = { head - 40, 3, 0xDEAD };
    UEXPECT_EQ(sys_log_read(s_log, &cur, text, 16), 16);
    UEXPECT_EQ(sys_log_read(s_log, &cur, text + 16, sizeof text - 16), 24);
    UEXPECT_UEQ(cur.pos, head);
    UEXPECT_UEQ(cur.lost, 3); // added to, not set
    UEXPECT_UEQ(cur.dropped, oldest);
    struct log_read whole = { head - 40, 0, 0 };
    UEXPECT_EQ(sys_log_read(s_log, &whole, again, sizeof again), 40);
    UEXPECT_MEMEQ(again, text, 40);
    // From the very start: everything before the oldest byte is lost.
    struct log_read behind = { 0, 5, 0 };
    unsigned want = head - oldest < sizeof text ? head - oldest : sizeof text;
    UEXPECT_EQ(sys_log_read(s_log, &behind, text, sizeof text), (int)want);
    UEXPECT_UEQ(behind.lost, 5 + oldest);
    UEXPECT_UEQ(behind.pos, oldest + want);
    UEXPECT_UEQ(behind.dropped, oldest);
    utest_note("log head %u, oldest %u", head, oldest);
}

UTEST(log_read_refusals)
{
    static char text[64];
    int no_use = sys_cap_dup(s_log, CAP_GRANT, 0);
    UASSERT_GT(no_use, 0);
    struct log_read cur = { 0, 0, 0 };
    UEXPECT_EQ(sys_log_read(no_use, &cur, text, sizeof text), -EPERM);
    UEXPECT_EQ(sys_log_read(s_com1, &cur, text, sizeof text), -EBADF);
    UEXPECT_EQ(sys_console_take(no_use), -EPERM);
    UEXPECT_EQ(sys_console_take(s_vga), -EBADF);
    UEXPECT_EQ(sys_cap_close(no_use), 0);
    UEXPECT_EQ(sys_log_read(s_log, (struct log_read *)0xC0000000u, text, 16), -EFAULT);
    UEXPECT_EQ(sys_log_read(s_log, NULL, text, 16), -EFAULT);
    UEXPECT_EQ(sys_log_read(s_log, &cur, (char *)0xC0000000u, 16), -EFAULT);
    UEXPECT_EQ(sys_log_read(s_log, &cur, (char *)((uintptr_t)_end - 8), 16), -EFAULT);
    UEXPECT_UEQ(cur.pos, 0); // a failed read moves nothing
    UEXPECT_UEQ(cur.lost, 0);
}

// The log bound to an endpoint notifies within a few ticks of new text,
// and not without it.
UTEST(log_notifies_after_a_debug_write)
{
    static const char line[] = "  # a line for the log's notification\n";
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    UEXPECT_EQ(sys_notify_bind(s_log, ep, LOG_BADGE), 0);
    struct received r;
    recv_within(ep, QUIET_TICKS, &r); // for what was printed before the bind
    UEXPECT_EQ(recv_within(ep, QUIET_TICKS, &r), -ETIMEDOUT);
    UASSERT_EQ(sys_debug_write(line, sizeof line - 1), (int)sizeof line - 1);
    UEXPECT_EQ(recv_within(ep, NOTIFY_TICKS, &r), LOG_BADGE);
    UEXPECT_UEQ(r.msg.w0, IPC_NOTIFICATION);
    UEXPECT_EQ(r.msg.reply, 0);
    UEXPECT_UEQ(r.len, 0);
    // Unbound, it is silent.
    UEXPECT_EQ(sys_notify_bind(s_log, 0, 0), 0);
    UASSERT_EQ(sys_debug_write(line, sizeof line - 1), (int)sizeof line - 1);
    UEXPECT_EQ(recv_within(ep, QUIET_TICKS, &r), -ETIMEDOUT);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// In test mode the devices carry KTAP: taking the console changes nothing
// (this suite's later lines on the serial line show it too).
UTEST(console_take_is_a_no_op_in_test_mode)
{
    int h = sys_cap_dup(s_log, CAP_USE, 0);
    UASSERT_GT(h, 0);
    UEXPECT_EQ(sys_console_take(h), 0);
    if (s_screen_mapped) {
        char marker[48];
        note_marker(marker, sizeof marker, "console");
        UEXPECT_TRUE(screen_shows(marker));
    }
    UEXPECT_EQ(sys_cap_close(h), 0);
}

// ---- SYS_THREAD_LIST ---------------------------------------------------------------------

static struct thread_info s_threads[THREADS_MAX];

// The entry of thread tid in s_threads[0, n), or NULL.
static const struct thread_info *
thread_find(unsigned n, unsigned tid)
{
    for (unsigned i = 0; i < n; i++)
        if (s_threads[i].tid == tid)
            return &s_threads[i];
    return NULL;
}

static void
expect_sensible(const struct thread_info *t)
{
    UEXPECT_UEQ(t->block_size, KSTACK_SIZE);
    UEXPECT_UGT(t->stack_in_use, 0);
    UEXPECT_ULT(t->stack_in_use, t->block_size);
    UEXPECT_ULE(t->stack_peak, t->block_size);
    UEXPECT_UGT(t->stack_peak, 0);
    UEXPECT_UEQ(t->stack_peak, t->block_size - t->stack_low_water);
    UEXPECT_ULE(t->arena_in_use, t->arena_peak);
    UEXPECT_UEQ(t->collisions, 0);
}

static int
wait_on(void *arg)
{
    struct ipc_words w;
    return sys_ipc_recv((int)(uintptr_t)arg, &w, NULL) >= 0 ? 0 : 1;
}

UTEST(thread_list_shows_the_caller_and_others)
{
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    int waiter = thread_spawn(wait_on, (void *)(uintptr_t)ep, s_stacks[1], THREAD_STACK);
    UASSERT_GT(waiter, 0);
    struct child c = { 0, 0 };
    UASSERT_EQ(child_start(&c, "echo", 0), 0);
    struct cap_info child_info, waiter_info;
    UASSERT_EQ(sys_cap_info(c.proc, &child_info), 0);
    UASSERT_EQ(sys_cap_info(waiter, &waiter_info), 0);
    // Both block soon, but how soon depends on the other CPUs' load: the
    // list is taken again, a tick apart, until both are seen blocked.
    unsigned me = (unsigned)sys_gettid();
    int n = 0;
    const struct thread_info *self = NULL, *other = NULL, *child = NULL;
    for (int tick = 0; tick < 200; tick++) {
        n = sys_thread_list(s_threads, THREADS_MAX);
        UASSERT_GT(n, 0);
        self = thread_find((unsigned)n, me);
        other = thread_find((unsigned)n, waiter_info.base);
        child = thread_find((unsigned)n, child_info.base);
        if (other && child && other->state == THREAD_STATE_BLOCKED &&
            child->state == THREAD_STATE_BLOCKED)
            break;
        sys_sleep(1);
    }
    if (UEXPECT_TRUE(self)) {
        UEXPECT_UEQ(self->pid, me); // the first thread's id is the process's
        UEXPECT_UEQ(self->state, THREAD_STATE_RUNNABLE);
        UEXPECT_STREQ(self->process, "test_dev_mechan"); // 15 characters kept
        UEXPECT_STREQ(self->name, "test_dev_mechan");
        UEXPECT_UGT(self->kernel_entries, 0);
        expect_sensible(self);
    }
    if (UEXPECT_TRUE(other)) {
        UEXPECT_UEQ(other->pid, me);
        UEXPECT_UEQ(other->state, THREAD_STATE_BLOCKED);
        UEXPECT_STREQ(other->process, "test_dev_mechan");
        expect_sensible(other);
    }
    if (UEXPECT_TRUE(child)) {
        UEXPECT_UEQ(child->pid, child_info.base);
        UEXPECT_UEQ(child->state, THREAD_STATE_BLOCKED);
        UEXPECT_STREQ(child->process, "dev_child");
        UEXPECT_STREQ(child->name, "dev_child");
        expect_sensible(child);
    }
    bool kernel_thread = false;
    for (int i = 0; i < n; i++) {
        kernel_thread |= s_threads[i].pid == 0 && s_threads[i].process[0] == '\0';
        if (i > 0)
            UEXPECT_UGT(s_threads[i].tid, s_threads[i - 1].tid); // in tid order
    }
    UEXPECT_TRUE(kernel_thread);
    char args[8];
    struct ipc_buf buf = { args, 0, sizeof args, 0 };
    struct ipc_words reply;
    UEXPECT_EQ(sys_ipc_call(c.ep, 0, 0, &buf, &reply), 0); // it answers and ends
    UEXPECT_EQ(child_finish(&c), 0);
    UEXPECT_EQ(sys_ipc_send(ep, 1, 2, NULL), 0);
    UEXPECT_EQ(sys_wait(waiter, WAIT_TICKS), 0);
    UEXPECT_EQ(sys_cap_close(waiter), 0);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// Its figures move: kernel entries with each call, ticks while it runs.
UTEST(thread_list_figures_move)
{
    unsigned me = (unsigned)sys_gettid();
    int n = sys_thread_list(s_threads, THREADS_MAX);
    UASSERT_GT(n, 0);
    const struct thread_info *self = thread_find((unsigned)n, me);
    UASSERT_TRUE(self);
    struct thread_info first = *self;
    unsigned start = sys_time();
    while (sys_time() - start < 5)
        ; // runs through five ticks
    n = sys_thread_list(s_threads, THREADS_MAX);
    UASSERT_GT(n, 0);
    self = thread_find((unsigned)n, me);
    UASSERT_TRUE(self);
    UEXPECT_UGT(self->kernel_entries, first.kernel_entries + 1);
    UEXPECT_UGT(self->ticks, first.ticks);
}

UTEST(thread_list_counts_and_refusals)
{
    struct sysinfo info;
    UASSERT_TRUE(sysinfo_settled(&info, SETTLE_TICKS));
    int n = sys_thread_list(NULL, 0);
    UEXPECT_EQ(n, (int)info.threads);
    UEXPECT_EQ(sys_thread_list((struct thread_info *)0xC0000000u, 0), n); // max 0: no copy
    // Only max are stored.
    memset(s_threads, 0xA5, 3 * sizeof s_threads[0]);
    UEXPECT_EQ(sys_thread_list(s_threads, 2), n);
    UEXPECT_UNE(s_threads[1].tid, 0xA5A5A5A5u);
    UEXPECT_UEQ(s_threads[2].tid, 0xA5A5A5A5u);
    UEXPECT_EQ(sys_thread_list(NULL, 1), -EFAULT);
    UEXPECT_EQ(sys_thread_list((struct thread_info *)0xC0000000u, 1), -EFAULT);
    UEXPECT_EQ(sys_thread_list((struct thread_info *)((uintptr_t)_end - 8), 1), -EFAULT);
}

// ---- SYS_SPAWN's argument string ------------------------------------------------------

// Runs dev_child with args; returns its exit code and stores what it read
// as its argument string in out (its length in *len, or the call's error).
static int
echo_args(const char *args, char *out, unsigned size, int *len)
{
    struct child c = { 0, 0 };
    int err = child_start(&c, args, 0);
    if (err) {
        *len = err;
        return err;
    }
    struct ipc_buf buf = { out, 0, size, 0 };
    struct ipc_words reply;
    int r = sys_ipc_call(c.ep, 0, 0, &buf, &reply);
    *len = r ? r : (int)buf.len;
    if (r == 0 && (int)reply.w0 != *len)
        *len = -EINVAL; // its count and its payload disagree
    return child_finish(&c);
}

UTEST(spawn_args_reach_the_child)
{
    static char got[IPC_BUF_MAX], longest[SPAWN_ARGS_MAX];
    int len;
    UEXPECT_EQ(echo_args("echo a few words", got, sizeof got, &len), 0);
    UEXPECT_EQ(len, 16);
    UEXPECT_MEMEQ(got, "echo a few words", 16);
    UEXPECT_EQ(echo_args(NULL, got, sizeof got, &len), 0); // none: ""
    UEXPECT_EQ(len, 0);
    UEXPECT_EQ(echo_args("", got, sizeof got, &len), 0);
    UEXPECT_EQ(len, 0);
    // The longest: SPAWN_ARGS_MAX bytes with its NUL.
    memcpy(longest, "echo ", 5);
    for (unsigned i = 5; i < SPAWN_ARGS_MAX - 1; i++)
        longest[i] = (char)('a' + i % 26);
    longest[SPAWN_ARGS_MAX - 1] = '\0';
    UEXPECT_EQ(echo_args(longest, got, sizeof got, &len), 0);
    UEXPECT_EQ(len, SPAWN_ARGS_MAX - 1);
    UEXPECT_MEMEQ(got, longest, SPAWN_ARGS_MAX - 1);
}

UTEST(spawn_args_refusals)
{
    static char too_long[SPAWN_ARGS_MAX + 1];
    struct sysinfo before;
    UASSERT_TRUE(sysinfo_settled(&before, SETTLE_TICKS));
    int module = module_find("dev_child");
    UASSERT_GT(module, 0);
    memset(too_long, 'x', SPAWN_ARGS_MAX);
    too_long[SPAWN_ARGS_MAX] = '\0';
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    UEXPECT_EQ(sys_spawn_args(module, &ep, 1, too_long), -ENAMETOOLONG);
    UEXPECT_EQ(sys_spawn_args(module, &ep, 1, (const char *)0xC0000000u), -EFAULT);
    UEXPECT_EQ(sys_spawn_args(module, &ep, 1, (const char *)0x10000000u), -EFAULT);
    UEXPECT_EQ(sys_cap_close(ep), 0);
    EXPECT_COUNTS_BACK(&before, SETTLE_TICKS); // nothing was started
}

// ---- The end ------------------------------------------------------------------------------

UTEST(nothing_left_behind)
{
    EXPECT_COUNTS_BACK(&s_base, SETTLE_TICKS);
}

int
main(void)
{
    return utest_run("test_dev_mechanisms");
}
