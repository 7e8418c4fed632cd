// Every exception class ring 3 can raise kills the raising thread alone:
// for each class a fresh exc_child process runs the faulting code in a
// thread while a sibling counts and reports what it saw (the victim gone,
// the sibling still counting, the process alive to answer), then raises
// the class in its last thread, so its exit code, 128 + the vector, shows
// that the kernel killed it for the right reason.  Every child is started
// with an endpoint of its own (the protocol: user/exc_child.c) and leaves
// no handle, object or thread behind.
//
// Not here, because ring 3 cannot reach them on Tandem: #MF and #XM (CR0.EM
// turns x87 instructions into #NM and SSE ones into #UD, which are tested),
// #SS, #NP and #TS (flat segments), #DF and #MC.
#include "leak_check.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define EXIT_SURVIVED 1 // exc_child outlived its fault (user/exc_child.c)
#define NOTE_MAX      128
#define COUNTER_STACK 4096
#define WAIT_TICKS    500

enum vector {
    VEC_DE = 0,
    VEC_DB = 1,
    VEC_BP = 3,
    VEC_OF = 4,
    VEC_BR = 5,
    VEC_UD = 6,
    VEC_NM = 7,
    VEC_GP = 13,
    VEC_PF = 14,
    VEC_AC = 17,
};

static int s_child = -1;      // exc_child's module handle
static struct sysinfo s_base; // the counters before anything started

// The parent's own sibling thread, which must count through every test.
static uint8_t s_counter_stack[COUNTER_STACK] ALIGNED(16);
static volatile unsigned s_count;
static volatile bool s_stop;
static int s_counter; // its handle

static int
count(void *arg)
{
    (void)arg;
    while (!s_stop) {
        s_count++;
        sys_yield();
    }
    return 0;
}

// Whether this CPU is QEMU's TCG, which does not emulate alignment checks:
// the hypervisor leaf's signature says so.
static bool
cpu_is_qemu_tcg(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 31))) // CPUID.1:ECX.hypervisor
        return false;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
    char sig[13];
    memcpy(sig + 0, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    return strcmp(sig, "TCGTCGTCGTCG") == 0;
}

// What one exc_child run gave.
struct outcome {
    int call;            // sys_ipc_call's result
    unsigned failures;   // the child's failed in-process checks
    char note[NOTE_MAX]; // the first of them, as text
    int code;            // sys_wait's result
};

// Starts exc_child with an endpoint it receives on as its handle 1, and
// keeps only a CAP_SEND duplicate: should the child die before it answers,
// the call fails with -EPIPE instead of waiting for ever.  Returns the
// process handle, or 0 after reporting; *endpoint: the send handle.
static int
start_child(int *endpoint, const char *file, int line)
{
    if (!utest_check_int(UT_GT, s_child, 0, "exc_child's module handle", "0", file, line))
        return 0;
    int ep = sys_endpoint_create();
    if (!utest_check_int(UT_GT, ep, 0, "sys_endpoint_create()", "0", file, line))
        return 0;
    int proc = sys_spawn(s_child, &ep, 1);
    *endpoint = sys_cap_dup(ep, CAP_SEND, 0);
    sys_cap_close(ep); // the child's copy stays: closing is not revoking
    if (!utest_check_int(UT_GT, proc, 0, "sys_spawn(exc_child)", "0", file, line)) {
        sys_cap_close(*endpoint);
        return 0;
    }
    return proc;
}

// Starts exc_child, asks it for class `name` with `arg`, waits for its end.
static bool
run_child(const char *name, unsigned arg, struct outcome *o, const char *file, int line)
{
    memset(o, 0, sizeof *o);
    int ep;
    int proc = start_child(&ep, file, line);
    if (proc <= 0)
        return false;
    size_t len = strlen(name);
    memcpy(o->note, name, len);
    struct ipc_buf buf = { o->note, len, sizeof o->note - 1, 0 };
    struct ipc_words reply = { 0, 0, 0 };
    o->call = sys_ipc_call(ep, arg, 0, &buf, &reply);
    o->failures = reply.w0;
    o->note[o->call == 0 ? buf.len : 0] = '\0';
    o->code = sys_wait(proc, WAIT_TICKS);
    if (o->code == -ETIMEDOUT) {
        sys_kill(proc);
        sys_wait(proc, WAIT_FOREVER);
    }
    sys_cap_close(ep);
    sys_cap_close(proc);
    return true;
}

