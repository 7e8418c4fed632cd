// Every system call's success and error paths except IPC's (user/test_ipc.c),
// each through both int 0x80 and sysenter.
#include "ipc_echo.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

#define STACK_TOP        0xBFFF0000u // the initial stack ends here (ABI)
#define STACK_SIZE       0x10000u
#define USER_LO          0x00400000u
#define FAULT_CHILD_EXIT (128 + 14) // fault_child's page fault

#define THREAD_STACK   2048
#define WAIT_TICKS     500
#define SETTLE_TICKS   300
#define NO_SUCH_HANDLE 0x7FFFFFF0

extern char _end[]; // the first page past the image (user/user.ld)

static int s_main_tid;            // for comparisons with SYS_CAP_INFO's base only
static struct sysinfo s_baseline; // the counters before any test ran
static uintptr_t s_main_stack;    // an address in main's frame

static uint8_t s_stacks[THREADS_PER_PROCESS][THREAD_STACK] ALIGNED(16);

// ---- Helpers ------------------------------------------------------------------

// A range no system call may read or write.
struct bad_range {
    uintptr_t addr;
    unsigned len; // for calls that take a length
    const char *what;
};

// Fills out[] with every kind of bad range; returns how many.
static unsigned
bad_ranges(struct bad_range out[8])
{
    const struct bad_range all[] = {
        { 0, 16, "NULL" },
        { 0xC0000000u, 16, "the kernel's first byte" },
        { 0xC0100000u, 16, "the kernel image" },
        { 0xFFFFFFFFu, 16, "the last byte (wraps)" },
        { 0x10000000u, 16, "unmapped user memory" },
        { 0xBFFFFFF0u, 64, "a range across 0xC0000000" },
        { (uintptr_t)_end - 16, 64, "a range past the end of the image" },
        { STACK_TOP - 16, 64, "a range past the top of the stack" },
    };
    memcpy(out, all, sizeof all);
    return ARRAY_SIZE(all);
}

// Expects r to be -EFAULT, naming the range if it is not.
static void
expect_efault(long r, const struct bad_range *b)
{
    if (!UEXPECT_EQ(r, -EFAULT))
        utest_note("  with %s: %#x, length %u", b->what, (unsigned)b->addr, b->len);
}

// Waits until *flag is set, for at most `ticks`; returns whether it was.
static bool
wait_for(volatile bool *flag, unsigned ticks)
{
    unsigned start = sys_time();
    while (!*flag) {
        if (sys_time() - start > ticks)
            return false;
        sys_sleep(1);
    }
    return true;
}

// The id SYS_CAP_INFO gives for a thread or process handle, or -1.
static int
id_of(int handle)
{
    struct cap_info info;
    return sys_cap_info(handle, &info) == 0 ? (int)info.base : -1;
}

// Waits for the thread or process a handle names to end and closes the
// handle; returns its exit code (or a -errno).
static int
finish(int handle)
{
    int code = sys_wait(handle, WAIT_TICKS);
    if (code != -ETIMEDOUT)
        UEXPECT_EQ(sys_cap_close(handle), 0);
    return code;
}

// Expects handle to name an object of that type, with exactly those rights
// and no badge.
static void
expect_cap(int handle, unsigned type, unsigned rights)
{
    struct cap_info info;
    if (!UEXPECT_EQ(sys_cap_info(handle, &info), 0))
        return;
    UEXPECT_UEQ(info.type, type);
    UEXPECT_UEQ(info.rights, rights);
    UEXPECT_UEQ(info.badge, 0);
}

// ---- Assembly probes ------------------------------------------------------------

// Registers as raw_thread_entry found them: eax ebx ecx edx esi edi ebp esp.
volatile uint32_t raw_regs[8];
volatile bool raw_done;
void raw_thread_entry(void);

// Registers after a SYS_GETTID that was entered with known values:
// out = ebx ecx edx esi edi ebp eax.
void probe_int80(uint32_t out[7]);
void probe_sysenter(uint32_t out[7]);

