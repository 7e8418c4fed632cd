// IPC between processes (with user/ipc_echo.c) and between threads of this
// process, and every IPC error path, through both int 0x80 and sysenter.
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define ECHO_QUIT       0xDEAD          // also in user/ipc_echo.c
#define NO_SUCH_TID     0x7FFFFFF0
#define STACK_TOP       0xBFFF0000u     // the initial stack ends here (ABI)
#define THREAD_STACK    4096

extern char _end[];                     // the first page past the image (user/user.ld)

static int s_self;                      // the main thread's tid
static int s_echo = -1;                 // ipc_echo's pid, the tid of its only thread

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

// ---- With ipc_echo --------------------------------------------------------------

UTEST(spawn_echo)
{
    int index = module_find("ipc_echo");
    UASSERT_GT(index, 0);
    s_echo = sys_spawn((unsigned)index);
    UEXPECT_GT(s_echo, 0);
}

UTEST(call_words)
{
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_words reply = { 0, 0 };
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
        struct ipc_buf buf = { text, 11, sizeof text };
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, &reply), 0);
        UEXPECT_UEQ(buf.len, 11);
        UEXPECT_MEMEQ(text, "ohce ,olleh", 11);
        UEXPECT_UEQ(reply.w0, 2);
        UEXPECT_UEQ(reply.w1, 4);
    }
}

UTEST(call_with_empty_buffer)
{
    FOR_EACH_SYSCALL_MODE() {
        char text[8] = "unread";
        struct ipc_buf buf = { text, 0, sizeof text };
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
        struct ipc_buf buf = { data, IPC_BUF_MAX, IPC_BUF_MAX };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), 0);
        UEXPECT_UEQ(buf.len, IPC_BUF_MAX);
        UEXPECT_TRUE(is_reversed(sent, data, IPC_BUF_MAX));
    }
}

UTEST(call_over_ipc_buf_max)
{
    static uint8_t data[IPC_BUF_MAX + 1];
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_buf buf = { data, IPC_BUF_MAX + 1, sizeof data };
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
    static const struct { uintptr_t addr; unsigned len; } bad[] = {
        { 0, 16 }, { 0xC0000000u, 16 }, { 0xC0100000u, 16 }, { 0xFFFFFFFFu, 16 },
        { 0x10000000u, 16 }, { 0xBFFFFFF0u, 64 }, { STACK_TOP - 16, 64 },
    };
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
            struct ipc_buf buf = { (void *)bad[i].addr, bad[i].len, bad[i].len };
            if (!UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &buf, NULL), -EFAULT))
                utest_note("  data at %#x, length %u", (unsigned)bad[i].addr, bad[i].len);
        }
        struct ipc_buf past = { (void *)((uintptr_t)_end - 16), 64, 64 };
        UEXPECT_EQ(sys_ipc_call(s_echo, 1, 2, &past, NULL), -EFAULT);
        UEXPECT_EQ(sys_ipc_send(s_echo, 1, 2, &past), -EFAULT);
    }
}

UTEST(reply_to_a_thread_not_calling)
{
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_ipc_reply(s_echo, 1, 2, NULL), -EPERM);      // it is receiving
        UEXPECT_EQ(sys_ipc_reply(NO_SUCH_TID, 1, 2, NULL), -ESRCH);
    }
}

UTEST(errors_on_self_and_nobody)
{
    FOR_EACH_SYSCALL_MODE() {
        struct ipc_words w;
        UEXPECT_EQ(sys_ipc_send(NO_SUCH_TID, 1, 2, NULL), -ESRCH);
        UEXPECT_EQ(sys_ipc_call(NO_SUCH_TID, 1, 2, NULL, &w), -ESRCH);
        UEXPECT_EQ(sys_ipc_recv(NO_SUCH_TID, &w, NULL), -ESRCH);
        UEXPECT_EQ(sys_ipc_send(s_self, 1, 2, NULL), -EDEADLK);
        UEXPECT_EQ(sys_ipc_call(s_self, 1, 2, NULL, &w), -EDEADLK);
        UEXPECT_EQ(sys_ipc_recv(s_self, &w, NULL), -EDEADLK);
    }
}

// ---- Between two threads of this process --------------------------------------------

// What a helper thread saw and did.
struct seen {
    int from;                   // ipc_recv's result
    struct ipc_words msg;
    unsigned len;
    char data[8];
    int result;                 // its last send's result
};

static struct seen s_seen;

