/* Stopping the kernel when an invariant is broken. */
#ifndef TANDEM_PANIC_H
#define TANDEM_PANIC_H

#include <stdarg.h>
#include <stdbool.h>
#include "compiler.h"

// Prints "PANIC: <message>", the registers and a backtrace, then halts (in
// test mode: exits QEMU with the failure status).  The message should name
// what broke, with the values that prove it.
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
NORETURN void vpanic(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);
// A trap the kernel cannot handle is the trap layer's panic_trap
// (include/trap.h): it prints the frame, then panics.
//
//
// One CPU reports: the first to panic stops every other (an NMI each,
// through the hook below) before it prints, and a CPU that panics while
// another does halts without a word.  A panic a test expects (below) stops
// nobody.

// Test support: the next panic prints its report, then longjmps to env
// instead of stopping (the panic message is kept in g_panic_message).  The
// test must treat whatever the panic was about as broken.  NULL disarms.
#ifndef HOST_TEST
#include "lib/setjmp.h"
void panic_recovery_arm(jmp_buf *env);
#endif
extern char g_panic_message[160];

// Stops a boot that cannot go on for a reason outside the kernel (too little
// memory): prints the message alone, then halts (in test mode: exits QEMU
// with the failure status).  No register dump: nothing is broken.
NORETURN void boot_stop(const char *fmt, ...) PRINTF_LIKE(1, 2);

// What the panic path needs from the other CPUs, installed by the smp
// layer once there are some (kernel/smp/halt.c): the calling CPU's index,
// and to stop every other CPU (returns how many stopped, *asked of how many).
struct panic_smp {
    unsigned (*cpu)(void);
    unsigned (*halt_others)(unsigned *asked);
};
void panic_set_smp(const struct panic_smp *smp);

// Checks an invariant that must hold whatever the input; panics naming it.
#define KASSERT(cond)                                                         \
    do {                                                                      \
        if (unlikely(!(cond)))                                                \
            panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
    } while (0)

#endif
