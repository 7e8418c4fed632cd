// -fstack-protector-strong: gcc puts __stack_chk_guard in every frame with
// an array or an address-taken local and checks it before returning.
// boot/multiboot.asm sets the guard from the time-stamp counter before the
// first C function runs (-mstack-protector-guard=global: no TLS on i386).
#include <stdint.h>
#include "ksyms.h"
#include "panic.h"

uint32_t __stack_chk_guard = 0x2BADC0DEu;

NORETURN void __stack_chk_fail(void);

void
__stack_chk_fail(void)
{
    uint32_t ret = (uint32_t)__builtin_return_address(0), off = 0;
    const char *fn = ksym_lookup(ret, &off);
    panic("stack protector: the frame of %s (returning through %08x) was overwritten; "
          "guard %08x",
          fn ? fn : "?", ret, __stack_chk_guard);
}
