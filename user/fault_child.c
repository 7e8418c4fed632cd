// A process whose only thread writes to address 0.  test_fault,
// test_syscalls and test_fuzz spawn it and expect exit code 128 + 14 (page
// fault).
//
// The protocol: none.  It takes no handles (sys_spawn(module, NULL, 0));
// any it is given are left alone, unused, and go with the process.  It
// needs nothing from its parent: sys_wait tells the parent everything.
#include "tandem.h"

int
main(void)
{
    // In assembly: to gcc a store through NULL is undefined, so it may
    // delete it or emit ud2 (vector 6) in its place.
    __asm__ volatile("movl $1, (%0)" : : "r"(0) : "memory");
    return 0;
}