// Hand layout: clang-format 14 takes STR() between the strings for a call.
// clang-format off
__asm__(
    "    .text\n"
    // A SYS_THREAD_CREATE entry that records its registers and exits,
    // touching no stack, so it is safe whatever stack it is given.
    "raw_thread_entry:\n"
    "    mov %eax, raw_regs + 0\n"
    "    mov %ebx, raw_regs + 4\n"
    "    mov %ecx, raw_regs + 8\n"
    "    mov %edx, raw_regs + 12\n"
    "    mov %esi, raw_regs + 16\n"
    "    mov %edi, raw_regs + 20\n"
    "    mov %ebp, raw_regs + 24\n"
    "    mov %esp, raw_regs + 28\n"
    "    movb $1, raw_done\n"
    "    mov $" STR(SYS_THREAD_EXIT) ", %eax\n"
    "    xor %ebx, %ebx\n"
    "    int $0x80\n"
    "    ud2\n"

    "probe_load:\n"                 // the known values; clobbers nothing else
    "    mov $0x11111111, %ebx\n"
    "    mov $0x22222222, %ecx\n"
    "    mov $0x33333333, %edx\n"
    "    mov $0x44444444, %esi\n"
    "    mov $0x55555555, %edi\n"
    "    mov $0x66666666, %ebp\n"
    "    mov $" STR(SYS_GETTID) ", %eax\n"
    "    ret\n"

    "probe_int80:\n"
    "    push %ebp\n"
    "    push %ebx\n"
    "    push %esi\n"
    "    push %edi\n"
    "    call probe_load\n"
    "    int $0x80\n"
    "    jmp probe_store\n"

    "probe_sysenter:\n"
    "    push %ebp\n"
    "    push %ebx\n"
    "    push %esi\n"
    "    push %edi\n"
    "    call probe_load\n"
    "    push %ebp\n"               // the convention in include/uapi/syscall.h
    "    push %edx\n"
    "    push %ecx\n"
    "    push $probe_sysenter_back\n"
    "    mov %esp, %ebp\n"
    "    sysenter\n"
    "probe_sysenter_back:\n"
    "    pop %ecx\n"
    "    pop %edx\n"
    "    pop %ebp\n"

    "probe_store:\n"
    "    push %eax\n"
    "    mov 24(%esp), %eax\n"      // out, past eax, 4 saved registers and the return address
    "    mov %ebx, 0(%eax)\n"
    "    mov %ecx, 4(%eax)\n"
    "    mov %edx, 8(%eax)\n"
    "    mov %esi, 12(%eax)\n"
    "    mov %edi, 16(%eax)\n"
    "    mov %ebp, 20(%eax)\n"
    "    pop %ecx\n"
    "    mov %ecx, 24(%eax)\n"
    "    pop %edi\n"
    "    pop %esi\n"
    "    pop %ebx\n"
    "    pop %ebp\n"
    "    ret\n");
// clang-format on

// ---- Process start and the entry paths -----------------------------------------

// The figures every later test must leave as they were (nothing_left_behind).
UTEST(baseline)
{
    UASSERT_TRUE(sysinfo_settled(&s_baseline, SETTLE_TICKS));
}

UTEST(initial_stack_below_0xbfff0000)
{
    UEXPECT_UGE(s_main_stack, STACK_TOP - STACK_SIZE);
    UEXPECT_ULT(s_main_stack, STACK_TOP);
}

UTEST(int80_preserves_registers)
{
    uint32_t r[7];
    probe_int80(r);
    UEXPECT_UEQ(r[0], 0x11111111);
    UEXPECT_UEQ(r[1], 0x22222222);
    UEXPECT_UEQ(r[2], 0x33333333);
    UEXPECT_UEQ(r[3], 0x44444444);
    UEXPECT_UEQ(r[4], 0x55555555);
    UEXPECT_UEQ(r[5], 0x66666666);
    UEXPECT_EQ(r[6], s_main_tid);
}

UTEST(sysenter_returns_and_preserves_registers)
{
    uint32_t r[7];
    if (!syscall_mode_available(SYSCALL_SYSENTER)) {
        utest_note("SKIP: this CPU offers no sysenter");
        return;
    }
    probe_sysenter(r);
    UEXPECT_UEQ(r[0], 0x11111111);
    UEXPECT_UEQ(r[1], 0x22222222);
    UEXPECT_UEQ(r[2], 0x33333333);
    UEXPECT_UEQ(r[3], 0x44444444);
    UEXPECT_UEQ(r[4], 0x55555555);
    UEXPECT_UEQ(r[5], 0x66666666);
    UEXPECT_EQ(r[6], s_main_tid);
}

UTEST(unknown_numbers)
{
    static const long numbers[] = { 0,    -1,         SYS_COUNT,      SYS_COUNT + 1,
                                    1000, 0x7FFFFFFF, -0x7FFFFFFF - 1 };
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < ARRAY_SIZE(numbers); i++) {
            long r = syscall_raw(numbers[i], 1, 2, 3, 4, 5);
            if (!UEXPECT_EQ(r, -ENOSYS))
                utest_note("  number %ld", numbers[i]);
        }
    }
}

UTEST(syscall_count_counts_each_wrapper)
{
    FOR_EACH_SYSCALL_MODE() {
        unsigned before = syscall_count();
        sys_gettid();
        sys_yield();
        syscall_raw(-1, 0, 0, 0, 0, 0);
        UEXPECT_UEQ(syscall_count() - before, 3);
    }
}

// ---- Threads and time -------------------------------------------------------------

UTEST(gettid_yield)
{
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_GT(sys_gettid(), 0);
        UEXPECT_EQ(sys_gettid(), s_main_tid);
        UEXPECT_EQ(sys_yield(), 0);
    }
}

UTEST(time_and_sleep)
{
    FOR_EACH_SYSCALL_MODE() {
        unsigned t0 = sys_time();
        UEXPECT_EQ(sys_sleep(5), 0);
        unsigned t1 = sys_time();
        UEXPECT_UGE(t1 - t0, 5);
        UEXPECT_EQ(sys_sleep(0), 0);
        UEXPECT_UGE(sys_time(), t1);
    }
}

UTEST(sleep_too_long)
{
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_sleep(100001), -EINVAL);
        UEXPECT_EQ(sys_sleep(0x80000000u), -EINVAL);
        UEXPECT_EQ(sys_sleep(0xFFFFFFFFu), -EINVAL);
    }
}

