// IPC through endpoints, with another process (user/ipc_echo.c) and between
// threads of this process: payloads, badges, reply handles, handles carried
// in messages and every IPC error path, through both int 0x80 and sysenter.
// The last test checks that every handle and object the others made is gone.
#include "ipc_echo.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define NO_SUCH_HANDLE 0x7FFFFFF0
#define STACK_TOP      0xBFFF0000u // the initial stack ends here (ABI)
#define THREAD_STACK   4096
#define WAIT_TICKS     500
#define SETTLE_TICKS   300

extern char _end[]; // the first page past the image (user/user.ld)

static int s_echo_proc = -1;      // ipc_echo's process handle
static int s_echo = -1;           // the endpoint it serves (CAP_SEND | CAP_GRANT here)
static struct sysinfo s_baseline; // the counters before ipc_echo started

static uint8_t s_stacks[2][THREAD_STACK] ALIGNED(16);

// Fills buf[0, n) with a pattern that differs at every offset up to 256.
static void
fill(uint8_t *buf, unsigned n, unsigned seed)
{
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)(i + seed);
}

// Whether b[0, n) is a[0, n) reversed.
static bool
is_reversed(const uint8_t *a, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (b[i] != a[n - 1 - i])
            return false;
    return true;
}

// Waits for a thread or process to end and closes its handle; returns its
// exit code (or a -errno).
static int
finish(int handle)
{
    int code = sys_wait(handle, WAIT_TICKS);
    if (code != -ETIMEDOUT)
        UEXPECT_EQ(sys_cap_close(handle), 0);
    return code;
}

// Whether a thread or process is still running.
static bool
running(int handle)
{
    return sys_wait(handle, 0) == -ETIMEDOUT;
}

// ---- With ipc_echo --------------------------------------------------------------

UTEST(spawn_echo)
{
    UASSERT_TRUE(sysinfo_settled(&s_baseline, SETTLE_TICKS));
    s_echo_proc = echo_start(&s_echo, 0);
    UASSERT_GT(s_echo_proc, 0);
    struct cap_info info;
    UEXPECT_EQ(sys_cap_info(s_echo, &info), 0);
    UEXPECT_UEQ(info.type, CAP_TYPE_ENDPOINT);
    UEXPECT_UEQ(info.rights, CAP_SEND | CAP_GRANT);
}

UTEST(call_words)
{
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_words reply = { 0, 0, -1 };
        UEXPECT_EQ(sys_ipc_call(s_echo, 5, 7, NULL, &reply), 0);
        UEXPECT_UEQ(reply.w0, 6);
        UEXPECT_UEQ(reply.w1, 14);
        UEXPECT_EQ(sys_ipc_call(s_echo, 0xFFFFFFFFu, 0x80000001u, NULL, &reply), 0);
        UEXPECT_UEQ(reply.w0, 0);
        UEXPECT_UEQ(reply.w1, 2);
    }
}

UTEST(call_with_buffer)
{
    FOR_EACH_SYSCALL_MODE() {
        char text[32] = "hello, echo";
        struct ipc_buf buf = { text, 11, sizeof text, 0 };
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, &reply), 0);
        UEXPECT_UEQ(buf.len, 11);
        UEXPECT_MEMEQ(text, "ohce ,olleh", 11);
        UEXPECT_UEQ(reply.w0, 2);
        UEXPECT_UEQ(reply.w1, 4);
        UEXPECT_EQ(buf.handle, 0); // none sent, none back
    }
}

UTEST(call_with_empty_buffer)
{
    FOR_EACH_SYSCALL_MODE() {
        char text[8] = "unread";
        struct ipc_buf buf = { text, 0, sizeof text, 0 };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), 0);
        UEXPECT_UEQ(buf.len, 0);
        UEXPECT_MEMEQ(text, "unread", 7);
    }
}

UTEST(call_with_ipc_buf_max)
{
    static uint8_t sent[IPC_BUF_MAX], data[IPC_BUF_MAX];
    FOR_EACH_SYSCALL_MODE() {
        fill(sent, IPC_BUF_MAX, 3);
        memcpy(data, sent, IPC_BUF_MAX);
        struct ipc_buf buf = { data, IPC_BUF_MAX, IPC_BUF_MAX, 0 };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), 0);
        UEXPECT_UEQ(buf.len, IPC_BUF_MAX);
        UEXPECT_TRUE(is_reversed(sent, data, IPC_BUF_MAX));
    }
}

