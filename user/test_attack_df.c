// ATTACK (hole a): EFLAGS.DF set by ring 3 is still set inside the kernel.
//
// Neither gate clears DF: an interrupt gate clears TF, NT, RF and VM but not
// DF, and sysenter clears only IF, VM and RF.  Tandem's kernel entry
// (kernel/entry/traps.asm, kernel/entry/sysenter_entry.asm) never executes cld, so
// with `std` right before `int 0x80` or `sysenter` every string instruction
// in the kernel runs backwards.  uaccess_copy (rep movsb) then copies from
// the end of the source down: copy_to_user writes the first byte of the
// result at buf[0] and then the kernel bytes that lie BELOW the source object
// on the kernel stack into buf[-1], buf[-2], ... - kernel memory leaked into
// user memory the call was never given.  copy_from_user reads the user
// bytes below the buffer and writes them below the kernel object (for
// SYS_DEBUG_WRITE: onto the thread's trap frame, see test_attack_frame).
//
// Each test makes one system call through each gate with DF set right
// before the entry (user/lib/flagcall.asm), its output buffer surrounded by
// GUARD_BYTES of canary on both sides, and checks the guards, the result and
// the returned registers and flags.  Calls that read user memory get their
// buffer at the first byte of a page whose lower neighbour is unmapped, so a
// backward read faults instead of passing unseen.
//
// Today's kernel (observed, 8 KiB blocks, debug build), through both gates:
//   SYS_SYSINFO: "39 guard bytes BELOW the buffer overwritten (down to
//     buf-39)"; the struct holds its first byte only (test_mode 0xc5c5c501);
//   SYS_KFAST_STATS: 35 bytes below, among them a kernel text address
//     ("the 16 bytes below buf now hold: e2 90 11 c0 ..." = 0xc01190e2) and
//     a kernel stack address (0xf4015f54);
//   SYS_MODULE_NAME (since replaced by SYS_CAP_INFO, which copies out a
//     name too), SYS_CMDLINE: 4 and 21 bytes below ("init" -> "i\xc5..");
//   SYS_DEBUG_WRITE from a page start: -14 (-EFAULT) instead of 59;
//   SYS_IPC_CALL: -90 (-EMSGSIZE): the struct ipc_buf was read backwards.
// After the fix (cld on every entry) all pass; DF comes back to ring 3 as
// the user set it (EFLAGS restored exactly).
#include "attack_common.h"
#include "ipc_echo.h"

#define AREA_MAX 512

static uint8_t s_area[AREA_MAX + 2 * GUARD_BYTES];
static uint8_t s_ref[AREA_MAX];

static long
call(struct flagcall *fc, int gate, uint32_t set, uint32_t n, uint32_t a1, uint32_t a2, uint32_t a3,
     uint32_t a4)
{
    fc_init(fc, gate, set, n, a1, a2, a3, a4, 0x77700777u);
    return flagcall(fc);
}

#define FOR_EACH_GATE(g) for (int g = FLAGCALL_INT80; g <= gate_last(); g++)

UTEST(sysinfo_with_df)
{
    FOR_EACH_GATE(g) {
        struct flagcall fc;
        struct sysinfo ref;
        UASSERT_EQ(sys_sysinfo(&ref), 0);
        struct sysinfo *out = (struct sysinfo *)guard_init(s_area, sizeof *out);
        long r = call(&fc, g, EFLAGS_DF, SYS_SYSINFO, (uintptr_t)out, 0, 0, 0);
        utest_context(s_gate_names[g]);
        UEXPECT_EQ(r, 0);
        GUARD_CHECK(s_area, sizeof *out, "SYS_SYSINFO", &fc);
        FC_CHECK_EXIT(&fc, "SYS_SYSINFO", EFLAGS_DF);
        UEXPECT_UEQ(out->test_mode, 1);
        UEXPECT_UEQ(out->module_count, ref.module_count);
        UEXPECT_UEQ(out->kernel_suites, ref.kernel_suites);
        UEXPECT_UGE(out->processes, 2);
        UEXPECT_UGE(out->threads, out->processes);
        UEXPECT_UGE(out->heap_frames, ref.heap_frames);
        UEXPECT_UGE(out->ticks, ref.ticks);
    }
}

UTEST(kfast_stats_with_df)
{
    FOR_EACH_GATE(g) {
        struct flagcall fc;
        struct kfast_stats *out = (struct kfast_stats *)guard_init(s_area, sizeof *out);
        long r = call(&fc, g, EFLAGS_DF, SYS_KFAST_STATS, (uintptr_t)out, 0, 0, 0);
        utest_context(s_gate_names[g]);
        UEXPECT_EQ(r, 0);
        GUARD_CHECK(s_area, sizeof *out, "SYS_KFAST_STATS", &fc);
        FC_CHECK_EXIT(&fc, "SYS_KFAST_STATS", EFLAGS_DF);
        UEXPECT_UEQ(out->block_size, KSTACK_SIZE);
        UEXPECT_ULT(out->in_use, KSTACK_SIZE);
        UEXPECT_UEQ(out->collisions, 0);
    }
}

