/* Shared by the attack tests (user/test_attack_*.c): the checks that run
 * after every flagcall (user/lib/flagcall.h), canary-guarded buffers, an
 * ipc_echo partner, and the parent's half of the cross-process attacks
 * (attack_child is the other half).  Header-only, static, one copy per test
 * program. */
#ifndef TANDEM_USER_ATTACK_COMMON_H
#define TANDEM_USER_ATTACK_COMMON_H

#include "flagcall.h"
#include "lib/format.h"
#include "lib/string.h"
#include "tandem.h"
#include "utest.h"

#define UNUSED_FN   __attribute__((unused))
#define GUARD_BYTES 64
#define GUARD_FILL  0xC5u
#define ECHO_QUIT   0xDEAD // user/ipc_echo.c
#define WAIT_TICKS  500

static const char *const s_gate_names[2] = { "int 0x80", "sysenter" };

// Ends a test about sysenter, with a note, on a CPU that does not offer it.
#define SKIP_WITHOUT_SYSENTER()                              \
    do {                                                     \
        if (!syscall_mode_available(SYSCALL_SYSENTER)) {     \
            utest_note("SKIP: this CPU offers no sysenter"); \
            return;                                          \
        }                                                    \
    } while (0)

// "SYS_SYSINFO via sysenter with DF" in failure reports.
static UNUSED_FN const char *
flags_name(uint32_t set)
{
    switch (set) {
    case 0: return "no extra flag";
    case EFLAGS_DF: return "DF set";
    case EFLAGS_NT: return "NT set";
    case EFLAGS_TF: return "TF set";
    case EFLAGS_AC: return "AC set";
    default: return "flags set";
    }
}

// Checks what the CPU gave back after fc: ring 3 with the user's selectors,
// IF on, IOPL 0, no VM, the bits in `kept` (some of DF, AC, NT) as the user
// entered with them, and every register but eax (and, for IPC, ebx and esi)
// as it was.  Reports each difference by name; returns whether all held.
static UNUSED_FN bool
fc_check_exit(const struct flagcall *fc, const char *call, uint32_t kept, bool ipc_words,
              const char *file, int line)
{
    bool ok = true;
    const char *gate = s_gate_names[fc->gate & 1];
    const char *how = flags_name(fc->set_eflags);
    uint32_t in = fc->in_eflags, out = fc->out_eflags;
    if (fc->cs != USER_CS_SEL) {
        utest_fail(file, line, "%s via %s (%s): cs expected %#x (ring 3), got %#x%s", call, gate,
                   how, USER_CS_SEL, fc->cs, (fc->cs & 3) == 0 ? " - RING 0" : "");
        ok = false;
    }
    const uint16_t sel[5] = { fc->ss, fc->ds, fc->es, fc->fs, fc->gs };
    static const char *const sel_names[5] = { "ss", "ds", "es", "fs", "gs" };
    for (unsigned i = 0; i < 5; i++) {
        if (sel[i] != USER_DS_SEL) {
            utest_fail(file, line, "%s via %s (%s): %s expected %#x, got %#x", call, gate, how,
                       sel_names[i], USER_DS_SEL, sel[i]);
            ok = false;
        }
    }
    if ((out & EFLAGS_IOPL) != 0) {
        utest_fail(file, line,
                   "%s via %s (%s): EFLAGS.IOPL expected 0, got %u (eflags %08x): "
                   "ring 3 may now use in/out/cli",
                   call, gate, how, (out & EFLAGS_IOPL) >> 12, out);
        ok = false;
    }
    if (!(out & EFLAGS_IF)) {
        utest_fail(file, line, "%s via %s (%s): EFLAGS.IF expected 1, got 0 (eflags %08x)", call,
                   gate, how, out);
        ok = false;
    }
    if (out & EFLAGS_VM) {
        utest_fail(file, line, "%s via %s (%s): EFLAGS.VM expected 0, got 1 (eflags %08x)", call,
                   gate, how, out);
        ok = false;
    }
    static const struct {
        uint32_t bit;
        const char *name;
    } bits[] = {
        { EFLAGS_DF, "DF" },
        { EFLAGS_AC, "AC" },
        { EFLAGS_NT, "NT" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bits); i++) {
        uint32_t b = bits[i].bit;
        if ((kept & b) && (out & b) != (in & b)) {
            utest_fail(file, line,
                       "%s via %s (%s): EFLAGS.%s expected %u (as entered), got %u "
                       "(in %08x, out %08x)",
                       call, gate, how, bits[i].name, !!(in & b), !!(out & b), in, out);
            ok = false;
        }
    }
    const uint32_t want[6] = { fc->ebx, fc->ecx, fc->edx, fc->esi, fc->edi, fc->ebp };
    const uint32_t got[6] = { fc->out_ebx, fc->out_ecx, fc->out_edx,
                              fc->out_esi, fc->out_edi, fc->out_ebp };
    static const char *const reg_names[6] = { "ebx", "ecx", "edx", "esi", "edi", "ebp" };
    for (unsigned i = 0; i < 6; i++) {
        if (ipc_words && (i == 0 || i == 3))
            continue;
        if (want[i] != got[i]) {
            utest_fail(file, line, "%s via %s (%s): %s expected %08x (preserved), got %08x", call,
                       gate, how, reg_names[i], want[i], got[i]);
            ok = false;
        }
    }
    return ok;
}

