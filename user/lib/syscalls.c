// The system call wrappers, thread_spawn and module_find (see tandem.h).
#include "lib/string.h"
#include "tandem.h"

// Read by every thread at each call; written by syscall_mode_set.  Until
// _start has passed on the kernel's word (syscall_gates_init), int 0x80,
// which every CPU has.
static enum syscall_mode s_mode = SYSCALL_INT80;
static unsigned s_gates = SYSCALL_GATE_INT80;
static unsigned s_count;

// What thread_trampoline (user/lib/crt0.asm) finds at the top of a new
// thread's stack: the function at offset 0, its argument at 4.
struct thread_start {
    int (*fn)(void *);
    void *arg;
};

void thread_trampoline(void);

void
syscall_gates_init(unsigned gates)
{
    s_gates = gates | SYSCALL_GATE_INT80;
    s_mode = syscall_mode_available(SYSCALL_SYSENTER) ? SYSCALL_SYSENTER : SYSCALL_INT80;
}

bool
syscall_mode_available(enum syscall_mode mode)
{
    return mode == SYSCALL_INT80 || (s_gates & SYSCALL_GATE_SYSENTER);
}

int
syscall_mode_set(enum syscall_mode mode)
{
    if (!syscall_mode_available(mode))
        return -ENOSYS;
    __atomic_store_n(&s_mode, mode, __ATOMIC_RELAXED);
    return 0;
}

enum syscall_mode
syscall_mode_default(void)
{
    return syscall_mode_available(SYSCALL_SYSENTER) ? SYSCALL_SYSENTER : SYSCALL_INT80;
}

enum syscall_mode
syscall_mode_get(void)
{
    return __atomic_load_n(&s_mode, __ATOMIC_RELAXED);
}

unsigned
syscall_count(void)
{
    return __atomic_load_n(&s_count, __ATOMIC_RELAXED);
}

long
syscall_raw(long n, long a1, long a2, long a3, long a4, long a5)
{
    // Atomic, because a thread may be preempted between load and store.
    __atomic_add_fetch(&s_count, 1, __ATOMIC_RELAXED);
    if (syscall_mode_get() == SYSCALL_INT80)
        return syscall_int80(n, a1, a2, a3, a4, a5);
    return syscall_sysenter(n, a1, a2, a3, a4, a5);
}

// As syscall_raw, for the calls that also return two words.
static long
syscall_ipc(long n, long a1, long a2, long a3, long a4, struct ipc_words *out)
{
    __atomic_add_fetch(&s_count, 1, __ATOMIC_RELAXED);
    if (syscall_mode_get() == SYSCALL_INT80)
        return syscall_int80_ipc(n, a1, a2, a3, a4, 0, out);
    return syscall_sysenter_ipc(n, a1, a2, a3, a4, 0, out);
}

// The wrappers' shorthand: system call n with k arguments.
#define SYSCALL0(n)             syscall_raw(n, 0, 0, 0, 0, 0)
#define SYSCALL1(n, a)          syscall_raw(n, (long)(a), 0, 0, 0, 0)
#define SYSCALL2(n, a, b)       syscall_raw(n, (long)(a), (long)(b), 0, 0, 0)
#define SYSCALL3(n, a, b, c)    syscall_raw(n, (long)(a), (long)(b), (long)(c), 0, 0)
#define SYSCALL4(n, a, b, c, d) syscall_raw(n, (long)(a), (long)(b), (long)(c), (long)(d), 0)

void
sys_exit(int code)
{
    SYSCALL1(SYS_EXIT, code);
    __builtin_trap();           // unreachable; if not, the kernel reports the ud2
}

int
sys_thread_create(uintptr_t entry, uintptr_t stack_top, uintptr_t arg)
{
    return SYSCALL3(SYS_THREAD_CREATE, entry, stack_top, arg);
}

void
sys_thread_exit(int code)
{
    SYSCALL1(SYS_THREAD_EXIT, code);
    __builtin_trap();
}