UTEST(call_over_ipc_buf_max)
{
    static uint8_t data[IPC_BUF_MAX + 1];
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_buf buf = { data, IPC_BUF_MAX + 1, sizeof data, 0 };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), -EMSGSIZE);
        UEXPECT_EQ(sys_ipc_send(s_echo, 1, 2, &buf), -EMSGSIZE);
        buf.len = 0xFFFFFFFFu;
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), -EMSGSIZE);
        // The echo never saw those and still answers.
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_echo, 10, 0, NULL, &reply), 0);
        UEXPECT_UEQ(reply.w0, 11);
    }
}

UTEST(call_bad_ipc_buf_pointers)
{
    static const uintptr_t bad[] = { 0xC0000000u, 0xC0100000u, 0xFFFFFFFFu, 0x10000000u,
                                     0xBFFFFFF8u };
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
            if (!UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, (struct ipc_buf *)bad[i], NULL), -EFAULT))
                utest_note("  struct ipc_buf at %#x", (unsigned)bad[i]);
        // Runs past the end of the image: only its first 4 bytes are mapped.
        struct ipc_buf *edge = (struct ipc_buf *)((uintptr_t)_end - 4);
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, edge, NULL), -EFAULT);
    }
}

UTEST(call_bad_data_pointers)
{
    static const struct {
        uintptr_t addr;
        unsigned len;
    } bad[] = {
        { 0, 16 },           { 0xC0000000u, 16 }, { 0xC0100000u, 16 },    { 0xFFFFFFFFu, 16 },
        { 0x10000000u, 16 }, { 0xBFFFFFF0u, 64 }, { STACK_TOP - 16, 64 },
    };
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
            struct ipc_buf buf = { (void *)bad[i].addr, bad[i].len, bad[i].len, 0 };
            if (!UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), -EFAULT))
                utest_note("  data at %#x, length %u", (unsigned)bad[i].addr, bad[i].len);
        }
        struct ipc_buf past = { (void *)((uintptr_t)_end - 16), 64, 64, 0 };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &past, NULL), -EFAULT);
        UEXPECT_EQ(sys_ipc_send(s_echo, 1, 2, &past), -EFAULT);
    }
}

// A handle sent with a call comes back with the reply (ipc_echo passes it
// on): a copy naming the same endpoint, badge and rights kept, and still
// derived from ours though ipc_echo closed its own copy in between.
UTEST(call_carries_a_handle_there_and_back)
{
    FOR_EACH_SYSCALL_MODE() {
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        int badged = sys_cap_dup(ep, CAP_SEND | CAP_GRANT, 77);
        UASSERT_GT(badged, 0);
        struct ipc_buf buf = { NULL, 0, 0, badged };
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, &reply), 0);
        UEXPECT_UEQ(reply.w0, 2);
        int back = buf.handle;
        struct cap_info info;
        if (UEXPECT_GT(back, 0)) {
            UEXPECT_NE(back, badged);
            UEXPECT_EQ(sys_cap_info(back, &info), 0);
            UEXPECT_UEQ(info.type, CAP_TYPE_ENDPOINT);
            UEXPECT_UEQ(info.rights, CAP_SEND | CAP_GRANT);
            UEXPECT_UEQ(info.badge, 77);
        }
        // The next call is served after ipc_echo closed its copy.
        UEXPECT_EQ(sys_ipc_call(s_echo, 0, 0, NULL, &reply), 0);
        UEXPECT_EQ(sys_cap_revoke(ep), 2); // badged, and what came back
        UEXPECT_EQ(sys_cap_info(back, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(badged, &info), -EBADF);
        UEXPECT_EQ(sys_cap_close(ep), 0);
    }
}

