// test_exceptions' and test_fuzz's partner: raises one exception class (or
// ends itself one way) on request, so that the parent can check both halves
// of "a thread killed by an exception dies alone".
//
// The protocol:
//   0. The parent creates an endpoint and spawns exc_child with it as its
//      only handle: sys_spawn(module, &endpoint, 1).  exc_child receives on
//      handle 1 (it needs CAP_RECV there and nothing else).  A parent that
//      then keeps only a CAP_SEND duplicate (sys_cap_dup, then closes its
//      own CAP_RECV handle) hears -EPIPE instead of waiting for ever should
//      the child die before it receives.
//   1. The parent calls it (sys_ipc_call on the endpoint) with the class's
//      name as payload (at most NAME_MAX - 1 bytes) and a code in w0.
//   2. It runs the class's code in a fresh thread while a sibling thread
//      counts, checks that the victim is gone without having survived its
//      fault and that the counter kept counting, and replies through the
//      call's reply handle: w0 = how many checks failed, payload = the first
//      failure as text (the caller's buffer should hold NOTE_MAX bytes).
//   3. It raises the class once more in its only thread, so the process ends
//      with 128 + the vector, which the parent reads from sys_wait.  If the
//      CPU raised nothing the process ends with EXIT_SURVIVED.
//
// The names are the protocol: user/test_exceptions.c lists them with their
// vectors.  An unknown name is answered with one failure and exit code
// EXIT_UNKNOWN; so is a receive that fails, or a message that is not a call
// (nothing is answered then).  Two names are not exceptions: "exit" calls
// sys_exit(code) while a sibling thread still runs; "thread_exit" ends the
// last thread with sys_thread_exit(code).
//
// CR0.EM is set, so every x87 instruction raises #NM, and CR4.OSFXSR is
// clear, so every SSE instruction raises #UD: #MF and #XM cannot be reached
// from ring 3 and have no class here.  Segments are flat with limit 4 GiB:
// #SS, #NP and #TS have no ring-3 trigger either.
#include "lib/string.h"
#include "tandem.h"

#define EXIT_SURVIVED 1 // the process outlived its fault
#define EXIT_UNKNOWN  2 // the class's name was unknown, or no call came
#define ENDPOINT      1 // the handle the parent passed: where the call comes
#define THREAD_STACK  4096
#define WAIT_TICKS    500 // a generous bound on anything awaited
#define NAME_MAX      32
#define NOTE_MAX      96

#define EFLAGS_TF (1u << 8)
#define EFLAGS_AC (1u << 18)

// Unmapped in every process: far above any image, far below the stack.
#define UNMAPPED    0x10000000u
#define KERNEL_BASE 0xC0000000u
#define KERNEL_TEXT 0xC0100000u
// The lowest address the main stack may grow down to (include/process.h:
// USER_STACK_TOP - USER_STACK_MAX); a page fault below it is not resolved.
#define STACK_LIMIT (0xBFFF0000u - 0x100000u)

static uint8_t s_counter_stack[THREAD_STACK] ALIGNED(16);
static uint8_t s_victim_stack[THREAD_STACK] ALIGNED(16);

static volatile unsigned s_count;
static volatile bool s_stop;
static volatile bool s_survived; // set by a victim that outlived its fault

// ---- The classes ------------------------------------------------------------------
// Each raise_* executes its faulting instruction in inline assembly: gcc
// may delete, or turn into ud2, an access it can prove undefined.

static void
raise_divide(void)
{
    __asm__ volatile("xor %%edx, %%edx\n\t"
                     "xor %%ecx, %%ecx\n\t"
                     "mov $1, %%eax\n\t"
                     "div %%ecx"
                     :
                     :
                     : "eax", "ecx", "edx");
}

// INT_MIN / -1 does not fit in 32 bits: #DE as well.
static void
raise_divide_overflow(void)
{
    __asm__ volatile("mov $0x80000000, %%eax\n\t"
                     "cdq\n\t"
                     "mov $-1, %%ecx\n\t"
                     "idiv %%ecx"
                     :
                     :
                     : "eax", "ecx", "edx");
}

// EFLAGS.TF: a single-step trap after the instruction that follows popf.
static void
raise_debug(void)
{
    __asm__ volatile("pushf\n\t"
                     "orl %0, (%%esp)\n\t"
                     "popf\n\t"
                     "nop\n\t"
                     "nop"
                     :
                     : "i"(EFLAGS_TF)
                     : "memory", "cc");
}

static void
raise_breakpoint(void)
{
    __asm__ volatile("int3");
}

// into traps when OF is set: 0x7FFFFFFF + 1 overflows.
static void
raise_overflow(void)
{
    __asm__ volatile("mov $0x7FFFFFFF, %%eax\n\t"
                     "add $1, %%eax\n\t"
                     "into"
                     :
                     :
                     : "eax", "cc");
}

// bound: 100 is outside [0, 10].
static void
raise_bound(void)
{
    static const int32_t bounds[2] = { 0, 10 };
    __asm__ volatile("mov $100, %%eax\n\t"
                     "bound %%eax, (%0)"
                     :
                     : "r"(bounds)
                     : "eax", "memory");
}