UTEST(thread_create_raw_registers)
{
    FOR_EACH_SYSCALL_MODE() {
        uintptr_t top = (uintptr_t)s_stacks[1]; // the top of s_stacks[0]
        raw_done = false;
        for (unsigned i = 0; i < 8; i++)
            raw_regs[i] = 0xBADBAD;
        int thread = sys_thread_create((uintptr_t)raw_thread_entry, top, 0x12345678);
        UASSERT_GT(thread, 0);
        expect_cap(thread, CAP_TYPE_THREAD, CAP_WAIT);
        UEXPECT_GT(id_of(thread), 0);
        UEXPECT_NE(id_of(thread), s_main_tid);
        UASSERT_TRUE(wait_for(&raw_done, 500));
        UEXPECT_UEQ(raw_regs[0], 0x12345678); // eax = arg
        for (unsigned i = 1; i < 7; i++)
            if (!UEXPECT_UEQ(raw_regs[i], 0))
                utest_note("  register %u of eax ebx ecx edx esi edi ebp", i);
        UEXPECT_UEQ(raw_regs[7], top);
        UEXPECT_EQ(finish(thread), 0);
    }
}

static volatile bool s_spawned_done;
static volatile int s_spawned_tid;
static void *volatile s_spawned_arg;

// Records its tid and argument, then returns 7.
static int
record_and_return(void *arg)
{
    s_spawned_tid = sys_gettid();
    s_spawned_arg = arg;
    s_spawned_done = true;
    return 7;
}

// Ends itself before it can set s_spawned_done.
static int
exit_midway(void *arg)
{
    (void)arg;
    sys_thread_exit(3);
    s_spawned_done = true; // never reached
    return 0;
}

UTEST(thread_spawn_runs_fn_with_arg)
{
    FOR_EACH_SYSCALL_MODE() {
        s_spawned_done = false;
        int thread = thread_spawn(record_and_return, (void *)0xCAFE, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        UASSERT_TRUE(wait_for(&s_spawned_done, 500));
        UEXPECT_EQ(s_spawned_tid, id_of(thread));
        UEXPECT_UEQ((uintptr_t)s_spawned_arg, 0xCAFE);
        UEXPECT_EQ(finish(thread), 7);
    }
}

UTEST(thread_exit_ends_only_the_thread)
{
    FOR_EACH_SYSCALL_MODE() {
        s_spawned_done = false;
        int thread = thread_spawn(exit_midway, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        UEXPECT_EQ(finish(thread), 3);
        UEXPECT_FALSE(s_spawned_done);
    }
}

UTEST(thread_create_bad_addresses)
{
    static const uintptr_t bad_entries[] = { 0, 0x1000, USER_LO - 1, 0xC0000000u, 0xFFFFFFFFu };
    static const uintptr_t bad_stacks[] = { 0, 0x1000, 0xC0001000u, 0xFFFFFFF0u };
    uintptr_t good_top = (uintptr_t)s_stacks[1];
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < ARRAY_SIZE(bad_entries); i++)
            if (!UEXPECT_EQ(sys_thread_create(bad_entries[i], good_top, 0), -EFAULT))
                utest_note("  entry %#x", (unsigned)bad_entries[i]);
        for (unsigned i = 0; i < ARRAY_SIZE(bad_stacks); i++)
            if (!UEXPECT_EQ(sys_thread_create((uintptr_t)raw_thread_entry, bad_stacks[i], 0),
                            -EFAULT))
                utest_note("  stack top %#x", (unsigned)bad_stacks[i]);
    }
    UEXPECT_EQ(thread_spawn(NULL, NULL, s_stacks[0], THREAD_STACK), -EINVAL);
    UEXPECT_EQ(thread_spawn(record_and_return, NULL, s_stacks[0], THREAD_STACK_MIN - 1), -EINVAL);
}

static volatile bool s_release;

// Sleeps until s_release is set.
static int
park(void *arg)
{
    (void)arg;
    while (!s_release)
        sys_sleep(1);
    return 0;
}

// Parks threads until SYS_THREAD_CREATE refuses; returns how many started.
static unsigned
park_until_refused(int threads[THREADS_PER_PROCESS], int *refusal)
{
    unsigned n = 0;
    *refusal = 0;
    while (n < THREADS_PER_PROCESS) {
        int r = thread_spawn(park, NULL, s_stacks[n], THREAD_STACK);
        if (r < 0) {
            *refusal = r;
            break;
        }
        threads[n++] = r;
    }
    return n;
}

UTEST(thread_limit)
{
    FOR_EACH_SYSCALL_MODE() {
        int threads[THREADS_PER_PROCESS], refusal;
        s_release = false;
        unsigned n = park_until_refused(threads, &refusal);
        UEXPECT_EQ(refusal, -EAGAIN);
        UEXPECT_EQ(n + 1, THREADS_PER_PROCESS); // and the main thread
        s_release = true;
        for (unsigned i = 0; i < n; i++)
            UEXPECT_EQ(finish(threads[i]), 0);
    }
}

// ---- Processes and modules ---------------------------------------------------

// init passes on every module but the tests, as handles 1 .. n, each with
// CAP_SPAWN | CAP_GRANT; a spawned process holds nothing else.
UTEST(starts_with_the_handles_init_passed)
{
    int handles[CAPS_PER_PROCESS];
    int n = sys_cap_list(handles, CAPS_PER_PROCESS);
    UASSERT_GT(n, 0);
    for (int i = 0; i < n && i < CAPS_PER_PROCESS; i++) {
        struct cap_info info;
        UEXPECT_EQ(handles[i], i + 1);
        if (!UEXPECT_EQ(sys_cap_info(handles[i], &info), 0))
            continue;
        UEXPECT_UEQ(info.type, CAP_TYPE_MODULE);
        UEXPECT_UEQ(info.rights, CAP_SPAWN | CAP_GRANT);
        if (!UEXPECT_NE(strncmp(info.name, "test_", 5), 0))
            utest_note("  handle %d names %s", handles[i], info.name);
    }
}