// A handle may be passed only with CAP_GRANT on it and on the endpoint, and
// only if it is open.
UTEST(call_carrying_a_handle_refused)
{
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    int no_grant = sys_cap_dup(ep, CAP_SEND, 0);
    int echo_no_grant = sys_cap_dup(s_echo, CAP_SEND, 0);
    UASSERT_GT(no_grant, 0);
    UASSERT_GT(echo_no_grant, 0);
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_buf buf = { NULL, 0, 0, no_grant };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), -EPERM);
        UEXPECT_EQ(sys_ipc_send(s_echo, 1, 2, &buf), -EPERM);
        buf.handle = ep;
        UEXPECT_EQ(sys_ipc_call(echo_no_grant, 1, 2, &buf, NULL), -EPERM);
        buf.handle = NO_SUCH_HANDLE;
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), -EBADF);
        // Without a handle the same endpoint handle still calls.
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(echo_no_grant, 3, 0, NULL, &reply), 0);
        UEXPECT_UEQ(reply.w0, 4);
    }
    UEXPECT_EQ(sys_cap_close(echo_no_grant), 0);
    UEXPECT_EQ(sys_cap_close(no_grant), 0);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// Handles that are not open, or that name something else than an endpoint.
UTEST(bad_endpoint_handles)
{
    int closed = sys_endpoint_create();
    UASSERT_GT(closed, 0);
    UASSERT_EQ(sys_cap_close(closed), 0);
    int module = module_find("ipc_echo");
    UASSERT_GT(module, 0);
    const int bad[] = { 0, -1, NO_SUCH_HANDLE, closed, module, s_echo_proc };
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
            struct ipc_words w;
            bool ok = UEXPECT_EQ(sys_ipc_send(bad[i], 1, 2, NULL), -EBADF);
            ok &= UEXPECT_EQ(sys_ipc_call(bad[i], 1, 2, NULL, &w), -EBADF);
            ok &= UEXPECT_EQ(sys_ipc_recv(bad[i], &w, NULL), -EBADF);
            if (!ok)
                utest_note("  handle %d", bad[i]);
        }
    }
}

// A closed handle's number stays dead when its slot holds a new endpoint:
// with the table full but for that slot, the new endpoint must take it.
UTEST(stale_handle_after_close)
{
    static int eps[CAPS_PER_PROCESS];
    unsigned n = 0;
    int r;
    while (n < CAPS_PER_PROCESS && (r = sys_endpoint_create()) > 0)
        eps[n++] = r;
    UASSERT_GT(n, 0);
    FOR_EACH_SYSCALL_MODE() {
        int old = eps[n - 1];
        UEXPECT_EQ(sys_cap_close(old), 0);
        eps[n - 1] = sys_endpoint_create();
        UASSERT_GT(eps[n - 1], 0);
        UEXPECT_NE(eps[n - 1], old);
        struct cap_info info;
        if (!UEXPECT_EQ(sys_cap_info(old, &info), -EBADF))
            break; // the old number names the new endpoint: the calls below would wait
        struct ipc_words w;
        UEXPECT_EQ(sys_ipc_send(old, 1, 2, NULL), -EBADF);
        UEXPECT_EQ(sys_ipc_call(old, 1, 2, NULL, &w), -EBADF);
        UEXPECT_EQ(sys_ipc_recv(old, &w, NULL), -EBADF);
        UEXPECT_EQ(sys_ipc_reply_recv(0, 0, 0, NULL, old, &w), -EBADF);
    }
    for (unsigned i = 0; i < n; i++)
        UEXPECT_EQ(sys_cap_close(eps[i]), 0);
}