// Receives once with an 8-byte buffer, then sends w0 + 100, w1 + 100 back.
static int
receive_small(void *arg)
{
    char data[8];
    struct ipc_buf buf = { data, 0, sizeof data };
    (void)arg;
    s_seen.from = sys_ipc_recv(IPC_ANY, &s_seen.msg, &buf);
    s_seen.len = buf.len;
    memcpy(s_seen.data, data, sizeof data);
    s_seen.result = sys_ipc_send(s_seen.from, s_seen.msg.w0 + 100, s_seen.msg.w1 + 100, NULL);
    return 0;
}

UTEST(threads_send_recv_and_small_cap)
{
    FOR_EACH_SYSCALL_MODE() {
        char big[16] = "sixteen bytes!!", small[8] = "8 bytes";
        memset(&s_seen, 0, sizeof s_seen);
        int tid = thread_spawn(receive_small, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(tid, 0);
        // More than the receiver's cap: refused, and the receiver keeps waiting.
        struct ipc_buf buf = { big, sizeof big, 0 };
        UEXPECT_EQ(sys_ipc_send(tid, 1, 2, &buf), -EMSGSIZE);
        struct ipc_buf fits = { small, sizeof small, 0 };
        UEXPECT_EQ(sys_ipc_send(tid, 3, 4, &fits), 0);
        struct ipc_words back;
        UEXPECT_EQ(sys_ipc_recv(tid, &back, NULL), tid);
        UEXPECT_UEQ(back.w0, 103);
        UEXPECT_UEQ(back.w1, 104);
        UEXPECT_EQ(s_seen.from, s_self);
        UEXPECT_UEQ(s_seen.msg.w0, 3);
        UEXPECT_UEQ(s_seen.msg.w1, 4);
        UEXPECT_UEQ(s_seen.len, sizeof small);
        UEXPECT_MEMEQ(s_seen.data, small, sizeof small);
        UEXPECT_EQ(s_seen.result, 0);
        UEXPECT_TRUE(wait_gone(tid, 500));
    }
}

// Sends its argument as w0 to the main thread.
static int
send_tag(void *arg)
{
    return sys_ipc_send(s_self, (unsigned)(uintptr_t)arg, 0, NULL);
}

// Two threads send at once; receiving from each by tid takes exactly its message.
UTEST(recv_from_a_chosen_sender)
{
    FOR_EACH_SYSCALL_MODE() {
        int a = thread_spawn(send_tag, (void *)0xA, s_stacks[0], THREAD_STACK);
        int b = thread_spawn(send_tag, (void *)0xB, s_stacks[1], THREAD_STACK);
        UASSERT_GT(a, 0);
        UASSERT_GT(b, 0);
        struct ipc_words w;
        UEXPECT_EQ(sys_ipc_recv(b, &w, NULL), b);
        UEXPECT_UEQ(w.w0, 0xB);
        UEXPECT_EQ(sys_ipc_recv(a, &w, NULL), a);
        UEXPECT_UEQ(w.w0, 0xA);
        UEXPECT_TRUE(wait_gone(a, 500));
        UEXPECT_TRUE(wait_gone(b, 500));
    }
}

// Serves one call: replies w0 * 3 and the bytes upper-cased.
static int
serve_once(void *arg)
{
    char data[32];
    struct ipc_buf buf = { data, 0, sizeof data };
    struct ipc_words msg;
    (void)arg;
    int from = sys_ipc_recv(IPC_ANY, &msg, &buf);
    if (from < 0)
        return from;
    for (unsigned i = 0; i < buf.len; i++)
        if (data[i] >= 'a' && data[i] <= 'z')
            data[i] = (char)(data[i] - 'a' + 'A');
    return sys_ipc_reply(from, msg.w0 * 3, msg.w1, &buf);
}

UTEST(threads_call_reply)
{
    FOR_EACH_SYSCALL_MODE() {
        int tid = thread_spawn(serve_once, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(tid, 0);
        char text[32] = "quiet";
        struct ipc_buf buf = { text, 5, sizeof text };
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(tid, 14, 9, &buf, &reply), 0);
        UEXPECT_UEQ(reply.w0, 42);
        UEXPECT_UEQ(reply.w1, 9);
        UEXPECT_UEQ(buf.len, 5);
        UEXPECT_MEMEQ(text, "QUIET", 5);
        UEXPECT_TRUE(wait_gone(tid, 500));
    }
}

// ---- The end of the partner ----------------------------------------------------------

UTEST(echo_quits)
{
    struct ipc_words reply;
    UEXPECT_EQ(sys_ipc_call(s_echo, ECHO_QUIT, 0, NULL, &reply), 0);
    UEXPECT_UEQ(reply.w0, ECHO_QUIT + 1);
    UEXPECT_EQ(sys_wait(s_echo), 0);
    UEXPECT_EQ(sys_ipc_send(s_echo, 1, 2, NULL), -ESRCH);
}

int
main(void)
{
    s_self = sys_gettid();
    return utest_run("test_ipc");
}