UTEST(spawn_and_wait)
{
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    FOR_EACH_SYSCALL_MODE() {
        int proc = sys_spawn(module, NULL, 0);
        if (!UEXPECT_GT(proc, 0))
            continue;
        expect_cap(proc, CAP_TYPE_PROCESS, CAP_WAIT | CAP_KILL | CAP_GRANT);
        struct cap_info info;
        UEXPECT_EQ(sys_cap_info(proc, &info), 0);
        UEXPECT_STREQ(info.name, "fault_child");
        UEXPECT_GT(id_of(proc), 0);
        UEXPECT_NE(id_of(proc), s_main_tid);
        UEXPECT_EQ(sys_wait(proc, WAIT_FOREVER), FAULT_CHILD_EXIT);
        // Every wait on an ended process says the same, at once.
        UEXPECT_EQ(sys_wait(proc, 0), FAULT_CHILD_EXIT);
        UEXPECT_EQ(sys_wait(proc, WAIT_FOREVER), FAULT_CHILD_EXIT);
        UEXPECT_EQ(sys_cap_close(proc), 0);
    }
}

// Exactly SPAWN_HANDLES_MAX handles may be passed.
UTEST(spawn_passes_up_to_spawn_handles_max)
{
    static int handles[SPAWN_HANDLES_MAX];
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    for (unsigned i = 0; i < SPAWN_HANDLES_MAX; i++)
        handles[i] = ep;
    FOR_EACH_SYSCALL_MODE() {
        int proc = sys_spawn(module, handles, SPAWN_HANDLES_MAX);
        if (UEXPECT_GT(proc, 0))
            UEXPECT_EQ(finish(proc), FAULT_CHILD_EXIT);
    }
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// Not a handle of this process's, or not to a module: -EBADF alike.
UTEST(spawn_bad_module_handles)
{
    int ep = sys_endpoint_create();
    int closed = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    UASSERT_GT(closed, 0);
    UASSERT_EQ(sys_cap_close(closed), 0);
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_spawn(0, NULL, 0), -EBADF);
        UEXPECT_EQ(sys_spawn(-1, NULL, 0), -EBADF);
        UEXPECT_EQ(sys_spawn(NO_SUCH_HANDLE, NULL, 0), -EBADF);
        UEXPECT_EQ(sys_spawn(closed, NULL, 0), -EBADF);
        UEXPECT_EQ(sys_spawn(ep, NULL, 0), -EBADF);
    }
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// CAP_SPAWN on the module, CAP_GRANT on every handle passed, and every
// handle passed open.
UTEST(spawn_rights_and_bad_handles_passed)
{
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    int no_spawn = sys_cap_dup(module, CAP_GRANT, 0);
    int ep = sys_endpoint_create();
    int no_grant = sys_cap_dup(ep, CAP_SEND | CAP_RECV, 0);
    UASSERT_GT(no_spawn, 0);
    UASSERT_GT(ep, 0);
    UASSERT_GT(no_grant, 0);
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_spawn(no_spawn, NULL, 0), -EPERM);
        const int ungrantable[2] = { ep, no_grant };
        UEXPECT_EQ(sys_spawn(module, ungrantable, 2), -EPERM);
        const int not_open[2] = { ep, NO_SUCH_HANDLE };
        UEXPECT_EQ(sys_spawn(module, not_open, 2), -EBADF);
        const int zero[1] = { 0 };
        UEXPECT_EQ(sys_spawn(module, zero, 1), -EBADF);
    }
    UEXPECT_EQ(sys_cap_close(no_spawn), 0);
    UEXPECT_EQ(sys_cap_close(no_grant), 0);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// A handle list that is not user memory, or too long; nothing is started.
UTEST(spawn_bad_handle_lists)
{
    static int many[SPAWN_HANDLES_MAX + 1];
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    int ep = sys_endpoint_create();
    UASSERT_GT(ep, 0);
    for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = ep;
    struct sysinfo before, after;
    UASSERT_EQ(sys_sysinfo(&before), 0);
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_spawn(module, (const int *)bad[i].addr, bad[i].len / 4), &bad[i]);
        UEXPECT_EQ(sys_spawn(module, many, SPAWN_HANDLES_MAX + 1), -EINVAL);
        UEXPECT_EQ(sys_spawn(module, many, 0x80000000u), -EINVAL);
        UEXPECT_EQ(sys_spawn(module, many, 0xFFFFFFFFu), -EINVAL);
    }
    UEXPECT_EQ(sys_sysinfo(&after), 0);
    UEXPECT_UEQ(after.processes, before.processes);
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

UTEST(wait_bad_handles)
{
    int ep = sys_endpoint_create();
    int module = module_find("fault_child");
    UASSERT_GT(ep, 0);
    UASSERT_GT(module, 0);
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_wait(0, 0), -EBADF);
        UEXPECT_EQ(sys_wait(-1, 0), -EBADF);
        UEXPECT_EQ(sys_wait(NO_SUCH_HANDLE, WAIT_FOREVER), -EBADF);
        // Neither an endpoint nor a module is something that ends.
        UEXPECT_EQ(sys_wait(ep, WAIT_FOREVER), -EBADF);
        UEXPECT_EQ(sys_wait(module, WAIT_FOREVER), -EBADF);
    }
    UEXPECT_EQ(sys_cap_close(ep), 0);
}