int
thread_spawn(int (*fn)(void *), void *arg, void *stack, size_t size)
{
    if (!fn || !stack || size < THREAD_STACK_MIN)
        return -EINVAL;
    // The start record doubles as the initial stack top, so it is placed
    // 16-byte aligned at the top of the stack.
    uintptr_t top = ALIGN_DOWN((uintptr_t)stack + size, 16) - 16;
    struct thread_start *start = (struct thread_start *)top;
    start->fn = fn;
    start->arg = arg;
    return sys_thread_create((uintptr_t)thread_trampoline, top, top);
}

int
sys_yield(void)
{
    return SYSCALL0(SYS_YIELD);
}

int
sys_sleep(unsigned ticks)
{
    return SYSCALL1(SYS_SLEEP, ticks);
}

int
sys_gettid(void)
{
    return SYSCALL0(SYS_GETTID);
}

unsigned
sys_time(void)
{
    return (unsigned)SYSCALL0(SYS_TIME);
}

int
sys_debug_write(const void *buf, size_t len)
{
    return SYSCALL2(SYS_DEBUG_WRITE, buf, len);
}

int
sys_ipc_send(int dest, unsigned w0, unsigned w1, struct ipc_buf *buf)
{
    return SYSCALL4(SYS_IPC_SEND, dest, w0, w1, buf);
}

int
sys_ipc_recv(int from, struct ipc_words *msg, struct ipc_buf *buf)
{
    struct ipc_words words = { 0, 0 };
    long r = syscall_ipc(SYS_IPC_RECV, from, 0, 0, (long)buf, &words);
    if (msg)
        *msg = words;
    return r;
}

int
sys_ipc_call(int dest, unsigned w0, unsigned w1, struct ipc_buf *buf, struct ipc_words *reply)
{
    struct ipc_words words = { 0, 0 };
    long r = syscall_ipc(SYS_IPC_CALL, dest, w0, w1, (long)buf, &words);
    if (reply)
        *reply = words;
    return r;
}

int
sys_ipc_reply(int caller, unsigned w0, unsigned w1, struct ipc_buf *buf)
{
    return SYSCALL4(SYS_IPC_REPLY, caller, w0, w1, buf);
}

int
sys_kfast_stats(struct kfast_stats *out)
{
    return SYSCALL1(SYS_KFAST_STATS, out);
}

int
sys_spawn(unsigned index)
{
    return SYSCALL1(SYS_SPAWN, index);
}

int
sys_wait(int pid)
{
    return SYSCALL1(SYS_WAIT, pid);
}

int
sys_module_name(unsigned index, char *buf, size_t cap)
{
    return SYSCALL3(SYS_MODULE_NAME, index, buf, cap);
}

int
sys_sysinfo(struct sysinfo *out)
{
    return SYSCALL1(SYS_SYSINFO, out);
}

int
sys_cmdline(char *buf, size_t cap)
{
    return SYSCALL2(SYS_CMDLINE, buf, cap);
}

// Longest module name module_find can match.
#define MODULE_NAME_MAX 64

int
module_find(const char *name)
{
    struct sysinfo info;
    int r = sys_sysinfo(&info);
    if (r < 0)
        return r;
    size_t want = strlen(name);
    for (unsigned i = 0; i < info.module_count; i++) {
        char got[MODULE_NAME_MAX];
        int len = sys_module_name(i, got, sizeof got);
        // Only the returned length counts: the copy need not end in a NUL.
        if (len >= 0 && (size_t)len == want && memcmp(got, name, want) == 0)
            return (int)i;
    }
    return -ENOENT;
}

bool
sysinfo_settled(struct sysinfo *out, unsigned ticks)
{
    struct sysinfo next;
    unsigned start = sys_time();
    if (sys_sysinfo(out) != 0)
        return false;
    for (;;) {
        sys_sleep(1);
        if (sys_sysinfo(&next) != 0)
            return false;
        if (next.threads == out->threads && next.processes == out->processes &&
            next.heap_live_blocks == out->heap_live_blocks)
            return true;
        *out = next;
        if (sys_time() - start > ticks)
            return false;
    }
}

bool
wait_gone(int tid, unsigned ticks)
{
    unsigned start = sys_time();
    while (sys_ipc_reply(tid, 0, 0, NULL) != -ESRCH) {
        if (sys_time() - start > ticks)
            return false;
        sys_sleep(1);
    }
    return true;
}