#define FC_CHECK_EXIT(fc, call, kept) fc_check_exit(fc, call, kept, false, __FILE__, __LINE__)

// ---- Guarded buffers ------------------------------------------------------
// [GUARD_BYTES of GUARD_FILL][the buffer][GUARD_BYTES of GUARD_FILL].

// Fills the whole area (guards and buffer) and returns the buffer.
static UNUSED_FN uint8_t *
guard_init(uint8_t *area, size_t len)
{
    memset(area, GUARD_FILL, len + 2 * GUARD_BYTES);
    return area + GUARD_BYTES;
}

// Whether the guards around the buffer of len bytes are intact; if not,
// reports how many bytes were written on each side and what they hold
// (for a backward copy: the kernel's own bytes, leaked).
static UNUSED_FN bool
guard_check(const uint8_t *area, size_t len, const char *call, const struct flagcall *fc,
            const char *file, int line)
{
    const uint8_t *below = area, *above = area + GUARD_BYTES + len;
    unsigned n_below = 0, n_above = 0, lowest = GUARD_BYTES, highest = 0;
    for (unsigned i = 0; i < GUARD_BYTES; i++) {
        if (below[i] != GUARD_FILL) {
            n_below++;
            if (i < lowest)
                lowest = i;
        }
        if (above[i] != GUARD_FILL) {
            n_above++;
            highest = i + 1;
        }
    }
    const char *gate = fc ? s_gate_names[fc->gate & 1] : "?";
    const char *how = fc ? flags_name(fc->set_eflags) : "";
    if (n_below) {
        char hex[3 * 16 + 1] = "";
        unsigned from = GUARD_BYTES >= 16 ? GUARD_BYTES - 16 : 0;
        for (unsigned i = from, k = 0; i < GUARD_BYTES; i++, k += 3)
            ksnprintf(hex + k, sizeof hex - k, "%02x ", below[i]);
        utest_fail(file, line,
                   "%s via %s (%s): %u guard bytes BELOW the buffer overwritten "
                   "(down to buf-%u); the 16 bytes below buf now hold: %s",
                   call, gate, how, n_below, GUARD_BYTES - lowest, hex);
    }
    if (n_above)
        utest_fail(file, line,
                   "%s via %s (%s): %u guard bytes ABOVE the buffer overwritten "
                   "(up to buf+len+%u)",
                   call, gate, how, n_above, highest);
    return n_below == 0 && n_above == 0;
}

#define GUARD_CHECK(area, len, call, fc) guard_check(area, len, call, fc, __FILE__, __LINE__)

// ---- A page with nothing mapped below it ----------------------------------
// The main stack grows on demand one page at a time (kernel/thread/
// process.c, process_grow_stack), for a ring-3 touch and for a kernel copy
// alike, anywhere in its growth window.  The lowest page of the window is
// mapped alone by a touch, and the page under it lies outside the window:
// a copy that walks backwards from the island's first byte faults there
// instead of silently reading or writing a neighbour.
#define ISLAND_PAGE (USER_STACK_TOP - USER_STACK_MAX)

