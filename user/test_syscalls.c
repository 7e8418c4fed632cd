// Every system call's success and error paths except IPC's (user/test_ipc.c),
// each through both int 0x80 and sysenter.
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define STR_(x)         #x
#define STR(x)          STR_(x)

#define STACK_TOP       0xBFFF0000u     // the initial stack ends here (ABI)
#define STACK_SIZE      0x10000u
#define USER_LO         0x00400000u
#define FAULT_CHILD_EXIT (128 + 14)     // fault_child's page fault

#define THREAD_STACK    2048

extern char _end[];                     // the first page past the image (user/user.ld)

static int s_main_tid;                  // also the pid: a process's first thread
static uintptr_t s_main_stack;          // an address in main's frame

static uint8_t s_stacks[THREADS_PER_PROCESS][THREAD_STACK] ALIGNED(16);

// ---- Helpers ------------------------------------------------------------------

// A range no system call may read or write.
struct bad_range {
    uintptr_t addr;
    unsigned len;                       // for calls that take a length
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

// ---- Assembly probes ------------------------------------------------------------

// Registers as raw_thread_entry found them: eax ebx ecx edx esi edi ebp esp.
volatile uint32_t raw_regs[8];
volatile bool raw_done;
void raw_thread_entry(void);

// Registers after a SYS_GETTID that was entered with known values:
// out = ebx ecx edx esi edi ebp eax.
void probe_int80(uint32_t out[7]);
void probe_sysenter(uint32_t out[7]);

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

// ---- Process start and the entry paths -----------------------------------------

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
    static const long numbers[] = { 0, -1, SYS_COUNT, SYS_COUNT + 1, 1000, 0x7FFFFFFF,
                                    -0x7FFFFFFF - 1 };
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
        uintptr_t top = (uintptr_t)s_stacks[1];     // the top of s_stacks[0]
        raw_done = false;
        for (unsigned i = 0; i < 8; i++)
            raw_regs[i] = 0xBADBAD;
        int tid = sys_thread_create((uintptr_t)raw_thread_entry, top, 0x12345678);
        UASSERT_GT(tid, 0);
        UEXPECT_NE(tid, s_main_tid);
        UASSERT_TRUE(wait_for(&raw_done, 500));
        UEXPECT_UEQ(raw_regs[0], 0x12345678);       // eax = arg
        for (unsigned i = 1; i < 7; i++)
            if (!UEXPECT_UEQ(raw_regs[i], 0))
                utest_note("  register %u of eax ebx ecx edx esi edi ebp", i);
        UEXPECT_UEQ(raw_regs[7], top);
        UEXPECT_TRUE(wait_gone(tid, 500));
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
    s_spawned_done = true;              // never reached
    return 0;
}

UTEST(thread_spawn_runs_fn_with_arg)
{
    FOR_EACH_SYSCALL_MODE() {
        s_spawned_done = false;
        int tid = thread_spawn(record_and_return, (void *)0xCAFE, s_stacks[0], THREAD_STACK);
        UASSERT_GT(tid, 0);
        UASSERT_TRUE(wait_for(&s_spawned_done, 500));
        UEXPECT_EQ(s_spawned_tid, tid);
        UEXPECT_UEQ((uintptr_t)s_spawned_arg, 0xCAFE);
        UEXPECT_TRUE(wait_gone(tid, 500));
    }
}