// Sending needs CAP_SEND, receiving CAP_RECV; checked before any waiting.
UTEST(rights_on_endpoints)
{
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    int send_only = sys_cap_dup(ep, CAP_SEND, 0);
    int recv_only = sys_cap_dup(ep, CAP_RECV, 0);
    UASSERT_GT(send_only, 0);
    UASSERT_GT(recv_only, 0);
    // With more rights than asked for, the calls below would wait for ever.
    struct cap_info info;
    UASSERT_EQ(sys_cap_info(send_only, &info), 0);
    UASSERT_EQ(info.rights, CAP_SEND);
    UASSERT_EQ(sys_cap_info(recv_only, &info), 0);
    UASSERT_EQ(info.rights, CAP_RECV);
    UASSERT_EQ(sys_cap_info(s_echo, &info), 0);
    UASSERT_EQ(info.rights, CAP_SEND | CAP_GRANT);
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_words w;
        UEXPECT_EQ(sys_ipc_send(recv_only, 1, 2, NULL), -EPERM);
        UEXPECT_EQ(sys_ipc_call(recv_only, 1, 2, NULL, &w), -EPERM);
        UEXPECT_EQ(sys_ipc_recv(send_only, &w, NULL), -EPERM);
        UEXPECT_EQ(sys_ipc_recv(s_echo, &w, NULL), -EPERM);
    }
    UEXPECT_EQ(sys_cap_close(recv_only), 0);
    UEXPECT_EQ(sys_cap_close(send_only), 0);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

UTEST(reply_through_what_is_not_a_reply_handle)
{
    int module = module_find("ipc_echo");
    UASSERT_GT(module, 0);
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_ipc_reply(s_echo, 1, 2, NULL), -EBADF);
        UEXPECT_EQ(sys_ipc_reply(s_echo_proc, 1, 2, NULL), -EBADF);
        UEXPECT_EQ(sys_ipc_reply(module, 1, 2, NULL), -EBADF);
        UEXPECT_EQ(sys_ipc_reply(0, 1, 2, NULL), -EBADF);
        UEXPECT_EQ(sys_ipc_reply(NO_SUCH_HANDLE, 1, 2, NULL), -EBADF);
    }
}

// ---- Between two threads of this process --------------------------------------------
// The threads share the process's handles: each uses the endpoint directly.

// What a helper thread saw and did.
struct seen {
    int badge; // ipc_recv's result
    struct ipc_words msg;
    unsigned len;
    char data[8];
    int result; // its last call's result
    int second; // another result, where the test names one
};

static struct seen s_seen;
static int s_ep; // the endpoint the helpers use

// Receives once on s_ep with an 8-byte buffer, then sends w0 + 100,
// w1 + 100 back on it (unbadged).
static int
receive_small(void *arg)
{
    char data[8];
    struct ipc_buf buf = { data, 0, sizeof data, 0 };
    (void)arg;
    s_seen.badge = sys_ipc_recv(s_ep, &s_seen.msg, &buf);
    s_seen.len = buf.len;
    memcpy(s_seen.data, data, sizeof data);
    s_seen.result = sys_ipc_send(s_ep, s_seen.msg.w0 + 100, s_seen.msg.w1 + 100, NULL);
    return 0;
}

