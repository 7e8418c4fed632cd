// ATTACK (hole g): `std` + SYS_THREAD_CREATE.
//
// With DF set in the kernel (test_attack_df) every rep stos/movs in the
// heap runs backwards: heap_zalloc (kernel/mm/heap.c) zeroes the bytes
// BELOW the new thread's control block instead of the block, so
// uthread_create reads uninitialised fields (and the heap's neighbours are
// wiped).
//
// The test creates a thread with DF set right before the entry, through
// both gates, and checks that the call returns a thread handle, that the thread runs
// and starts with the registers and EFLAGS the ABI promises (IF on, IOPL 0,
// DF/AC/NT/TF clear, every register 0 but eax = arg and esp), and that it
// can end.
//
// Today's kernel (observed), on the first call (int 0x80):
//   PANIC: UBSan: invalid value loaded at kernel/entry/exit.h:23:9 ('_Bool' 0xdd, 0)
// in uthread_start: the new thread's `killed` was never zeroed.
#include "attack_common.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

// What df_thread_entry found: eflags eax ebx ecx edx esi edi ebp esp.
volatile uint32_t df_regs[9];
volatile bool df_done;
void df_thread_entry(void);

// Hand layout: clang-format 14 takes STR() between the strings for a call.
// clang-format off
__asm__(
    "    .text\n"
    "df_thread_entry:\n"
    "    pushf\n"
    "    popl df_regs + 0\n"
    "    mov %eax, df_regs + 4\n"
    "    mov %ebx, df_regs + 8\n"
    "    mov %ecx, df_regs + 12\n"
    "    mov %edx, df_regs + 16\n"
    "    mov %esi, df_regs + 20\n"
    "    mov %edi, df_regs + 24\n"
    "    mov %ebp, df_regs + 28\n"
    "    mov %esp, df_regs + 32\n"
    "    cld\n"
    "    movb $1, df_done\n"
    "    mov $" STR(SYS_THREAD_EXIT) ", %eax\n"
    "    xor %ebx, %ebx\n"
    "    int $0x80\n"
    "    ud2\n");
// clang-format on

static uint8_t s_stack[2048] ALIGNED(16);

UTEST(thread_create_with_df)
{
    for (int g = FLAGCALL_INT80; g <= gate_last(); g++) {
        utest_context(s_gate_names[g]);
        uintptr_t top = (uintptr_t)s_stack + sizeof s_stack - 16;
        df_done = false;
        for (unsigned i = 0; i < 9; i++)
            df_regs[i] = 0xBADBAD;
        struct flagcall fc;
        fc_init(&fc, g, EFLAGS_DF, SYS_THREAD_CREATE, (uintptr_t)df_thread_entry, top, 0x12345678,
                0x44400444u, 0x55500555u);
        long thread = flagcall(&fc);
        FC_CHECK_EXIT(&fc, "SYS_THREAD_CREATE", EFLAGS_DF);
        UASSERT_GT(thread, 0);
        unsigned start = sys_time();
        while (!df_done && sys_time() - start < WAIT_TICKS)
            sys_sleep(1);
        UASSERT_TRUE(df_done);
        uint32_t f = df_regs[0];
        if ((f & (EFLAGS_DF | EFLAGS_AC | EFLAGS_NT | EFLAGS_TF | EFLAGS_IOPL)) || !(f & EFLAGS_IF))
            UFAIL("the new thread started with EFLAGS %08x: expected IF on and DF, AC, NT, TF, "
                  "IOPL clear (the creator's DF must not be inherited)",
                  f);
        UEXPECT_UEQ(df_regs[1], 0x12345678);
        static const char *const names[] = { "ebx", "ecx", "edx", "esi", "edi", "ebp" };
        for (unsigned i = 0; i < 6; i++)
            if (df_regs[2 + i] != 0)
                UFAIL("the new thread's %s expected 0, got %08x", names[i], df_regs[2 + i]);
        UEXPECT_UEQ(df_regs[8], top);
        UEXPECT_EQ(sys_wait((int)thread, WAIT_TICKS), 0);
        UEXPECT_EQ(sys_cap_close((int)thread), 0);
    }
}

int
main(void)
{
    return utest_run("test_attack_df_thread");
}