static UNUSED_FN uint8_t *
island_page(void)
{
    volatile uint8_t *p = (volatile uint8_t *)ISLAND_PAGE;
    p[0] = 0; // a ring-3 fault: the kernel maps this page only
    return (uint8_t *)ISLAND_PAGE;
}

// ---- A pure ring-3 spinner --------------------------------------------------
// Never enters the kernel on its own: it is preempted by the timer and
// resumed through the interrupt return (iret) - the path the NT and TF
// attacks poison.  It checks its own EFLAGS every turn.

struct spinner {
    volatile bool stop;
    volatile unsigned count;
    volatile uint32_t bad_flags; // the first EFLAGS with DF/TF/NT/AC/IOPL it saw, or 0
    int thread;                  // its handle
};

static UNUSED_FN int
spinner_main(void *arg)
{
    struct spinner *s = arg;
    while (!s->stop) {
        uint32_t f = flags_now();
        if ((f & (EFLAGS_DF | EFLAGS_TF | EFLAGS_NT | EFLAGS_AC | EFLAGS_IOPL)) && !s->bad_flags)
            s->bad_flags = f;
        s->count++;
    }
    return 0;
}

static UNUSED_FN bool
spinner_start(struct spinner *s, void *stack, size_t size)
{
    s->stop = false;
    s->count = 0;
    s->bad_flags = 0;
    s->thread = thread_spawn(spinner_main, s, stack, size);
    return s->thread > 0;
}

// Stops it; reports if it stopped counting or saw foreign flags.
static UNUSED_FN void
spinner_stop(struct spinner *s, const char *file, int line)
{
    if (s->thread <= 0)
        return;
    unsigned before = s->count, start = sys_time();
    while (s->count == before && sys_time() - start < WAIT_TICKS)
        sys_sleep(1);
    if (s->count == before)
        utest_fail(file, line, "the spinning sibling thread stopped counting");
    s->stop = true;
    if (sys_wait(s->thread, WAIT_TICKS) == -ETIMEDOUT)
        utest_fail(file, line, "the spinning sibling thread did not end");
    if (s->bad_flags)
        utest_fail(file, line,
                   "the spinning sibling (which never sets them) ran with EFLAGS %08x: "
                   "another thread's DF/TF/NT/AC/IOPL leaked into it",
                   s->bad_flags);
    sys_cap_close(s->thread);
    s->thread = -1;
}

// ---- The parent's half of the cross-process attacks -----------------------

#define CHILD_EXIT_SURVIVED   1 // user/attack_child.c
#define CHILD_EXIT_UNKNOWN    2
#define CHILD_EXIT_BAD_RESULT 3
#define CHILD_WAIT_TICKS      (4 * WAIT_TICKS) // its attack lasts a few dozen ticks

// Starts the helper module `name` with a new endpoint as its handle 1, on
// which it receives (attack_child, ipc_echo), and keeps only a CAP_SEND
// duplicate, so that a call to a partner that has died fails with -EPIPE
// instead of waiting for ever.  Returns the process handle and sets
// *endpoint, or reports and returns 0.
static UNUSED_FN int
partner_start(const char *name, int *endpoint, const char *file, int line)
{
    int module = module_find(name);
    if (!utest_check_int(UT_GT, module, 0, "module_find(partner)", "0", file, line))
        return 0;
    int ep = sys_endpoint_create();
    if (!utest_check_int(UT_GT, ep, 0, "sys_endpoint_create()", "0", file, line))
        return 0;
    int proc = sys_spawn(module, &ep, 1);
    *endpoint = sys_cap_dup(ep, CAP_SEND, 0);
    sys_cap_close(ep); // the partner's copy stays: closing is not revoking
    if (!utest_check_int(UT_GT, proc, 0, "sys_spawn(partner)", "0", file, line) ||
        !utest_check_int(UT_GT, *endpoint, 0, "sys_cap_dup(endpoint, CAP_SEND)", "0", file, line)) {
        sys_cap_close(*endpoint);
        return 0;
    }
    return proc;
}

