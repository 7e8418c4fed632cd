// isa-debug-exit: writing v to port 0xF4 ends QEMU with status (v << 1) | 1.
#include "qemu.h"
#include "x86.h"

void
qemu_exit(int code)
{
    outl(QEMU_EXIT_PORT, (uint32_t)code);
    // Not under QEMU (or the device is missing): stop here.
    cli();
    for (;;)
        hlt();
}