// ticks 0 only looks, a few ticks wait that long; a thread handle without
// CAP_WAIT is refused, and a thread is not something to kill.
UTEST(wait_on_a_live_thread)
{
    FOR_EACH_SYSCALL_MODE() {
        s_release = false;
        int thread = thread_spawn(park, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        int no_wait = sys_cap_dup(thread, 0, 0);
        UEXPECT_GT(no_wait, 0);
        UEXPECT_EQ(sys_wait(thread, 0), -ETIMEDOUT);
        unsigned t0 = sys_time();
        UEXPECT_EQ(sys_wait(thread, 3), -ETIMEDOUT);
        UEXPECT_UGE(sys_time() - t0, 3);
        UEXPECT_EQ(sys_wait(no_wait, 0), -EPERM);
        UEXPECT_EQ(sys_kill(thread), -EBADF);
        s_release = true;
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(sys_cap_close(no_wait), 0);
    }
}

// ipc_echo serves until told: a process to kill.
UTEST(kill)
{
    FOR_EACH_SYSCALL_MODE() {
        int echo = -1;
        int proc = echo_start(&echo, 0);
        UASSERT_GT(proc, 0);
        int wait_only = sys_cap_dup(proc, CAP_WAIT, 0);
        UEXPECT_GT(wait_only, 0);
        UEXPECT_EQ(sys_wait(proc, 0), -ETIMEDOUT);
        UEXPECT_EQ(sys_kill(wait_only), -EPERM);
        UEXPECT_EQ(sys_kill(echo), -EBADF);
        UEXPECT_EQ(sys_kill(NO_SUCH_HANDLE), -EBADF);
        UEXPECT_EQ(sys_kill(proc), 0);
        UEXPECT_EQ(sys_wait(wait_only, WAIT_TICKS), EXIT_KILLED);
        UEXPECT_EQ(finish(proc), EXIT_KILLED);
        // The endpoint's only receiver went with it.
        UEXPECT_EQ(sys_ipc_send(echo, 1, 2, NULL), -EPIPE);
        UEXPECT_EQ(sys_cap_close(wait_only), 0);
        UEXPECT_EQ(sys_cap_close(echo), 0);
    }
}

UTEST(module_find)
{
    UEXPECT_GT(module_find("init"), 0);
    UEXPECT_GT(module_find("fault_child"), 0);
    UEXPECT_EQ(module_find("test_syscalls"), -ENOENT); // init passes on no test
    UEXPECT_EQ(module_find("ini"), -ENOENT);
    UEXPECT_EQ(module_find("init2"), -ENOENT);
    UEXPECT_EQ(module_find(""), -ENOENT);
}

// ---- Handles ----------------------------------------------------------------------

UTEST(cap_info)
{
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    FOR_EACH_SYSCALL_MODE() {
        struct cap_info info;
        memset(&info, 0xEE, sizeof info);
        UEXPECT_EQ(sys_cap_info(module, &info), 0);
        UEXPECT_UEQ(info.type, CAP_TYPE_MODULE);
        UEXPECT_UEQ(info.rights, CAP_SPAWN | CAP_GRANT);
        UEXPECT_UEQ(info.badge, 0);
        UEXPECT_STREQ(info.name, "fault_child");
        UEXPECT_EQ(sys_cap_info(0, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(-1, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(NO_SUCH_HANDLE, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(CAPS_PER_PROCESS + 1, &info), -EBADF);
    }
}

UTEST(cap_info_bad_pointers)
{
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_cap_info(module, (struct cap_info *)bad[i].addr), &bad[i]);
    }
}

UTEST(endpoint_create_and_cap_dup)
{
    FOR_EACH_SYSCALL_MODE() {
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        expect_cap(ep, CAP_TYPE_ENDPOINT, CAP_SEND | CAP_RECV | CAP_GRANT);
        int send = sys_cap_dup(ep, CAP_SEND, 0);
        UASSERT_GT(send, 0);
        UEXPECT_NE(send, ep);
        expect_cap(send, CAP_TYPE_ENDPOINT, CAP_SEND);
        // Rights only shrink: asking for more gives what the handle has.
        int again = sys_cap_dup(send, CAP_RIGHTS_ALL, 0);
        UEXPECT_GT(again, 0);
        expect_cap(again, CAP_TYPE_ENDPOINT, CAP_SEND);
        UEXPECT_EQ(sys_cap_dup(0, CAP_SEND, 0), -EBADF);
        UEXPECT_EQ(sys_cap_dup(NO_SUCH_HANDLE, CAP_SEND, 0), -EBADF);
        UEXPECT_EQ(sys_cap_close(again), 0);
        UEXPECT_EQ(sys_cap_dup(again, CAP_SEND, 0), -EBADF);
        UEXPECT_EQ(sys_cap_close(send), 0);
        UEXPECT_EQ(sys_cap_close(ep), 0);
    }
}

// A badge is set once, on an unbadged handle, and kept by every copy.
UTEST(cap_dup_badges)
{
    FOR_EACH_SYSCALL_MODE() {
        struct cap_info info;
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        int badged = sys_cap_dup(ep, CAP_SEND | CAP_GRANT, 42);
        UASSERT_GT(badged, 0);
        UEXPECT_EQ(sys_cap_info(badged, &info), 0);
        UEXPECT_UEQ(info.badge, 42);
        UEXPECT_UEQ(info.rights, CAP_SEND | CAP_GRANT);
        int copy = sys_cap_dup(badged, CAP_SEND, 0);
        UEXPECT_GT(copy, 0);
        UEXPECT_EQ(sys_cap_info(copy, &info), 0);
        UEXPECT_UEQ(info.badge, 42);
        UEXPECT_EQ(sys_cap_dup(badged, CAP_SEND, 43), -EPERM);
        UEXPECT_EQ(sys_cap_dup(copy, CAP_SEND, 42), -EPERM); // even to the same badge
        int top = sys_cap_dup(ep, CAP_SEND, BADGE_MAX);
        UEXPECT_GT(top, 0);
        UEXPECT_EQ(sys_cap_info(top, &info), 0);
        UEXPECT_UEQ(info.badge, BADGE_MAX);
        UEXPECT_EQ(sys_cap_dup(ep, CAP_SEND, BADGE_MAX + 1), -EINVAL);
        UEXPECT_EQ(sys_cap_dup(ep, CAP_SEND, 0xFFFFFFFFu), -EINVAL);
        UEXPECT_EQ(sys_cap_close(top), 0);
        UEXPECT_EQ(sys_cap_close(copy), 0);
        UEXPECT_EQ(sys_cap_close(badged), 0);
        UEXPECT_EQ(sys_cap_close(ep), 0);
    }
}

static int s_call_endpoint;

// Makes one call on s_call_endpoint; returns its result.
static int
call_once(void *arg)
{
    struct ipc_words reply;
    (void)arg;
    return sys_ipc_call(s_call_endpoint, 1, 2, NULL, &reply);
}

// A reply handle is the one right to answer one call: no copies.
UTEST(reply_handles_cannot_be_duplicated)
{
    FOR_EACH_SYSCALL_MODE() {
        s_call_endpoint = sys_endpoint_create();
        UASSERT_GT(s_call_endpoint, 0);
        int thread = thread_spawn(call_once, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(thread, 0);
        struct ipc_words msg;
        UEXPECT_EQ(sys_ipc_recv(s_call_endpoint, &msg, NULL), 0);
        if (UEXPECT_GT(msg.reply, 0)) {
            struct cap_info info;
            UEXPECT_EQ(sys_cap_info(msg.reply, &info), 0);
            UEXPECT_UEQ(info.type, CAP_TYPE_REPLY);
            UEXPECT_EQ(sys_cap_dup(msg.reply, CAP_RIGHTS_ALL, 0), -EPERM);
            UEXPECT_EQ(sys_cap_dup(msg.reply, 0, 7), -EPERM);
            UEXPECT_EQ(sys_ipc_reply(msg.reply, 0, 0, NULL), 0);
        }
        UEXPECT_EQ(finish(thread), 0);
        UEXPECT_EQ(sys_cap_close(s_call_endpoint), 0);
    }
}

UTEST(cap_close)
{
    FOR_EACH_SYSCALL_MODE() {
        struct cap_info info;
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        UEXPECT_EQ(sys_cap_close(ep), 0);
        UEXPECT_EQ(sys_cap_close(ep), -EBADF);
        // The slot is reused, the number is not: the old one stays dead.
        int next = sys_endpoint_create();
        UASSERT_GT(next, 0);
        UEXPECT_NE(next, ep);
        UEXPECT_EQ(sys_cap_info(ep, &info), -EBADF);
        UEXPECT_EQ(sys_cap_close(ep), -EBADF);
        UEXPECT_EQ(sys_cap_close(next), 0);
        UEXPECT_EQ(sys_cap_close(0), -EBADF);
        UEXPECT_EQ(sys_cap_close(-1), -EBADF);
        UEXPECT_EQ(sys_cap_close(NO_SUCH_HANDLE), -EBADF);
    }
}

// Revoking closes what was derived - duplicates and theirs - never the
// handle itself.
UTEST(cap_revoke)
{
    FOR_EACH_SYSCALL_MODE() {
        struct cap_info info;
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        int a = sys_cap_dup(ep, CAP_SEND | CAP_GRANT, 0);
        int b = sys_cap_dup(a, CAP_SEND, 0);
        int c = sys_cap_dup(ep, CAP_RECV, 5);
        UEXPECT_GT(a, 0);
        UEXPECT_GT(b, 0);
        UEXPECT_GT(c, 0);
        UEXPECT_EQ(sys_cap_revoke(ep), 3);
        UEXPECT_EQ(sys_cap_info(a, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(b, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(c, &info), -EBADF);
        UEXPECT_EQ(sys_cap_info(ep, &info), 0);
        UEXPECT_EQ(sys_cap_revoke(ep), 0);
        UEXPECT_EQ(sys_cap_revoke(NO_SUCH_HANDLE), -EBADF);
        UEXPECT_EQ(sys_cap_close(ep), 0);
        UEXPECT_EQ(sys_cap_revoke(ep), -EBADF);
    }
}

// The copy a child got at spawn is derived from the parent's handle: revoked
// while the child waits on it, its wait ends with -EBADF (ipc_echo then
// exits with ECHO_EXIT_REVOKED).
UTEST(cap_revoke_reaches_a_child)
{
    int module = module_find("ipc_echo");
    UASSERT_GT(module, 0);
    FOR_EACH_SYSCALL_MODE() {
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        int proc = sys_spawn(module, &ep, 1);
        UASSERT_GT(proc, 0);
        struct ipc_words reply;
        UEXPECT_EQ(sys_ipc_call(ep, 1, 2, NULL, &reply), 0); // it serves
        UEXPECT_UEQ(reply.w0, 2);
        UEXPECT_EQ(sys_cap_revoke(ep), 1);
        UEXPECT_EQ(finish(proc), ECHO_EXIT_REVOKED);
        UEXPECT_EQ(sys_cap_close(ep), 0);
    }
}

UTEST(cap_list)
{
    int all[CAPS_PER_PROCESS];
    int n = sys_cap_list(all, CAPS_PER_PROCESS);
    UASSERT_GE(n, 2);
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_cap_list(NULL, 0), n);
        int few[3] = { -7, -7, -7 };
        UEXPECT_EQ(sys_cap_list(few, 2), n);
        UEXPECT_EQ(few[0], all[0]);
        UEXPECT_EQ(few[1], all[1]);
        UEXPECT_EQ(few[2], -7); // only max are stored
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        int now[CAPS_PER_PROCESS];
        UEXPECT_EQ(sys_cap_list(now, CAPS_PER_PROCESS), n + 1);
        bool found = false;
        for (int i = 0; i <= n && i < CAPS_PER_PROCESS; i++) {
            found |= now[i] == ep;
            if (i > 0 && !UEXPECT_LT(now[i - 1], now[i])) // lowest first
                break;
        }
        UEXPECT_TRUE(found);
        UEXPECT_EQ(sys_cap_close(ep), 0);
        UEXPECT_EQ(sys_cap_list(now, CAPS_PER_PROCESS), n);
    }
}

UTEST(cap_list_bad_pointers)
{
    static int extra[16];
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    // Enough handles open that every range below is written to its end.
    for (unsigned i = 0; i < ARRAY_SIZE(extra); i++)
        extra[i] = sys_endpoint_create();
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_cap_list((int *)bad[i].addr, bad[i].len / 4), &bad[i]);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(extra); i++)
        UEXPECT_EQ(sys_cap_close(extra[i]), 0);
}

// Opens endpoints until the table is full; returns how many (eps[0, n))
// and, in *refusal, what the one too many got.
static unsigned
fill_table(int eps[CAPS_PER_PROCESS], int *refusal)
{
    unsigned n = 0;
    *refusal = 0;
    while (n < CAPS_PER_PROCESS && (*refusal = sys_endpoint_create()) > 0)
        eps[n++] = *refusal;
    return n;
}

// CAPS_PER_PROCESS open handles, then -EMFILE for whatever makes one more.
UTEST(handle_table_full)
{
    static int eps[CAPS_PER_PROCESS];
    int open = sys_cap_list(NULL, 0);
    UASSERT_GT(open, 0);
    int r;
    unsigned n = fill_table(eps, &r);
    UEXPECT_EQ(r, -EMFILE);
    UEXPECT_UEQ(open + n, CAPS_PER_PROCESS);
    if (n > 0)
        UEXPECT_EQ(sys_cap_dup(eps[0], CAP_SEND, 0), -EMFILE);
    s_release = true; // should a thread start after all, it ends
    UEXPECT_EQ(thread_spawn(park, NULL, s_stacks[0], THREAD_STACK), -EMFILE);
    for (unsigned i = 0; i < n; i++)
        UEXPECT_EQ(sys_cap_close(eps[i]), 0);
    r = sys_endpoint_create();
    UEXPECT_GT(r, 0);
    UEXPECT_EQ(sys_cap_close(r), 0);
}

// With the table full but for one slot, closing a handle and opening
// another reuses that slot: the old number must not name the new object.
UTEST(closed_handle_numbers_stay_dead)
{
    static int eps[CAPS_PER_PROCESS];
    int r;
    unsigned n = fill_table(eps, &r);
    UASSERT_GT(n, 0);
    FOR_EACH_SYSCALL_MODE() {
        struct cap_info info;
        int old = eps[n - 1];
        UEXPECT_EQ(sys_cap_close(old), 0);
        eps[n - 1] = sys_endpoint_create(); // the one free slot
        UASSERT_GT(eps[n - 1], 0);
        UEXPECT_NE(eps[n - 1], old);
        UEXPECT_EQ(sys_cap_info(old, &info), -EBADF);
        UEXPECT_EQ(sys_cap_dup(old, CAP_SEND, 0), -EBADF);
        UEXPECT_EQ(sys_cap_revoke(old), -EBADF);
        UEXPECT_EQ(sys_cap_close(old), -EBADF);
        UEXPECT_EQ(sys_cap_info(eps[n - 1], &info), 0);
    }
    for (unsigned i = 0; i < n; i++)
        UEXPECT_EQ(sys_cap_close(eps[i]), 0);
}

// ---- Console -------------------------------------------------------------------

UTEST(debug_write)
{
    static char big[DEBUG_WRITE_MAX + 1];
    // A KTAP diagnostic line, so that the output stays well-formed.
    memset(big, '.', sizeof big);
    memcpy(big, "  # a debug_write of DEBUG_WRITE_MAX bytes ", 43);
    big[DEBUG_WRITE_MAX - 1] = '\n';
    FOR_EACH_SYSCALL_MODE() {
        static const char line[] = "  # a debug_write\n";
        UEXPECT_EQ(sys_debug_write(line, sizeof line - 1), (long)sizeof line - 1);
        UEXPECT_EQ(sys_debug_write(line, 0), 0);
        UEXPECT_EQ(sys_debug_write(big, DEBUG_WRITE_MAX), DEBUG_WRITE_MAX);
        UEXPECT_EQ(sys_debug_write(big, DEBUG_WRITE_MAX + 1), -EINVAL);
        UEXPECT_EQ(sys_debug_write(big, 0xFFFFFFFFu), -EINVAL);
    }
}

UTEST(debug_write_bad_pointers)
{
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_debug_write((const void *)bad[i].addr, bad[i].len), &bad[i]);
    }
}