// Starts attack_child with "FLAG_GATE" and `ticks`; returns its process
// handle or 0.
static UNUSED_FN int
attack_child_start(const char *name, unsigned ticks, const char *file, int line)
{
    int ep;
    int proc = partner_start("attack_child", &ep, file, line);
    if (proc <= 0)
        return 0;
    char text[32];
    size_t len = strlen(name);
    memcpy(text, name, len);
    struct ipc_buf buf = { text, len, 0, 0 };
    struct ipc_words reply;
    int r = sys_ipc_call(ep, ticks, 0, &buf, &reply);
    utest_check_int(UT_EQ, r, 0, "sys_ipc_call(attack_child)", "0", file, line);
    sys_cap_close(ep); // nothing more to say to it
    return proc;
}

// What attack_child's exit code means.
static UNUSED_FN const char *
child_code_name(int code)
{
    switch (code) {
    case 0: return "its calls all returned the right results";
    case CHILD_EXIT_SURVIVED: return "SURVIVED: its TF call returned and no #DB came";
    case CHILD_EXIT_UNKNOWN: return "unknown attack name";
    case CHILD_EXIT_BAD_RESULT: return "one of its own calls returned a wrong result";
    case 128 + 1: return "killed by #DB";
    default: return code > 128 ? "killed by an exception" : "?";
    }
}

// Waits for attack_child to end (killing it if it does not), checks its
// exit code and closes the handle.
static UNUSED_FN void
expect_child_code(int proc, int want, const char *file, int line)
{
    if (proc <= 0)
        return;
    int code = sys_wait(proc, CHILD_WAIT_TICKS);
    if (code == -ETIMEDOUT) {
        utest_fail(file, line, "attack_child did not end within %u ticks: killed",
                   CHILD_WAIT_TICKS);
        sys_kill(proc);
        sys_wait(proc, WAIT_FOREVER);
    } else if (code != want) {
        utest_fail(file, line, "attack_child exit code expected %d (%s), got %d (%s)", want,
                   child_code_name(want), code, child_code_name(code));
    }
    sys_cap_close(proc);
}