static void
raise_invalid_opcode(void)
{
    __asm__ volatile("ud2");
}

// CR0.EM with CR4.OSFXSR clear: an SSE instruction is #UD, not #XM.
static void
raise_sse(void)
{
    __asm__ volatile("xorps %%xmm0, %%xmm0" : : : "memory");
}

// CR0.EM: an x87 instruction is #NM (device not available), not #MF.
static void
raise_x87(void)
{
    __asm__ volatile("fld1" : : : "memory");
}

static void
raise_gp_hlt(void)
{
    __asm__ volatile("hlt");
}

static void
raise_gp_cli(void)
{
    __asm__ volatile("cli");
}

// IOPL is 0 and the TSS has no I/O bitmap that opens a port.
static void
raise_gp_in(void)
{
    __asm__ volatile("mov $0x3F8, %%dx\n\t"
                     "inb %%dx, %%al"
                     :
                     :
                     : "eax", "edx");
}

static void
raise_gp_out(void)
{
    __asm__ volatile("mov $0xF4, %%dx\n\t"
                     "xor %%eax, %%eax\n\t"
                     "outb %%al, %%dx"
                     :
                     :
                     : "eax", "edx");
}

// A selector far past the end of the GDT.
static void
raise_gp_selector(void)
{
    __asm__ volatile("mov $0xFFF8, %%eax\n\t"
                     "mov %%eax, %%ds"
                     :
                     :
                     : "eax", "memory");
}

// Vector 0x30 has no DPL 3 gate (only 3, 4 and 0x80 do).
static void
raise_gp_int(void)
{
    __asm__ volatile("int $0x30");
}

static void
raise_pf_read_unmapped(void)
{
    __asm__ volatile("mov (%0), %%eax" : : "r"(UNMAPPED) : "eax", "memory");
}

static void
raise_pf_write_unmapped(void)
{
    __asm__ volatile("movl $1, (%0)" : : "r"(UNMAPPED) : "memory");
}

// The program's own text is mapped read-only.
static void
raise_pf_write_text(void)
{
    __asm__ volatile("movl $1, (%0)" : : "r"(raise_pf_write_text) : "memory");
}

static void
raise_pf_read_kernel(void)
{
    __asm__ volatile("mov (%0), %%eax" : : "r"(KERNEL_BASE) : "eax", "memory");
}

static void
raise_pf_write_kernel(void)
{
    __asm__ volatile("movl $1, (%0)" : : "r"(KERNEL_TEXT) : "memory");
}

static void
raise_pf_exec_unmapped(void)
{
    __asm__ volatile("call *%0" : : "r"(UNMAPPED) : "memory");
}

// The kernel's text is present but supervisor-only.
static void
raise_pf_exec_kernel(void)
{
    __asm__ volatile("call *%0" : : "r"(KERNEL_TEXT) : "memory");
}

// A push just below the lowest address the stack may grow to.
static void
raise_pf_stack_limit(void)
{
    __asm__ volatile("mov %%esp, %%ecx\n\t"
                     "mov %0, %%esp\n\t"
                     "push $0\n\t"
                     "mov %%ecx, %%esp"
                     :
                     : "i"(STACK_LIMIT)
                     : "ecx", "memory");
}

// CR0.AM and EFLAGS.AC in ring 3: a misaligned load is #AC.  The flag is
// cleared again in case the CPU does not check (QEMU's TCG does not).
static void
raise_alignment(void)
{
    static uint32_t words[2];
    __asm__ volatile("pushf\n\t"
                     "orl %1, (%%esp)\n\t"
                     "popf\n\t"
                     "mov 1(%0), %%eax\n\t"
                     "pushf\n\t"
                     "andl %2, (%%esp)\n\t"
                     "popf"
                     :
                     : "r"(words), "i"(EFLAGS_AC), "i"(~EFLAGS_AC)
                     : "eax", "memory", "cc");
}

// The descriptor-table reads UMIP forbids in ring 3 (#GP when CR4.UMIP is on).
static void
raise_umip_sgdt(void)
{
    static uint8_t gdtr[6];
    __asm__ volatile("sgdt (%0)" : : "r"(gdtr) : "memory");
}

static void
raise_umip_sidt(void)
{
    static uint8_t idtr[6];
    __asm__ volatile("sidt (%0)" : : "r"(idtr) : "memory");
}

static void
raise_umip_sldt(void)
{
    __asm__ volatile("sldt %%eax" : : : "eax");
}

static void
raise_umip_smsw(void)
{
    __asm__ volatile("smsw %%eax" : : : "eax");
}

static void
raise_umip_str(void)
{
    __asm__ volatile("str %%eax" : : : "eax");
}

static int s_exit_code;

// Not exceptions: the two ways a process ends by itself, with s_exit_code.
static void
end_exit(void)
{
    sys_exit(s_exit_code);
}

static void
end_thread_exit(void)
{
    sys_thread_exit(s_exit_code);
}

struct exc_class {
    const char *name;
    void (*raise)(void);
};

