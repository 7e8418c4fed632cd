// The attacking process of the cross-process attack tests
// (test_attack_df_cross, test_attack_nt, test_attack_tf, test_attack_ac).
//
//   0. Its parent passes it one handle: an endpoint it receives on (CAP_RECV),
//      sys_spawn(module, &endpoint, 1) (attack_common.h: partner_start).
//   1. The parent calls it (sys_ipc_call) with "FLAG_GATE" as payload -
//      FLAG one of df, ac, nt, tf; GATE one of int80, sysenter, both - and
//      a number of ticks in w0.  It replies at once (w0 = 0) through the
//      call's reply handle.
//   2. tf: one SYS_GETTID entered with TF set, in its only thread.  The
//      right fate is a single-step #DB delivered to this thread, which kills
//      it: exit code 128 + 1.  If the call returns and nothing traps, it
//      exits with EXIT_SURVIVED.
//      df, ac, nt: for `ticks` ticks, system calls (yield, gettid, time)
//      entered with the flag set, each followed by a stretch of ring-3
//      spinning with the flag still set (so that timer interrupts, and the
//      switches they cause, happen with it set too).  Every result is
//      checked; exits with 0, or EXIT_BAD_RESULT after printing the first
//      wrong one.
#include "flagcall.h"
#include "lib/string.h"
#include "tandem.h"

#define EXIT_SURVIVED   1
#define EXIT_UNKNOWN    2
#define EXIT_BAD_RESULT 3
#define ENDPOINT        1 // the handle its parent passed
#define SPIN_TURNS      200000u

// Spins `turns` times in ring 3 with `flag` set in EFLAGS.
static void
spin_with(uint32_t flag, unsigned turns)
{
    __asm__ volatile("pushf\n\t"
                     "orl %1, (%%esp)\n\t"
                     "popf\n\t"
                     "1: dec %0\n\t"
                     "jnz 1b\n\t"
                     "pushf\n\t"
                     "andl %2, (%%esp)\n\t"
                     "popf"
                     : "+r"(turns)
                     : "r"(flag), "r"(~flag)
                     : "cc", "memory");
}

static long
call(int gate, uint32_t set, uint32_t n, uint32_t a1, struct flagcall *fc)
{
    fc_init(fc, gate, set, n, a1, 0x22200222u, 0x33300333u, 0x44400444u, 0x55500555u);
    return flagcall(fc);
}

// Whether a call's result and privileged state are right.
static bool
good(const char *what, const struct flagcall *fc, long r, long want)
{
    const char *gate = fc->gate ? "sysenter" : "int 0x80";
    if (r != want) {
        printf("  # attack_child: %s via %s returned %ld, expected %ld\n", what, gate, r, want);
        return false;
    }
    if (fc->cs != USER_CS_SEL || (fc->out_eflags & (EFLAGS_IOPL | EFLAGS_VM)) ||
        !(fc->out_eflags & EFLAGS_IF)) {
        printf("  # attack_child: %s via %s came back with cs %#x eflags %08x\n", what, gate,
               fc->cs, fc->out_eflags);
        return false;
    }
    return true;
}

int
main(void)
{
    char name[32];
    struct ipc_buf in = { name, 0, sizeof name - 1, 0 };
    struct ipc_words msg;
    if (sys_ipc_recv(ENDPOINT, &msg, &in) < 0 || msg.reply <= 0)
        return EXIT_UNKNOWN;
    name[in.len] = '\0';
    unsigned ticks = msg.w0;
    sys_ipc_reply(msg.reply, 0, 0, NULL);

    uint32_t flag = 0;
    if (strncmp(name, "df_", 3) == 0)
        flag = EFLAGS_DF;
    else if (strncmp(name, "ac_", 3) == 0)
        flag = EFLAGS_AC;
    else if (strncmp(name, "nt_", 3) == 0)
        flag = EFLAGS_NT;
    else if (strncmp(name, "tf_", 3) == 0)
        flag = EFLAGS_TF;
    const char *g = name + 3;
    int first = strcmp(g, "sysenter") == 0 ? FLAGCALL_SYSENTER : FLAGCALL_INT80;
    int last = strcmp(g, "int80") == 0 ? FLAGCALL_INT80 : gate_last();
    if (!flag || (strcmp(g, "int80") && strcmp(g, "sysenter") && strcmp(g, "both")))
        return EXIT_UNKNOWN;

    int tid = sys_gettid();
    struct flagcall fc;
    if (flag == EFLAGS_TF) {
        call(first, EFLAGS_TF, SYS_GETTID, 0, &fc);
        return EXIT_SURVIVED; // the single step never came
    }
    unsigned start = sys_time();
    while (sys_time() - start < ticks) {
        for (int gate = first; gate <= last; gate++) {
            long r = call(gate, flag, SYS_YIELD, 0, &fc);
            if (!good("SYS_YIELD", &fc, r, 0))
                return EXIT_BAD_RESULT;
            r = call(gate, flag, SYS_GETTID, 0, &fc);
            if (!good("SYS_GETTID", &fc, r, tid))
                return EXIT_BAD_RESULT;
            r = call(gate, flag, SYS_SLEEP, 1, &fc);
            if (!good("SYS_SLEEP", &fc, r, 0))
                return EXIT_BAD_RESULT;
            spin_with(flag, SPIN_TURNS);
        }
    }
    return 0;
}