// Expects the child to pass its in-process checks and die by `vector`.
static void
check_class(const char *name, int vector, const char *file, int line)
{
    struct outcome o;
    utest_context(name);
    if (!run_child(name, 0, &o, file, line))
        return;
    utest_check_int(UT_EQ, o.call, 0, "sys_ipc_call(exc_child)", "0", file, line);
    if (!utest_check_uint(UT_EQ, o.failures, 0, "exc_child's failed checks", "0", file, line))
        utest_note("  exc_child: %s", o.note);
    utest_check_int(UT_EQ, o.code, 128 + vector, "exit code", "128 + vector", file, line);
}

#define CHECK_CLASS(name, vector) check_class(name, vector, __FILE__, __LINE__)

UTEST(start)
{
    s_child = module_find("exc_child");
    UASSERT_GT(s_child, 0);
    UASSERT_TRUE(sysinfo_settled(&s_base, WAIT_TICKS));
    s_stop = false;
    s_counter = thread_spawn(count, NULL, s_counter_stack, sizeof s_counter_stack);
    UEXPECT_GT(s_counter, 0);
}

// One test a line, a table of exception and vector (clang-format would give
// each its four lines).
// clang-format off
UTEST(divide_error)                 { CHECK_CLASS("divide", VEC_DE); }
UTEST(divide_overflow)              { CHECK_CLASS("divide_overflow", VEC_DE); }
UTEST(debug_single_step)            { CHECK_CLASS("debug", VEC_DB); }
UTEST(breakpoint_int3)              { CHECK_CLASS("breakpoint", VEC_BP); }
UTEST(overflow_into)                { CHECK_CLASS("overflow", VEC_OF); }
UTEST(bound_range)                  { CHECK_CLASS("bound", VEC_BR); }
UTEST(invalid_opcode_ud2)           { CHECK_CLASS("invalid_opcode", VEC_UD); }
UTEST(sse_is_invalid_opcode)        { CHECK_CLASS("sse", VEC_UD); }
UTEST(x87_is_device_not_available)  { CHECK_CLASS("x87", VEC_NM); }
UTEST(gp_hlt)                       { CHECK_CLASS("gp_hlt", VEC_GP); }
UTEST(gp_cli)                       { CHECK_CLASS("gp_cli", VEC_GP); }
UTEST(gp_port_in)                   { CHECK_CLASS("gp_in", VEC_GP); }
UTEST(gp_port_out)                  { CHECK_CLASS("gp_out", VEC_GP); }
UTEST(gp_bad_selector)              { CHECK_CLASS("gp_selector", VEC_GP); }
UTEST(gp_int_to_a_kernel_gate)      { CHECK_CLASS("gp_int", VEC_GP); }
UTEST(pf_read_unmapped)             { CHECK_CLASS("pf_read_unmapped", VEC_PF); }
UTEST(pf_write_unmapped)            { CHECK_CLASS("pf_write_unmapped", VEC_PF); }
UTEST(pf_write_read_only_text)      { CHECK_CLASS("pf_write_text", VEC_PF); }
UTEST(pf_read_kernel)               { CHECK_CLASS("pf_read_kernel", VEC_PF); }
UTEST(pf_write_kernel)              { CHECK_CLASS("pf_write_kernel", VEC_PF); }
UTEST(pf_exec_unmapped)             { CHECK_CLASS("pf_exec_unmapped", VEC_PF); }
UTEST(pf_exec_kernel)               { CHECK_CLASS("pf_exec_kernel", VEC_PF); }
UTEST(pf_below_the_stack_limit)     { CHECK_CLASS("pf_stack_limit", VEC_PF); }
// clang-format on

