/* Leaving QEMU from inside the guest (the isa-debug-exit device). */
#ifndef TANDEM_QEMU_H
#define TANDEM_QEMU_H

#include "compiler.h"

#define QEMU_EXIT_PORT      0xF4
// Not 0 and 1: QEMU exits with 1 by itself when it fails to start.
#define QEMU_EXIT_PASS      0x10 // QEMU exits with status (0x10 << 1) | 1 = 33
#define QEMU_EXIT_FAIL      0x11 // QEMU exits with status (0x11 << 1) | 1 = 35
// Bochs has no isa-debug-exit; "Shutdown" written here ends it.
#define BOCHS_SHUTDOWN_PORT 0x8900

// Exits QEMU with the status above.  Without the device, prints
// "# tandem-exit 0x10 (pass)" (or 0x11, fail) and ends Bochs; else halts forever.
NORETURN void qemu_exit(int code);

#endif
