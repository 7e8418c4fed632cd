/* Stack/arena collisions: what a detected one looks like, and how a test
 * can survive one on purpose. */
#ifndef TANDEM_COLLISION_H
#define TANDEM_COLLISION_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/setjmp.h"

struct thread;

struct collision_report {
    uint32_t tid;
    char name[16];
    uint32_t block, block_size;
    uint32_t arena_top;
    uint32_t esp;
    uint32_t eip; // where it was caught (the faulting instruction, for the guard)
    uint32_t low_water;
    uint8_t canary[4];       // the bytes found where KFAST_CANARY should be
    const char *detected_at; // which check, or the guard
    bool by_trap;            // the hardware trap (the guard), not the canary
    uint16_t irqs_ended;     // IRQs in service the recovery ended (1 << n: IRQ n)
};

// The guard's reports come from the double-fault task (kernel/thread/
// double_fault.c): double_fault_init makes the calling CPU's task (each
// CPU has its own, with its own stack) and the IDT gate;
// double_fault_handler is what the task runs (double_fault_entry.asm).
void double_fault_init(void);
void double_fault_handler(void);

// Installs the arena's canary hook (kfast_set_canary_hook): a broken
// canary found at a release is reported as a collision.
void collision_init(void);

// The last collision reported (tests read it).
extern struct collision_report g_last_collision;

// Arms a recovery point for the current thread: a collision detected in it
// is reported, then longjmps to env instead of panicking.  The thread must
// then end (its stack wrote over its own arena objects).  NULL disarms.
void collision_recovery_arm(jmp_buf *env);

// Records and prints a collision in t's arena (GDB's `tandem catch
// collision` breaks here); returns the stack to resume on if t armed a
// recovery point, else 0.
uint32_t collision_report(struct thread *t, uint32_t esp, uint32_t eip, const char *where,
                          bool by_trap);
// Longjmps to the armed recovery point (runs on the stack collision_report gave).
NORETURN void collision_resume(void);

#endif