// ---- Figures ----------------------------------------------------------------------

UTEST(sysinfo)
{
    FOR_EACH_SYSCALL_MODE() {
        struct sysinfo info;
        unsigned t0 = sys_time();
        UASSERT_EQ(sys_sysinfo(&info), 0);
        unsigned t1 = sys_time();
        UEXPECT_UEQ(info.test_mode, 1);
        UEXPECT_UGE(info.ticks, t0);
        UEXPECT_ULE(info.ticks, t1);
        UEXPECT_UGT(info.module_count, (unsigned)module_find("fault_child"));
        UEXPECT_UGE(info.processes, 2); // init and this one
        UEXPECT_UGE(info.threads, info.processes);
        UEXPECT_UGT(info.frames_free, 0);
        UEXPECT_UGT(info.heap_live_blocks, 0);
        UEXPECT_UGT(info.heap_bytes_in_use, 0);
        UEXPECT_UGE(info.handles, (unsigned)sys_cap_list(NULL, 0));
        UEXPECT_UGE(info.objects, info.processes);
    }
}

// An endpoint is one object and one handle; a copy is one more handle.
UTEST(sysinfo_counts_handles_and_objects)
{
    FOR_EACH_SYSCALL_MODE() {
        struct sysinfo before, one, two, after;
        UASSERT_EQ(sys_sysinfo(&before), 0);
        int ep = sys_endpoint_create();
        UASSERT_GT(ep, 0);
        UEXPECT_EQ(sys_sysinfo(&one), 0);
        int copy = sys_cap_dup(ep, CAP_SEND, 0);
        UEXPECT_GT(copy, 0);
        UEXPECT_EQ(sys_sysinfo(&two), 0);
        UEXPECT_EQ(sys_cap_close(ep), 0);
        UEXPECT_EQ(sys_cap_close(copy), 0);
        UEXPECT_EQ(sys_sysinfo(&after), 0);
        UEXPECT_UEQ(one.handles, before.handles + 1);
        UEXPECT_UEQ(one.objects, before.objects + 1);
        UEXPECT_UEQ(two.handles, before.handles + 2);
        UEXPECT_UEQ(two.objects, before.objects + 1);
        UEXPECT_UEQ(after.handles, before.handles);
        UEXPECT_UEQ(after.objects, before.objects);
    }
}