UTEST(threads_send_recv_and_small_size)
{
    FOR_EACH_SYSCALL_MODE() {
        char big[16] = "sixteen bytes!!", small[8] = "8 bytes";
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        int badged = sys_cap_dup(s_ep, CAP_SEND, 0x51);
        UASSERT_GT(badged, 0);
        int thread = thread_spawn(receive_small, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        // More than the receiver's size: refused, and the receiver keeps waiting.
        struct ipc_buf buf = { big, sizeof big, 0, 0 };
        UEXPECT_EQ(sys_ipc_send(badged, 1, 2, &buf), -EMSGSIZE);
        struct ipc_buf fits = { small, sizeof small, 0, 0 };
        UEXPECT_EQ(sys_ipc_send(badged, 3, 4, &fits), 0);
        struct ipc_words back = { 0, 0, -1 };
        UEXPECT_EQ(sys_ipc_recv(s_ep, &back, NULL), 0); // unbadged
        UEXPECT_UEQ(back.w0, 103);
        UEXPECT_UEQ(back.w1, 104);
        UEXPECT_EQ(back.reply, 0); // a send, not a call
        UEXPECT_EQ(s_seen.badge, 0x51);
        UEXPECT_UEQ(s_seen.msg.w0, 3);
        UEXPECT_UEQ(s_seen.msg.w1, 4);
        UEXPECT_EQ(s_seen.msg.reply, 0);
        UEXPECT_UEQ(s_seen.len, sizeof small);
        UEXPECT_MEMEQ(s_seen.data, small, sizeof small);
        UEXPECT_EQ(s_seen.result, 0);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(sys_cap_close(badged), 0);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// Sends its argument, a handle, on that handle, with w0 = the handle.
static int
send_tag(void *arg)
{
    int handle = (int)(uintptr_t)arg;
    return sys_ipc_send(handle, (unsigned)handle, 0, NULL) == 0 ? 0 : 1;
}

// Two threads send at once on two endpoints: receiving on one takes
// exactly its message.
UTEST(recv_on_a_chosen_endpoint)
{
    FOR_EACH_SYSCALL_MODE() {
        int a = sys_endpoint_create(), b = sys_endpoint_create();
        UASSERT_GT(a, 0);
        UASSERT_GT(b, 0);
        int ta = thread_spawn(send_tag, (void *)(uintptr_t)a, s_stacks[0], THREAD_STACK);
        int tb = thread_spawn(send_tag, (void *)(uintptr_t)b, s_stacks[1], THREAD_STACK);
        UASSERT_GT(ta, 0);
        UASSERT_GT(tb, 0);
        struct ipc_words w;
        UEXPECT_EQ(sys_ipc_recv(b, &w, NULL), 0);
        UEXPECT_UEQ(w.w0, b);
        UEXPECT_EQ(sys_ipc_recv(a, &w, NULL), 0);
        UEXPECT_UEQ(w.w0, a);
        UEXPECT_EQ(finish(ta), 0);
        UEXPECT_EQ(finish(tb), 0);
        UEXPECT_EQ(sys_cap_close(a), 0);
        UEXPECT_EQ(sys_cap_close(b), 0);
    }
}

// Two threads send on one endpoint through differently badged handles:
// the receiver tells them apart by the badge alone.
UTEST(badges_tell_senders_apart)
{
    FOR_EACH_SYSCALL_MODE() {
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        int one = sys_cap_dup(ep, CAP_SEND, 1000), two = sys_cap_dup(ep, CAP_SEND, BADGE_MAX);
        UASSERT_GT(one, 0);
        UASSERT_GT(two, 0);
        int t1 = thread_spawn(send_tag, (void *)(uintptr_t)one, s_stacks[0], THREAD_STACK);
        int t2 = thread_spawn(send_tag, (void *)(uintptr_t)two, s_stacks[1], THREAD_STACK);
        UASSERT_GT(t1, 0);
        UASSERT_GT(t2, 0);
        unsigned seen = 0;
        for (int i = 0; i < 2; i++) {
            struct ipc_words w;
            int badge = sys_ipc_recv(ep, &w, NULL);
            if ((int)w.w0 == one && UEXPECT_EQ(badge, 1000))
                seen |= 1;
            else if ((int)w.w0 == two && UEXPECT_EQ(badge, (int)BADGE_MAX))
                seen |= 2;
        }
        UEXPECT_UEQ(seen, 3);
        UEXPECT_EQ(finish(t1), 0);
        UEXPECT_EQ(finish(t2), 0);
        UEXPECT_EQ(sys_cap_close(one), 0);
        UEXPECT_EQ(sys_cap_close(two), 0);
        UEXPECT_EQ(sys_cap_close(ep), 0);
    }
}

// Serves one call on s_ep: replies w0 * 3 and the bytes upper-cased.
static int
serve_once(void *arg)
{
    char data[32];
    struct ipc_buf buf = { data, 0, sizeof data, 0 };
    struct cap_info info = { 0 };
    (void)arg;
    s_seen.badge = sys_ipc_recv(s_ep, &s_seen.msg, &buf);
    if (s_seen.badge < 0)
        return 1;
    s_seen.second = sys_cap_info(s_seen.msg.reply, &info) == 0 ? (int)info.type : -1;
    for (unsigned i = 0; i < buf.len; i++)
        if (data[i] >= 'a' && data[i] <= 'z')
            data[i] = (char)(data[i] - 'a' + 'A');
    s_seen.result = sys_ipc_reply(s_seen.msg.reply, s_seen.msg.w0 * 3, s_seen.msg.w1, &buf);
    return 0;
}

UTEST(threads_call_reply)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        int badged = sys_cap_dup(s_ep, CAP_SEND, 9);
        UASSERT_GT(badged, 0);
        int thread = thread_spawn(serve_once, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        char text[32] = "quiet";
        struct ipc_buf buf = { text, 5, sizeof text, 0 };
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(badged, 14, 9, &buf, &reply), 0);
        UEXPECT_UEQ(reply.w0, 42);
        UEXPECT_UEQ(reply.w1, 9);
        UEXPECT_UEQ(buf.len, 5);
        UEXPECT_MEMEQ(text, "QUIET", 5);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.badge, 9);
        UEXPECT_GT(s_seen.msg.reply, 0);
        UEXPECT_EQ(s_seen.second, CAP_TYPE_REPLY);
        UEXPECT_EQ(s_seen.result, 0);
        // The reply closed the reply handle.
        struct cap_info info;
        UEXPECT_EQ(sys_cap_info(s_seen.msg.reply, &info), -EBADF);
        UEXPECT_EQ(sys_cap_close(badged), 0);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// Sends "abc" on s_ep twice (waiting each time until it is taken).
static int
send_twice(void *arg)
{
    struct ipc_buf buf = { "abc", 3, 0, 0 };
    (void)arg;
    s_seen.result = sys_ipc_send(s_ep, 1, 0, &buf);
    s_seen.second = sys_ipc_send(s_ep, 2, 0, &buf);
    return 0;
}

// A receive's buffers, once checked, are not checked again while nothing
// is unmapped (kernel/syscall/ipc.c, ipc_take_read_buffer); a check that
// fails halfway must not stand for them: the next receive with the first
// buffers gets its length written there, and the failed one's struct
// ipc_buf is left alone.
UTEST(a_failed_buffer_check_leaves_the_last_one_standing)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        int thread = thread_spawn(send_twice, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        char data[8];
        struct ipc_buf good = { data, 0xAAAA, sizeof data, 0 };
        struct ipc_buf bad = { (void *)fill, 0xBBBB, sizeof data, 0 }; // read-only text
        struct ipc_words msg;
        UEXPECT_EQ(sys_ipc_recv(s_ep, &msg, &good), 0);
        UEXPECT_UEQ(good.len, 3);
        UEXPECT_EQ(sys_ipc_recv(s_ep, &msg, &bad), -EFAULT);
        good.len = 0xAAAA;
        UEXPECT_EQ(sys_ipc_recv(s_ep, &msg, &good), 0);
        UEXPECT_UEQ(msg.w0, 2);
        UEXPECT_UEQ(good.len, 3);
        UEXPECT_UEQ(bad.len, 0xBBBB);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.result, 0);
        UEXPECT_EQ(s_seen.second, 0);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// Receives one call on s_ep and replies to it twice.
static int
reply_twice(void *arg)
{
    (void)arg;
    s_seen.badge = sys_ipc_recv(s_ep, &s_seen.msg, NULL);
    s_seen.result = sys_ipc_reply(s_seen.msg.reply, 1, 0, NULL);
    s_seen.second = sys_ipc_reply(s_seen.msg.reply, 2, 0, NULL);
    return 0;
}

UTEST(a_reply_handle_answers_once)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        int thread = thread_spawn(reply_twice, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_ep, 0, 0, NULL, &reply), 0);
        UEXPECT_UEQ(reply.w0, 1);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.result, 0);
        UEXPECT_EQ(s_seen.second, -EBADF);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// Receives one call on s_ep and closes its reply handle instead of answering.
