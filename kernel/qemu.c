// isa-debug-exit: writing v to port 0xF4 ends QEMU with status (v << 1) | 1.
#include "kprintf.h"
#include "qemu.h"
#include "x86.h"

void
qemu_exit(int code)
{
    outl(QEMU_EXIT_PORT, (uint32_t)code);
    // Still running, so there is no isa-debug-exit: Bochs (tests/bochs/),
    // whose exit status cannot carry the verdict.  Say it on the console,
    // then write "Shutdown" to Bochs' shutdown port 0x8900, which ends it.
    // QEMU never gets here, so its output and protocol are unchanged.
    kprintf("# tandem-exit 0x%x (%s)\n", (unsigned)code,
            code == QEMU_EXIT_PASS   ? "pass"
            : code == QEMU_EXIT_FAIL ? "fail"
                                     : "?");
    for (const char *p = "Shutdown"; *p; p++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
    // Neither: stop here.
    cli();
    for (;;)
        hlt();
}