// The victim: system calls through both gates that copy to and from user
// memory, each checked - guards, data, registers, and EFLAGS, which must
// come back with DF, AC and NT clear as this process always has them - for
// `ticks` ticks or until the first failing round.  Uses an ipc_echo process
// as the IPC partner, and its module handle for SYS_CAP_INFO.  Returns the
// number of rounds made.
static UNUSED_FN unsigned
victim_rounds(unsigned ticks, const char *file, int line)
{
    static uint8_t area[512 + 2 * GUARD_BYTES], data_area[64 + 2 * GUARD_BYTES];
    int module = module_find("ipc_echo");
    int echo;
    int proc = partner_start("ipc_echo", &echo, file, line);
    if (proc <= 0)
        return 0;
    const uint32_t kept = EFLAGS_DF | EFLAGS_AC | EFLAGS_NT;
    unsigned rounds = 0, start = sys_time();
    bool ok = true;
    while (ok && sys_time() - start < ticks) {
        for (int g = FLAGCALL_INT80; ok && g <= gate_last(); g++) {
            struct flagcall fc;
            fc_init(&fc, g, 0, SYS_YIELD, 0, 0x22200222u, 0x33300333u, 0x44400444u, 0x55500555u);
            ok &= utest_check_int(UT_EQ, flagcall(&fc), 0, "SYS_YIELD", "0", file, line);
            ok &= fc_check_exit(&fc, "SYS_YIELD", kept, false, file, line);

            struct sysinfo *si = (struct sysinfo *)guard_init(area, sizeof *si);
            fc_init(&fc, g, 0, SYS_SYSINFO, (uintptr_t)si, 0x22200222u, 0x33300333u, 0x44400444u,
                    0x55500555u);
            ok &= utest_check_int(UT_EQ, flagcall(&fc), 0, "SYS_SYSINFO", "0", file, line);
            ok &= fc_check_exit(&fc, "SYS_SYSINFO", kept, false, file, line);
            ok &= guard_check(area, sizeof *si, "SYS_SYSINFO", &fc, file, line);
            ok &= utest_check_uint(UT_EQ, si->test_mode, 1, "sysinfo.test_mode", "1", file, line);

            struct cap_info *ci = (struct cap_info *)guard_init(area, sizeof *ci);
            fc_init(&fc, g, 0, SYS_CAP_INFO, (uint32_t)module, (uintptr_t)ci, 0x33300333u,
                    0x44400444u, 0x55500555u);
            ok &=
                utest_check_int(UT_EQ, flagcall(&fc), 0, "SYS_CAP_INFO(ipc_echo)", "0", file, line);
            ok &= fc_check_exit(&fc, "SYS_CAP_INFO", kept, false, file, line);
            ok &= guard_check(area, sizeof *ci, "SYS_CAP_INFO", &fc, file, line);
            ok &= utest_check_uint(UT_EQ, ci->type, CAP_TYPE_MODULE, "cap_info.type",
                                   "CAP_TYPE_MODULE", file, line);
            ok &= utest_check_mem(ci->name, "ipc_echo", 9, "the module's name", "\"ipc_echo\"",
                                  file, line);

            enum { LEN = 64 };
            uint8_t *data = guard_init(data_area, LEN);
            for (unsigned i = 0; i < LEN; i++)
                data[i] = (uint8_t)(i * 5 + rounds);
            struct ipc_buf *b = (struct ipc_buf *)guard_init(area, sizeof *b);
            b->data = data;
            b->len = LEN;
            b->size = LEN;
            b->handle = 0;
            fc_init(&fc, g, 0, SYS_IPC_CALL, (uint32_t)echo, rounds, 3, (uintptr_t)b, 0x55500555u);
            ok &=
                utest_check_int(UT_EQ, flagcall(&fc), 0, "SYS_IPC_CALL(ipc_echo)", "0", file, line);
            ok &= fc_check_exit(&fc, "SYS_IPC_CALL", kept, true, file, line);
            ok &= guard_check(area, sizeof *b, "SYS_IPC_CALL (struct ipc_buf)", &fc, file, line);
            ok &= guard_check(data_area, LEN, "SYS_IPC_CALL (payload)", &fc, file, line);
            ok &= utest_check_uint(UT_EQ, fc.out_ebx, rounds + 1, "ipc reply w0", "w0 + 1", file,
                                   line);
            ok &= utest_check_uint(UT_EQ, b->len, LEN, "ipc reply length", "64", file, line);
            unsigned bad = 0;
            for (unsigned i = 0; i < LEN; i++)
                bad += data[i] != (uint8_t)((LEN - 1 - i) * 5 + rounds);
            if (bad) {
                utest_fail(file, line, "SYS_IPC_CALL via %s: %u of %u reply bytes wrong",
                           s_gate_names[g], bad, LEN);
                ok = false;
            }
        }
        rounds++;
    }
    if (!ok)
        utest_note("  the victim's checks failed in round %u, %u ticks in", rounds,
                   sys_time() - start);
    struct ipc_words w;
    sys_ipc_call(echo, ECHO_QUIT, 0, NULL, &w);
    sys_cap_close(echo);
    if (sys_wait(proc, WAIT_TICKS) == -ETIMEDOUT) {
        utest_fail(file, line, "ipc_echo did not end after ECHO_QUIT: killed");
        sys_kill(proc);
        sys_wait(proc, WAIT_FOREVER);
    }
    sys_cap_close(proc);
    return rounds;
}

// The NT and TF attacks: attack_child attacks while this process keeps a
// pure ring-3 spinner (resumed through iret after every preemption) and
// makes its own calls; the child must end with `want`.
static UNUSED_FN void
attack_beside_a_spinner(const char *name, unsigned ticks, int want, const char *file, int line)
{
    static uint8_t spin_stack[4096] ALIGNED(16);
    struct spinner sp;
    if (!utest_check_int(UT_NE, spinner_start(&sp, spin_stack, sizeof spin_stack), 0,
                         "spinner_start", "0", file, line))
        return;
    int proc = attack_child_start(name, ticks, file, line);
    if (proc > 0) {
        victim_rounds(ticks, file, line);
        expect_child_code(proc, want, file, line);
    }
    spinner_stop(&sp, file, line);
}

#endif