// A struct with a name in it, copied out: the module handle's description.
UTEST(cap_info_with_df)
{
    int module = module_find("ipc_echo");
    UASSERT_GT(module, 0);
    FOR_EACH_GATE(g) {
        struct flagcall fc;
        struct cap_info *out = (struct cap_info *)guard_init(s_area, sizeof *out);
        long r = call(&fc, g, EFLAGS_DF, SYS_CAP_INFO, (uint32_t)module, (uintptr_t)out, 0, 0);
        utest_context(s_gate_names[g]);
        UEXPECT_EQ(r, 0);
        GUARD_CHECK(s_area, sizeof *out, "SYS_CAP_INFO", &fc);
        FC_CHECK_EXIT(&fc, "SYS_CAP_INFO", EFLAGS_DF);
        UEXPECT_UEQ(out->type, CAP_TYPE_MODULE);
        UEXPECT_UEQ(out->rights & CAP_SPAWN, CAP_SPAWN);
        UEXPECT_UEQ(out->badge, 0);
        UEXPECT_MEMEQ(out->name, "ipc_echo", 9);
    }
}

UTEST(cmdline_with_df)
{
    FOR_EACH_GATE(g) {
        struct flagcall fc;
        int ref_len = sys_cmdline((char *)s_ref, sizeof s_ref);
        UASSERT_GE(ref_len, 0);
        char *out = (char *)guard_init(s_area, 256);
        long r = call(&fc, g, EFLAGS_DF, SYS_CMDLINE, (uintptr_t)out, 256, 0, 0);
        utest_context(s_gate_names[g]);
        UEXPECT_EQ(r, ref_len);
        GUARD_CHECK(s_area, 256, "SYS_CMDLINE", &fc);
        FC_CHECK_EXIT(&fc, "SYS_CMDLINE", EFLAGS_DF);
        UEXPECT_MEMEQ(out, s_ref, (unsigned)ref_len + 1);
    }
}

// A KTAP diagnostic line, at the first byte of a page with nothing below.
UTEST(debug_write_from_a_page_start_with_df)
{
    static const char line[] = "  # debug_write with DF set, from the first byte of a page\n";
    uint8_t *page = island_page();
    memcpy(page, line, sizeof line - 1);
    // The premise: the byte below the page is not readable.
    UASSERT_EQ(sys_debug_write(page - 1, 1), -EFAULT);
    FOR_EACH_GATE(g) {
        struct flagcall fc;
        long r = call(&fc, g, EFLAGS_DF, SYS_DEBUG_WRITE, (uintptr_t)page, sizeof line - 1, 0, 0);
        sys_debug_write("\n", 1); // ends whatever a backward copy printed
        utest_context(s_gate_names[g]);
        if (!UEXPECT_EQ(r, (long)sizeof line - 1))
            utest_note("  -EFAULT: the kernel read the unmapped byte below the buffer (backwards)");
        FC_CHECK_EXIT(&fc, "SYS_DEBUG_WRITE", EFLAGS_DF);
    }
}

// The payload at a page start (read backwards it faults), the struct
// ipc_buf among guards (read backwards it is garbage; its len is written
// back through copy_to_user).
UTEST(ipc_call_payload_with_df)
{
    int echo = -1;
    int proc = echo_start(&echo, 0);
    UASSERT_GT(proc, 0);
    uint8_t *data = island_page();
    FOR_EACH_GATE(g) {
        enum { LEN = 64 };
        for (unsigned i = 0; i < LEN; i++)
            data[i] = (uint8_t)(i * 7 + 3);
        struct ipc_buf *b = (struct ipc_buf *)guard_init(s_area, sizeof *b);
        b->data = data;
        b->len = LEN;
        b->size = LEN;
        b->handle = 0;
        struct flagcall fc;
        long r = call(&fc, g, EFLAGS_DF, SYS_IPC_CALL, (uint32_t)echo, 0x1234, 0x21, (uintptr_t)b);
        utest_context(s_gate_names[g]);
        UEXPECT_EQ(r, 0);
        GUARD_CHECK(s_area, sizeof *b, "SYS_IPC_CALL (struct ipc_buf)", &fc);
        fc_check_exit(&fc, "SYS_IPC_CALL", EFLAGS_DF, true, __FILE__, __LINE__);
        UEXPECT_UEQ(fc.out_ebx, 0x1235); // ipc_echo: w0 + 1
        UEXPECT_UEQ(fc.out_esi, 0x42);   // w1 * 2
        UEXPECT_UEQ((uintptr_t)b->data, (uintptr_t)data);
        UEXPECT_UEQ(b->len, LEN);
        UEXPECT_UEQ(b->size, LEN);
        UEXPECT_EQ(b->handle, 0); // none sent, none back
        unsigned bad = 0;
        for (unsigned i = 0; i < LEN; i++)
            bad += data[i] != (uint8_t)((LEN - 1 - i) * 7 + 3);
        if (bad)
            UFAIL("SYS_IPC_CALL via %s (DF set): %u of %u reply bytes wrong (ipc_echo reverses "
                  "the payload)",
                  s_gate_names[g], bad, LEN);
    }
    utest_context(NULL);
    struct ipc_words w;
    UEXPECT_EQ(sys_ipc_call(echo, ECHO_QUIT, 0, NULL, &w), 0);
    UEXPECT_EQ(sys_wait(proc, WAIT_TICKS), 0);
    sys_cap_close(proc);
    sys_cap_close(echo);
}

int
main(void)
{
    return utest_run("test_attack_df");
}