// CR0.AM is set, so EFLAGS.AC makes a misaligned access #AC in ring 3 -
// on hardware and under KVM.  QEMU's TCG ignores alignment checks: there
// the child survives, which is noted, not failed.
UTEST(alignment_check)
{
    struct outcome o;
    UASSERT_TRUE(run_child("alignment", 0, &o, __FILE__, __LINE__));
    UEXPECT_EQ(o.call, 0);
    if (o.code == EXIT_SURVIVED && cpu_is_qemu_tcg()) {
        utest_note("#AC not raised: QEMU's TCG does not emulate alignment checks");
        return;
    }
    if (!UEXPECT_UEQ(o.failures, 0))
        utest_note("  exc_child: %s", o.note);
    UEXPECT_EQ(o.code, 128 + VEC_AC);
}

// Whether CPUID says this CPU has UMIP (leaf 7, subleaf 0, ECX bit 2).
static bool
cpu_has_umip(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    if (a < 7)
        return false;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
    return c & (1u << 2);
}

// With UMIP the kernel turns it on, and the instructions that would show
// ring 3 where the GDT, IDT, LDT and TSS are raise #GP.  Either way the
// kernel must report what it did, and report it truly.
UTEST(umip_on_when_the_cpu_has_it)
{
    struct sysinfo info;
    UASSERT_EQ(sys_sysinfo(&info), 0);
    bool present = cpu_has_umip();
    UEXPECT_UEQ(info.umip, present);
    if (!present) {
        utest_note("UMIP not in CPUID: sgdt and friends stay readable (try QEMU -cpu max)");
        return;
    }
    CHECK_CLASS("umip_sgdt", VEC_GP);
    CHECK_CLASS("umip_sidt", VEC_GP);
    CHECK_CLASS("umip_sldt", VEC_GP);
    CHECK_CLASS("umip_smsw", VEC_GP);
    CHECK_CLASS("umip_str", VEC_GP);
}

UTEST(unknown_class_is_refused)
{
    struct outcome o;
    UASSERT_TRUE(run_child("no_such_class", 0, &o, __FILE__, __LINE__));
    UEXPECT_EQ(o.call, 0);
    UEXPECT_UEQ(o.failures, 1);
    UEXPECT_STREQ(o.note, "unknown class");
    UEXPECT_EQ(o.code, 2); // EXIT_UNKNOWN
}

// sys_exit from one thread ends its running sibling too; the code is the
// process's.
UTEST(exit_ends_every_thread)
{
    static const unsigned codes[] = { 0, 7, 127, 255 };
    for (unsigned i = 0; i < ARRAY_SIZE(codes); i++) {
        struct outcome o;
        UASSERT_TRUE(run_child("exit", codes[i], &o, __FILE__, __LINE__));
        UEXPECT_EQ(o.call, 0);
        UEXPECT_UEQ(o.failures, 0);
        UEXPECT_EQ(o.code, (int)codes[i]);
    }
}

UTEST(last_thread_exit_sets_the_code)
{
    struct outcome o;
    UASSERT_TRUE(run_child("thread_exit", 42, &o, __FILE__, __LINE__));
    UEXPECT_EQ(o.call, 0);
    UEXPECT_UEQ(o.failures, 0);
    UEXPECT_EQ(o.code, 42);
}

// Through all of the above, this process's own sibling kept counting.
UTEST(parent_counter_ran_throughout)
{
    unsigned before = s_count, start = sys_time();
    while (s_count == before && sys_time() - start < WAIT_TICKS)
        sys_sleep(1);
    UEXPECT_UNE(s_count, before);
    s_stop = true;
    UEXPECT_EQ(sys_wait(s_counter, WAIT_TICKS), 0);
    UEXPECT_EQ(sys_cap_close(s_counter), 0);
}

// Every child, its threads and the handles that named them are gone: the
// counters are back where they were before the first.
UTEST(nothing_left_behind)
{
    EXPECT_COUNTS_BACK(&s_base, WAIT_TICKS);
}

int
main(void)
{
    return utest_run("test_exceptions");
}
