// System call entry (int 0x80).  Placeholder until user mode exists.
#include "panic.h"
#include "trap.h"

#define ENOSYS 38

void
syscall_trap(struct trap_frame *f)
{
    f->eax = (uint32_t)-ENOSYS;
}

void
user_exception(struct trap_frame *f)
{
    panic_trap(f, "exception from ring 3 before user mode exists");
}