static const struct exc_class s_classes[] = {
    { "divide", raise_divide },
    { "divide_overflow", raise_divide_overflow },
    { "debug", raise_debug },
    { "breakpoint", raise_breakpoint },
    { "overflow", raise_overflow },
    { "bound", raise_bound },
    { "invalid_opcode", raise_invalid_opcode },
    { "sse", raise_sse },
    { "x87", raise_x87 },
    { "gp_hlt", raise_gp_hlt },
    { "gp_cli", raise_gp_cli },
    { "gp_in", raise_gp_in },
    { "gp_out", raise_gp_out },
    { "gp_selector", raise_gp_selector },
    { "gp_int", raise_gp_int },
    { "pf_read_unmapped", raise_pf_read_unmapped },
    { "pf_write_unmapped", raise_pf_write_unmapped },
    { "pf_write_text", raise_pf_write_text },
    { "pf_read_kernel", raise_pf_read_kernel },
    { "pf_write_kernel", raise_pf_write_kernel },
    { "pf_exec_unmapped", raise_pf_exec_unmapped },
    { "pf_exec_kernel", raise_pf_exec_kernel },
    { "pf_stack_limit", raise_pf_stack_limit },
    { "alignment", raise_alignment },
    { "umip_sgdt", raise_umip_sgdt },
    { "umip_sidt", raise_umip_sidt },
    { "umip_sldt", raise_umip_sldt },
    { "umip_smsw", raise_umip_smsw },
    { "umip_str", raise_umip_str },
    { "exit", end_exit },
    { "thread_exit", end_thread_exit },
};

// ---- The in-process check ----------------------------------------------------------

// Counts until told to stop, yielding so that one CPU serves everybody.
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

static int
victim(void *arg)
{
    ((void (*)(void))arg)();
    s_survived = true;
    return 0;
}

// Whether the counter moves past where it is now within `ticks`.
static bool
counter_advances(unsigned ticks)
{
    unsigned before = s_count, start = sys_time();
    while (s_count == before) {
        if (sys_time() - start > ticks)
            return false;
        sys_sleep(1);
    }
    return true;
}

// What the checks found: failures counted, the first one described.
struct verdict {
    unsigned failures;
    char note[NOTE_MAX];
};

static void
fail(struct verdict *v, const char *what)
{
    if (v->failures++ == 0)
        strlcpy(v->note, what, sizeof v->note);
}

// Whether the thread a handle names ends within `ticks`.  Closes the
// handle either way: an ended thread's record lives while a handle names it.
static bool
thread_ends(int thread, unsigned ticks)
{
    bool ended = sys_wait(thread, ticks) != -ETIMEDOUT;
    sys_cap_close(thread);
    return ended;
}

// Runs c in a victim thread beside a counting thread; stops the counter.
static void
check_in_thread(const struct exc_class *c, struct verdict *v)
{
    s_stop = false;
    s_survived = false;
    int counter = thread_spawn(count, NULL, s_counter_stack, sizeof s_counter_stack);
    if (counter < 0) {
        fail(v, "cannot start the counting thread");
        return;
    }
    if (!counter_advances(WAIT_TICKS))
        fail(v, "the counter did not start");
    int thread = thread_spawn(victim, (void *)c->raise, s_victim_stack, sizeof s_victim_stack);
    if (thread < 0)
        fail(v, "cannot start the victim thread");
    else if (!thread_ends(thread, WAIT_TICKS))
        fail(v, "the victim thread is still there");
    else if (s_survived)
        fail(v, "the victim thread survived its fault");
    if (!counter_advances(WAIT_TICKS))
        fail(v, "the counter stopped with the victim");
    s_stop = true;
    if (!thread_ends(counter, WAIT_TICKS))
        fail(v, "the counting thread did not end");
}

int
main(void)
{
    char name[NAME_MAX];
    struct ipc_buf in = { name, 0, sizeof name - 1, 0 };
    struct ipc_words msg;
    if (sys_ipc_recv(ENDPOINT, &msg, &in) < 0 || msg.reply <= 0)
        return EXIT_UNKNOWN;
    name[in.len] = '\0';
    s_exit_code = (int)msg.w0;

    const struct exc_class *c = NULL;
    for (unsigned i = 0; i < ARRAY_SIZE(s_classes); i++)
        if (strcmp(name, s_classes[i].name) == 0)
            c = &s_classes[i];

    struct verdict v = { 0, "" };
    if (!c) {
        fail(&v, "unknown class");
    } else if (c->raise == end_exit) {
        s_stop = false; // this counter runs until sys_exit ends it
        if (thread_spawn(count, NULL, s_counter_stack, sizeof s_counter_stack) < 0)
            fail(&v, "cannot start the thread that sys_exit must end");
    } else if (c->raise != end_thread_exit) {
        check_in_thread(c, &v);
    }

    struct ipc_buf out = { v.note, strlen(v.note), 0, 0 };
    sys_ipc_reply(msg.reply, v.failures, 0, &out);
    if (!c)
        return EXIT_UNKNOWN;
    // The last thread (or, for "exit", the one that ends them all).
    c->raise();
    return EXIT_SURVIVED;
}
