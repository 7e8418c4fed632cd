/* Stack/arena collisions: what a detected one looks like, and how a test
 * can survive one on purpose. */
#ifndef TANDEM_COLLISION_H
#define TANDEM_COLLISION_H

#include <stdint.h>
#include "lib/setjmp.h"

struct thread;

struct collision_report {
    uint32_t tid;
    char name[16];
    uint32_t block, block_size;
    uint32_t arena_top;
    uint32_t esp;
    uint32_t low_water;
    uint8_t canary[4];          // the bytes found where KFAST_CANARY should be
    const char *detected_at;    // "switch", "exit to user", "kernel entry"
};

// The last collision reported (tests read it).
extern struct collision_report g_last_collision;

// Arms a recovery point for the current thread: a collision detected in it
// is reported, then longjmps to env instead of panicking.  The thread must
// then end (its stack wrote over its own arena objects).  NULL disarms.
void collision_recovery_arm(jmp_buf *env);

// Reports a broken canary in t's arena (the report path GDB's
// `tandem catch collision` breaks on).
void kfast_collision(struct thread *t, uint32_t esp, const char *where);

#endif