UTEST(sysinfo_counts_threads)
{
    struct sysinfo before, during;
    s_release = false;
    UASSERT_EQ(sys_sysinfo(&before), 0);
    int thread = thread_spawn(park, NULL, s_stacks[0], THREAD_STACK);
    UASSERT_GT(thread, 0);
    UEXPECT_EQ(sys_sysinfo(&during), 0);
    s_release = true;
    UEXPECT_UEQ(during.threads, before.threads + 1);
    UEXPECT_UEQ(during.processes, before.processes);
    UEXPECT_UEQ(during.handles, before.handles + 1); // the thread handle
    UEXPECT_UEQ(during.objects, before.objects + 1); // the thread record
    UEXPECT_EQ(finish(thread), 0);
}

UTEST(sysinfo_bad_pointers)
{
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_sysinfo((struct sysinfo *)bad[i].addr), &bad[i]);
    }
}

UTEST(kfast_stats)
{
    FOR_EACH_SYSCALL_MODE() {
        struct kfast_stats a, b;
        UASSERT_EQ(sys_kfast_stats(&a), 0);
        UASSERT_EQ(sys_kfast_stats(&b), 0);
        UEXPECT_TRUE(a.block_size == 4096 || a.block_size == 8192 || a.block_size == 16384);
        UEXPECT_ULT(a.in_use, a.block_size);
        UEXPECT_ULE(a.in_use, a.peak);
        UEXPECT_ULE(a.peak, a.block_size);
        UEXPECT_ULT(a.stack_low_water, a.block_size);
        UEXPECT_UEQ(a.collisions, 0);
        UEXPECT_UGE(b.resets, a.resets);
        UEXPECT_UGE(b.allocations, a.allocations);
        UEXPECT_UGE(b.peak, a.peak);
    }
}

UTEST(kfast_stats_bad_pointers)
{
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_kfast_stats((struct kfast_stats *)bad[i].addr), &bad[i]);
    }
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
    int here;
    s_main_stack = (uintptr_t)&here;
    s_main_tid = sys_gettid();
    return utest_run("test_syscalls");
}
