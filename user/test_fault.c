// A thread killed by an exception takes nothing else with it: its sibling
// threads keep running and the process lives on.  A killed thread's exit
// code, and that of a process whose last thread is killed, is 128 + the
// vector.  Every thread handle is closed again: nothing is left behind.
#include "leak_check.h"
#include "tandem.h"
#include "utest.h"

#define COUNTERS     2
#define THREAD_STACK 4096
#define WAIT_TICKS   500 // a generous bound on anything awaited

enum vector { VEC_DE = 0, VEC_UD = 6, VEC_GP = 13, VEC_PF = 14 };

static uint8_t s_counter_stacks[COUNTERS][THREAD_STACK] ALIGNED(16);
static uint8_t s_victim_stack[THREAD_STACK] ALIGNED(16);

static volatile unsigned s_counts[COUNTERS];
static volatile bool s_stop;
static int s_counters[COUNTERS]; // thread handles
static struct sysinfo s_base;    // before the counters started
static volatile bool s_survived; // set by a victim that outlived its fault
static volatile int s_sink;

// Counts until told to stop, yielding so that one CPU serves everybody.
static int
count(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    while (!s_stop) {
        s_counts[i]++;
        sys_yield();
    }
    return 0;
}

// Whether every counter moves past where it is now within `ticks`.
static bool
counters_advance(unsigned ticks)
{
    unsigned before[COUNTERS];
    for (unsigned i = 0; i < COUNTERS; i++)
        before[i] = s_counts[i];
    unsigned start = sys_time();
    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < COUNTERS; i++)
            all &= s_counts[i] != before[i];
        if (all)
            return true;
        if (sys_time() - start > ticks)
            return false;
        sys_sleep(1);
    }
}

// Runs victim in a thread and checks that it died at its fault, with exit
// code 128 + vector, and that the counters and this thread carried on.
static void
check_fault(int (*victim)(void *), int vector, const char *file, int line)
{
    s_survived = false;
    int thread = thread_spawn(victim, NULL, s_victim_stack, sizeof s_victim_stack);
    if (!utest_check_int(UT_GT, thread, 0, "thread_spawn(victim)", "0", file, line))
        return;
    int code = sys_wait(thread, WAIT_TICKS);
    utest_check_int(UT_EQ, sys_cap_close(thread), 0, "sys_cap_close(thread)", "0", file, line);
    if (!utest_check_int(UT_NE, code, -ETIMEDOUT, "sys_wait(victim)", "-ETIMEDOUT", file, line))
        return;
    utest_check_int(UT_EQ, code, 128 + vector, "the victim's exit code", "128 + vector", file,
                    line);
    utest_check_int(UT_EQ, s_survived, 0, "survived its fault", "false", file, line);
    utest_check_int(UT_NE, counters_advance(WAIT_TICKS), 0, "counters advance", "false", file,
                    line);
}

#define CHECK_FAULT(victim, vector) check_fault(victim, vector, __FILE__, __LINE__)

// The faults.  Each goes through inline assembly or a volatile pointer:
// gcc may delete an access it can prove undefined, or emit ud2 instead.

static int
write_null(void *arg)
{
    __asm__ volatile("movl $1, (%0)" : : "r"(arg) : "memory");
    s_survived = true;
    return 0;
}

static int
read_kernel(void *arg)
{
    volatile int *volatile p = (int *)0xC0000000u;
    (void)arg;
    s_sink = *p;
    s_survived = true;
    return 0;
}

static int
invalid_opcode(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2");
    s_survived = true;
    return 0;
}

static int
divide_by_zero(void *arg)
{
    (void)arg;
    __asm__ volatile("xor %%edx, %%edx\n\t"
                     "xor %%ecx, %%ecx\n\t"
                     "div %%ecx"
                     :
                     :
                     : "eax", "ecx", "edx");
    s_survived = true;
    return 0;
}

static int
privileged_instruction(void *arg)
{
    (void)arg;
    __asm__ volatile("hlt");
    s_survived = true;
    return 0;
}

UTEST(counters_start)
{
    UASSERT_TRUE(sysinfo_settled(&s_base, WAIT_TICKS));
    s_stop = false;
    for (unsigned i = 0; i < COUNTERS; i++) {
        s_counters[i] =
            thread_spawn(count, (void *)(uintptr_t)i, s_counter_stacks[i], THREAD_STACK);
        UASSERT_GT(s_counters[i], 0);
    }
    UEXPECT_TRUE(counters_advance(WAIT_TICKS));
}

UTEST(null_write_kills_only_its_thread)
{
    CHECK_FAULT(write_null, VEC_PF);
}

UTEST(kernel_read_kills_only_its_thread)
{
    CHECK_FAULT(read_kernel, VEC_PF);
}

UTEST(ud2_kills_only_its_thread)
{
    CHECK_FAULT(invalid_opcode, VEC_UD);
}

UTEST(divide_by_zero_kills_only_its_thread)
{
    CHECK_FAULT(divide_by_zero, VEC_DE);
}

UTEST(hlt_kills_only_its_thread)
{
    CHECK_FAULT(privileged_instruction, VEC_GP);
}

UTEST(faults_in_both_modes)
{
    // The entry path that created the victim must not matter.
    FOR_EACH_SYSCALL_MODE()
        CHECK_FAULT(write_null, VEC_PF);
}

UTEST(process_survives_and_counters_stop)
{
    UEXPECT_TRUE(counters_advance(WAIT_TICKS));
    s_stop = true;
    for (unsigned i = 0; i < COUNTERS; i++) {
        UEXPECT_EQ(sys_wait(s_counters[i], WAIT_TICKS), 0);
        UEXPECT_EQ(sys_cap_close(s_counters[i]), 0);
    }
    UEXPECT_GT(sys_gettid(), 0);
}

UTEST(faulting_process_exit_code)
{
    int module = module_find("fault_child");
    UASSERT_GT(module, 0);
    int proc = sys_spawn(module, NULL, 0);
    UASSERT_GT(proc, 0);
    UEXPECT_EQ(sys_wait(proc, WAIT_TICKS), 128 + VEC_PF);
    UEXPECT_EQ(sys_cap_close(proc), 0);
}

// Every thread and process above, killed or ended, is gone with its
// handles and objects: the counters are back where they were.
UTEST(nothing_left_behind)
{
    EXPECT_COUNTS_BACK(&s_base, WAIT_TICKS);
}

int
main(void)
{
    return utest_run("test_fault");
}
