// Exceptions raised in the kernel on purpose are caught, reported, survived.
#include "extable.h"
#include "ktest.h"
#include "trap.h"

KTEST(exceptions, divide_error_is_caught)
{
    uint32_t result = 7;
    trap_expect(VEC_DE);
    // divl by zero faults; the extable entry resumes after it.
    __asm__ volatile("1: divl %[zero]\n\t2:\n\t" EXTABLE_ENTRY(1b, 2b)
                     : "+a"(result)
                     : [zero] "r"(0), "d"(0)
                     : "cc");
    KEXPECT_EQ(trap_expect_end(), 1);
    KEXPECT_EQ(result, 7); // the faulting divide never wrote eax
}

KTEST(exceptions, invalid_opcode_is_caught)
{
    trap_expect(VEC_UD);
    __asm__ volatile("1: ud2\n\t2:\n\t" EXTABLE_ENTRY(1b, 2b));
    KEXPECT_EQ(trap_expect_end(), 1);
}

KTEST(exceptions, breakpoint_returns_after_int3)
{
    trap_expect(VEC_BP);
    __asm__ volatile("int3"); // a trap: execution goes on after it by itself
    __asm__ volatile("int3");
    KEXPECT_EQ(trap_expect_end(), 2);
}

KTEST(exceptions, vector_names)
{
    KEXPECT_STREQ(trap_vector_name(VEC_PF), "#PF page fault");
    KEXPECT_STREQ(trap_vector_name(VEC_DF), "#DF double fault");
    KEXPECT_STREQ(trap_vector_name(VEC_SYSCALL), "syscall");
}
