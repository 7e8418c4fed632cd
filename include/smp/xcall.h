/* Cross-CPU calls: run a function on other CPUs and wait until each has
 * (kernel/smp/xcall.c; docs/design.md, "Cross-CPU calls").
 *
 * The request - function, argument, the CPUs named, the ones that have not
 * answered yet - is allocated with kfastmalloc in the calling thread's
 * arena.  The caller posts it in each target's one-request mailbox, sends
 * each a fixed-vector IPI (VEC_XCALL, include/trap.h) and spins, interrupts off, until
 * every target has acknowledged; only then does it return, so the request
 * outlives every read of it and dies with the arena's next reset.  There is
 * no asynchronous form: a caller that went on would reach its next return
 * to user mode, whose reset frees the request while a target may still read
 * it.  A debug build checks it: an arena reset while one of its requests is
 * outstanding panics (kfast_reset, include/mm/kfast_arena.h).  Where no
 * arena is at hand (an AP not yet released to the scheduler; a strict
 * arena refuses) the request lives on the caller's stack, which the wait
 * keeps as long.
 *
 * A waiting caller serves the calls addressed to it, so two CPUs that call
 * each other at once both finish; a target that does not answer within
 * XCALL_TIMEOUT_MS panics, naming it.  The function runs on each target in
 * its interrupt handler (or the waiting loop of a caller it interrupted),
 * interrupts off: it must be short, must not sleep, allocate in the arena
 * or take a lock the caller may hold.  It may make calls of its own. */
#ifndef TANDEM_SMP_XCALL_H
#define TANDEM_SMP_XCALL_H

#include <stdint.h>

#define XCALL_TIMEOUT_MS 5000u // a target that takes longer is reported stuck

typedef void (*xcall_fn)(void *arg);
// Bit i stands for g_smp.cpus[i].
typedef uint32_t cpumask_t;

struct kfast_arena;

struct xcall_request {
    xcall_fn fn;
    void *arg;
    cpumask_t targets;          // the other CPUs it was posted to
    volatile cpumask_t pending; // those of them that have not acknowledged
    unsigned initiator;         // the calling CPU's index
    struct kfast_arena *arena;  // the arena it lives in (calls_pending counts it);
                                //   NULL: on the caller's stack (no arena at hand)
    uint32_t flags;             // the caller's EFLAGS, back when the call is done
};

// Per CPU: its mailbox and what it has done (GDB's `tandem cpus` reads it).
struct xcall_cpu {
    struct xcall_request *volatile inbox; // a request posted to it, not yet taken
    uint32_t served;                      // calls it has run for others
    uint32_t made;                        // calls it has made
    struct xcall_request *waiting;        // the call it is waiting on (NULL: none)
};
extern struct xcall_cpu g_xcall_cpus[];

// The online CPUs, as a mask.
cpumask_t xcall_online(void);
// Runs fn(arg) on every online CPU in targets - on the caller's own CPU too,
// if it is named, here - and returns when all have.  CPUs that are not
// online are left out.
void xcall(cpumask_t targets, xcall_fn fn, void *arg);
// xcall's two halves, for the test of the misuse check only: post (the
// request in the running arena - it panics if the arena refuses - the
// mailboxes, the IPIs; interrupts off until the wait) and wait (until every
// target has answered; the caller's interrupt flag back).
struct xcall_request *xcall_post(cpumask_t targets, xcall_fn fn, void *arg);
void xcall_wait(struct xcall_request *r);
// Serves a call waiting in this CPU's mailbox, if there is one: for a loop
// that spins with interrupts off (on a lock), which must not hold up a
// caller that waits on this CPU - its IPI stays pending until then.
void xcall_poll(void);
// The IPI's handler (the entry layer calls it for VEC_XCALL).
void xcall_interrupt(void);
// Measures the TSC against the PIT for the wait's bound; smp_init calls it
// once the APs are online.
void xcall_init(void);

#endif