UTEST(thread_exit_ends_only_the_thread)
{
    FOR_EACH_SYSCALL_MODE() {
        s_spawned_done = false;
        int tid = thread_spawn(exit_midway, NULL, s_stacks[0], THREAD_STACK);
        UASSERT_GT(tid, 0);
        UEXPECT_TRUE(wait_gone(tid, 500));
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
park_until_refused(int tids[THREADS_PER_PROCESS], int *refusal)
{
    unsigned n = 0;
    *refusal = 0;
    while (n < THREADS_PER_PROCESS) {
        int r = thread_spawn(park, NULL, s_stacks[n], THREAD_STACK);
        if (r < 0) {
            *refusal = r;
            break;
        }
        tids[n++] = r;
    }
    return n;
}

UTEST(thread_limit)
{
    FOR_EACH_SYSCALL_MODE() {
        int tids[THREADS_PER_PROCESS], refusal;
        s_release = false;
        unsigned n = park_until_refused(tids, &refusal);
        UEXPECT_EQ(refusal, -EAGAIN);
        UEXPECT_EQ(n + 1, THREADS_PER_PROCESS);     // and the main thread
        s_release = true;
        for (unsigned i = 0; i < n; i++)
            UEXPECT_TRUE(wait_gone(tids[i], 500));
    }
}

// ---- Processes and modules ---------------------------------------------------

UTEST(spawn_and_wait)
{
    int index = module_find("fault_child");
    UASSERT_GT(index, 0);
    FOR_EACH_SYSCALL_MODE() {
        int pid = sys_spawn((unsigned)index);
        UEXPECT_GT(pid, 0);
        if (pid > 0)
            UEXPECT_EQ(sys_wait(pid), FAULT_CHILD_EXIT);
    }
}

UTEST(spawn_errors)
{
    struct sysinfo info;
    UASSERT_EQ(sys_sysinfo(&info), 0);
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_spawn(info.module_count), -ENOENT);
        UEXPECT_EQ(sys_spawn(info.module_count + 1000), -ENOENT);
        UEXPECT_EQ(sys_spawn(0xFFFFFFFFu), -ENOENT);
    }
}

UTEST(wait_errors)
{
    FOR_EACH_SYSCALL_MODE() {
        UEXPECT_EQ(sys_wait(0x7FFFFFF0), -ESRCH);
        UEXPECT_EQ(sys_wait(s_main_tid), -EDEADLK);
    }
}

UTEST(module_name)
{
    struct sysinfo info;
    UASSERT_EQ(sys_sysinfo(&info), 0);
    FOR_EACH_SYSCALL_MODE() {
        char name[64];
        UEXPECT_EQ(sys_module_name(0, name, sizeof name), 4);
        UEXPECT_MEMEQ(name, "init", 4);
        UEXPECT_EQ(sys_module_name(0, name, 5), 4);
        UEXPECT_EQ(sys_module_name(0, name, 1), -ENAMETOOLONG);
        UEXPECT_EQ(sys_module_name(0, name, 0), -ENAMETOOLONG);
        UEXPECT_EQ(sys_module_name(info.module_count, name, sizeof name), -ENOENT);
        UEXPECT_EQ(sys_module_name(0xFFFFFFFFu, name, sizeof name), -ENOENT);
        // The whole of [buf, buf + cap) must be user memory, used or not.
        UEXPECT_EQ(sys_module_name(0, name, 0xFFFFFFFFu), -EFAULT);
    }
}

UTEST(module_name_bad_pointers)
{
    struct bad_range bad[8];
    unsigned n = bad_ranges(bad);
    FOR_EACH_SYSCALL_MODE() {
        for (unsigned i = 0; i < n; i++)
            expect_efault(sys_module_name(0, (char *)bad[i].addr, bad[i].len), &bad[i]);
    }
}

UTEST(module_find)
{
    UEXPECT_EQ(module_find("init"), 0);
    UEXPECT_GT(module_find("test_syscalls"), 0);
    UEXPECT_GT(module_find("fault_child"), 0);
    UEXPECT_EQ(module_find("ini"), -ENOENT);
    UEXPECT_EQ(module_find("init2"), -ENOENT);
    UEXPECT_EQ(module_find(""), -ENOENT);
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
        UEXPECT_UGE(info.processes, 2);             // init and this one
        UEXPECT_UGE(info.threads, info.processes);
        UEXPECT_UGT(info.frames_free, 0);
        UEXPECT_UGT(info.heap_live_blocks, 0);
        UEXPECT_UGT(info.heap_bytes_in_use, 0);
    }
}

UTEST(sysinfo_counts_threads)
{
    struct sysinfo before, during;
    int tid;
    s_release = false;
    UASSERT_EQ(sys_sysinfo(&before), 0);
    tid = thread_spawn(park, NULL, s_stacks[0], THREAD_STACK);
    UASSERT_GT(tid, 0);
    UEXPECT_EQ(sys_sysinfo(&during), 0);
    s_release = true;
    UEXPECT_UEQ(during.threads, before.threads + 1);
    UEXPECT_UEQ(during.processes, before.processes);
    UEXPECT_TRUE(wait_gone(tid, 500));
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

int
main(void)
{
    int here;
    s_main_stack = (uintptr_t)&here;
    s_main_tid = sys_gettid();
    return utest_run("test_syscalls");
}