static int
drop_the_call(void *arg)
{
    (void)arg;
    s_seen.badge = sys_ipc_recv(s_ep, &s_seen.msg, NULL);
    s_seen.result = sys_cap_close(s_seen.msg.reply);
    s_seen.second = sys_ipc_reply(s_seen.msg.reply, 1, 0, NULL);
    return 0;
}

UTEST(closing_a_reply_handle_fails_the_call)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        int thread = thread_spawn(drop_the_call, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        char text[8] = "kept";
        struct ipc_buf buf = { text, 0, sizeof text, 0 }; // room for a reply, none comes
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_ep, 0, 0, &buf, &reply), -EPIPE);
        UEXPECT_MEMEQ(text, "kept", 5);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.result, 0);
        UEXPECT_EQ(s_seen.second, -EBADF);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

#define SERVE_STOP 0x5709

// Serves calls on s_ep with reply_recv until SERVE_STOP: answers w0 + the
// caller's badge, and counts in s_seen.result the calls it answered.
static int
serve_with_reply_recv(void *arg)
{
    struct ipc_words msg = { 0, 0, 0 };
    int reply = 0;
    unsigned w0 = 0;
    (void)arg;
    for (;;) {
        int badge = sys_ipc_reply_recv(reply, w0, 0, NULL, s_ep, &msg);
        if (badge < 0)
            return 1;
        s_seen.result += reply != 0;
        if (msg.w0 == SERVE_STOP)
            return sys_ipc_reply(msg.reply, 0, 0, NULL) == 0 ? 0 : 1;
        reply = msg.reply;
        w0 = msg.w0 + (unsigned)badge;
    }
}

