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

static const char *s_args = "";

void
runtime_init(unsigned gates, const char *args)
{
    syscall_gates_init(gates);
    if (args)
        s_args = args;
}

const char *
program_args(void)
{
    return s_args;
}

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

// As syscall_raw, for the calls that also return words in ebx, esi, edi.
static long
syscall_ipc(long n, long a1, long a2, long a3, long a4, long a5, struct ipc_words *out)
{
    struct ipc_words unwanted; // the stubs store the words whatever happens
    __atomic_add_fetch(&s_count, 1, __ATOMIC_RELAXED);
    if (!out)
        out = &unwanted;
    if (syscall_mode_get() == SYSCALL_INT80)
        return syscall_int80_ipc(n, a1, a2, a3, a4, a5, out);
    return syscall_sysenter_ipc(n, a1, a2, a3, a4, a5, out);
}

// The wrappers' shorthand: system call n with k arguments.
#define SYSCALL0(n)             syscall_raw(n, 0, 0, 0, 0, 0)
#define SYSCALL1(n, a)          syscall_raw(n, (long)(a), 0, 0, 0, 0)
#define SYSCALL2(n, a, b)       syscall_raw(n, (long)(a), (long)(b), 0, 0, 0)
#define SYSCALL3(n, a, b, c)    syscall_raw(n, (long)(a), (long)(b), (long)(c), 0, 0)
#define SYSCALL4(n, a, b, c, d) syscall_raw(n, (long)(a), (long)(b), (long)(c), (long)(d), 0)
#define SYSCALL5(n, a, b, c, d, e) \
    syscall_raw(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e))

void
sys_exit(int code)
{
    SYSCALL1(SYS_EXIT, code);
    __builtin_trap(); // unreachable; if not, the kernel reports the ud2
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
sys_ipc_send(int endpoint, unsigned w0, unsigned w1, struct ipc_buf *buf)
{
    return SYSCALL4(SYS_IPC_SEND, endpoint, w0, w1, buf);
}

int
sys_ipc_recv(int endpoint, struct ipc_words *msg, struct ipc_buf *buf)
{
    return syscall_ipc(SYS_IPC_RECV, endpoint, 0, 0, (long)buf, 0, msg);
}

int
sys_ipc_call(int endpoint, unsigned w0, unsigned w1, struct ipc_buf *buf, struct ipc_words *reply)
{
    return syscall_ipc(SYS_IPC_CALL, endpoint, w0, w1, (long)buf, 0, reply);
}

int
sys_ipc_reply(int reply, unsigned w0, unsigned w1, struct ipc_buf *buf)
{
    return SYSCALL4(SYS_IPC_REPLY, reply, w0, w1, buf);
}

int
sys_ipc_reply_recv(int reply, unsigned w0, unsigned w1, struct ipc_buf *buf, int endpoint,
                   struct ipc_words *msg)
{
    return syscall_ipc(SYS_IPC_REPLY_RECV, reply, w0, w1, (long)buf, endpoint, msg);
}

int
sys_cap_info(int handle, struct cap_info *out)
{
    return SYSCALL2(SYS_CAP_INFO, handle, out);
}

int
sys_cap_dup(int handle, unsigned rights, unsigned badge)
{
    return SYSCALL3(SYS_CAP_DUP, handle, rights, badge);
}

int
sys_cap_close(int handle)
{
    return SYSCALL1(SYS_CAP_CLOSE, handle);
}

int
sys_cap_revoke(int handle)
{
    return SYSCALL1(SYS_CAP_REVOKE, handle);
}

int
sys_cap_list(int *handles, unsigned max)
{
    return SYSCALL2(SYS_CAP_LIST, handles, max);
}

int
sys_endpoint_create(void)
{
    return SYSCALL0(SYS_ENDPOINT_CREATE);
}

int
sys_kfast_stats(struct kfast_stats *out)
{
    return SYSCALL1(SYS_KFAST_STATS, out);
}

int
sys_spawn(int module, const int *handles, unsigned count)
{
    return sys_spawn_args(module, handles, count, NULL);
}

int
sys_spawn_args(int module, const int *handles, unsigned count, const char *args)
{
    return SYSCALL4(SYS_SPAWN, module, handles, count, args);
}

int
sys_wait(int handle, unsigned ticks)
{
    return SYSCALL2(SYS_WAIT, handle, ticks);
}

int
sys_kill(int process)
{
    return SYSCALL1(SYS_KILL, process);
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

int
cap_find(unsigned type, const char *name)
{
    int handles[CAPS_PER_PROCESS];
    int n = sys_cap_list(handles, CAPS_PER_PROCESS);
    if (n < 0)
        return n;
    for (int i = 0; i < n && i < CAPS_PER_PROCESS; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) == 0 && info.type == type &&
            strncmp(info.name, name, sizeof info.name) == 0)
            return handles[i];
    }
    return -ENOENT;
}

int
module_find(const char *name)
{
    return cap_find(CAP_TYPE_MODULE, name);
}

bool
sysinfo_counts_equal(const struct sysinfo *a, const struct sysinfo *b)
{
    return a->threads == b->threads && a->processes == b->processes &&
           a->heap_live_blocks == b->heap_live_blocks && a->handles == b->handles &&
           a->objects == b->objects;
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
        if (sysinfo_counts_equal(&next, out))
            return true;
        *out = next;
        if (sys_time() - start > ticks)
            return false;
    }
}
