// A process whose only thread writes to address 0.  test_fault and
// test_syscalls spawn it and expect exit code 128 + 14 (page fault).
#include "tandem.h"

int
main(void)
{
    // In assembly: to gcc a store through NULL is undefined, so it may
    // delete it or emit ud2 (vector 6) in its place.
    __asm__ volatile("movl $1, (%0)" : : "r"(0) : "memory");
    return 0;
}