UTEST(reply_recv_serves_calls)
{
    enum { CALLS = 20 };
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        const int badges[2] = { sys_cap_dup(s_ep, CAP_SEND, 100),
                                sys_cap_dup(s_ep, CAP_SEND, 200) };
        UASSERT_GT(badges[0], 0);
        UASSERT_GT(badges[1], 0);
        int thread = thread_spawn(serve_with_reply_recv, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        unsigned good = 0;
        for (unsigned i = 0; i < CALLS; i++) {
            struct ipc_words reply = { 0, 0, 0 };
            int r = sys_ipc_call(badges[i & 1], i, 0, NULL, &reply);
            good += r == 0 && reply.w0 == i + ((i & 1) ? 200 : 100);
        }
        UEXPECT_UEQ(good, CALLS);
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_ep, SERVE_STOP, 0, NULL, &reply), 0);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.result, CALLS); // every one answered by a reply_recv
        UEXPECT_EQ(sys_cap_close(badges[0]), 0);
        UEXPECT_EQ(sys_cap_close(badges[1]), 0);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// Makes a plain send on s_ep, waits for nobody else, and records the result.
static int
send_and_record(void *arg)
{
    (void)arg;
    s_seen.result = sys_ipc_send(s_ep, 1, 2, NULL);
    return 0;
}

// reply_recv fails on a bad reply handle before it receives anything: the
// queued message stays for the next receive.
UTEST(reply_recv_with_a_bad_reply_handle)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        s_ep = sys_endpoint_create();
        UASSERT_GT(s_ep, 0);
        int thread = thread_spawn(send_and_record, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        sys_sleep(2); // the sender waits on s_ep
        struct ipc_words msg = { 0, 0, 0 };
        const int bad[2] = { NO_SUCH_HANDLE, s_ep }; // no handle; not a reply handle
        bool taken = false;
        for (unsigned i = 0; i < ARRAY_SIZE(bad) && !taken; i++) {
            int r = sys_ipc_reply_recv(bad[i], 0, 0, NULL, s_ep, &msg);
            if (!UEXPECT_EQ(r, -EBADF))
                taken = r >= 0; // the message went with it
        }
        UEXPECT_TRUE(taken || running(thread));
        if (!taken)
            UEXPECT_EQ(sys_ipc_reply_recv(0, 0, 0, NULL, s_ep, &msg), 0);
        UEXPECT_UEQ(msg.w0, 1);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.result, 0);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// A sender waiting on an endpoint gets -EPIPE when the last handle that
// could receive closes, and so does every later send or call.
UTEST(epipe_when_the_last_receiver_closes)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        s_ep = sys_cap_dup(ep, CAP_SEND, 0);
        int receiver = sys_cap_dup(ep, CAP_RECV, 0);
        UASSERT_GT(s_ep, 0);
        UASSERT_GT(receiver, 0);
        int thread = thread_spawn(send_and_record, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        sys_sleep(2);
        UEXPECT_EQ(sys_cap_close(ep), 0);
        sys_sleep(2);
        UEXPECT_TRUE(running(thread)); // `receiver` could still take it
        UEXPECT_EQ(sys_cap_close(receiver), 0);
        if (!UEXPECT_EQ(finish(thread), 0)) {
            // Still waiting, as the sends below would: closing its handle ends it.
            sys_cap_close(s_ep);
            finish(thread);
            break;
        }
        UEXPECT_EQ(s_seen.result, -EPIPE);
        struct ipc_words w;
        UEXPECT_EQ(sys_ipc_send(s_ep, 1, 2, NULL), -EPIPE);
        UEXPECT_EQ(sys_ipc_call(s_ep, 1, 2, NULL, &w), -EPIPE);
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
    }
}

