/* Leaving QEMU from inside the guest (the isa-debug-exit device). */
#ifndef TANDEM_QEMU_H
#define TANDEM_QEMU_H

#include "compiler.h"

#define QEMU_EXIT_PORT  0xF4
#define QEMU_EXIT_PASS  0       // QEMU exits with status (0 << 1) | 1 = 1
#define QEMU_EXIT_FAIL  1       // QEMU exits with status (1 << 1) | 1 = 3

// Exits QEMU with the status above; halts forever if the device is absent.
NORETURN void qemu_exit(int code);

#endif
