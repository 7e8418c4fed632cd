/* Leaving QEMU from inside the guest (the isa-debug-exit device). */
#ifndef TANDEM_QEMU_H
#define TANDEM_QEMU_H

#include "compiler.h"

#define QEMU_EXIT_PORT  0xF4
// Not 0 and 1: QEMU exits with 1 by itself when it fails to start.
#define QEMU_EXIT_PASS  0x10    // QEMU exits with status (0x10 << 1) | 1 = 33
#define QEMU_EXIT_FAIL  0x11    // QEMU exits with status (0x11 << 1) | 1 = 35

// Exits QEMU with the status above; halts forever if the device is absent.
NORETURN void qemu_exit(int code);

#endif