// Receives on s_ep and records the result.
static int
recv_and_record(void *arg)
{
    struct ipc_words msg;
    (void)arg;
    s_seen.result = sys_ipc_recv(s_ep, &msg, NULL);
    return 0;
}

// A receiver waiting through a handle that is closed meanwhile returns -EBADF.
UTEST(closing_the_handle_a_receiver_waits_on)
{
    FOR_EACH_SYSCALL_MODE() {
        memset(&s_seen, 0, sizeof s_seen);
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        s_ep = sys_cap_dup(ep, CAP_RECV, 0);
        UASSERT_GT(s_ep, 0);
        int thread = thread_spawn(recv_and_record, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        sys_sleep(2);
        UEXPECT_TRUE(running(thread));
        UEXPECT_EQ(sys_cap_close(s_ep), 0);
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(s_seen.result, -EBADF);
        UEXPECT_EQ(sys_cap_close(ep), 0);
    }
}

// ---- A caller in another process ------------------------------------------------------

// ipc_echo given a second endpoint calls it first: killed while this
// process holds that call, its reply handle answers -EPIPE.
UTEST(reply_to_a_killed_caller)
{
    FOR_EACH_SYSCALL_MODE() {
        int hello = sys_endpoint_create();
        UASSERT_GT(hello, 0);
        int ep = -1;
        int proc = echo_start(&ep, hello);
        UASSERT_GT(proc, 0);
        struct ipc_words msg = { 0, 0, 0 };
        UEXPECT_EQ(sys_ipc_recv(hello, &msg, NULL), 0);
        UEXPECT_UEQ(msg.w0, ECHO_HELLO);
        UEXPECT_GT(msg.reply, 0);
        UEXPECT_EQ(sys_kill(proc), 0);
        UEXPECT_EQ(finish(proc), EXIT_KILLED);
        UEXPECT_EQ(sys_ipc_reply(msg.reply, 1, 2, NULL), -EPIPE);
        sys_cap_close(msg.reply); // whether the failed reply closed it is not said
        UEXPECT_EQ(sys_ipc_send(ep, 1, 2, NULL), -EPIPE);
        UEXPECT_EQ(sys_cap_close(ep), 0);
        UEXPECT_EQ(sys_cap_close(hello), 0);
    }
}

// ---- The end of the partner ----------------------------------------------------------

UTEST(echo_quits)
{
    struct ipc_words reply;
    UEXPECT_EQ(sys_ipc_call(s_echo, ECHO_QUIT, 0, NULL, &reply), 0);
    UEXPECT_UEQ(reply.w0, ECHO_QUIT + 1);
    UEXPECT_EQ(finish(s_echo_proc), 0);
    // It held the endpoint's one receive right.
    UEXPECT_EQ(sys_ipc_send(s_echo, 1, 2, NULL), -EPIPE);
    UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, NULL, &reply), -EPIPE);
    UEXPECT_EQ(sys_cap_close(s_echo), 0);
}

// Last: every thread, process, handle and object the tests made is gone.
UTEST(nothing_left_behind)
{
    struct sysinfo now;
    UASSERT_TRUE(sysinfo_settled(&now, SETTLE_TICKS));
    UEXPECT_UEQ(now.threads, s_baseline.threads);
    UEXPECT_UEQ(now.processes, s_baseline.processes);
    UEXPECT_UEQ(now.handles, s_baseline.handles);
    UEXPECT_UEQ(now.objects, s_baseline.objects);
    UEXPECT_UEQ(now.heap_live_blocks, s_baseline.heap_live_blocks);
}

int
main(void)
{
    return utest_run("test_ipc");
}
