/* Spinlocks, and the big kernel lock (docs/design.md, "Per-CPU state and
 * the lock").
 *
 * A lock records which CPU holds it, so a CPU that spins too long can say
 * who it waits for: after SPIN_STUCK_SPINS turns it reports the lock's
 * name, the holder and itself - a panic in debug builds, one line in
 * release ones, which then spin on.  Locks are taken in rising rank; debug
 * builds keep each CPU's held locks (include/percpu.h) and panic, with both
 * locks named, on a lock taken out of order or taken again by its holder.
 * Take them with interrupts off: an interrupt handler on the same CPU that
 * wanted the lock would spin forever. */
#ifndef TANDEM_SPINLOCK_H
#define TANDEM_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"
#include "percpu.h"

// Lock ranks, lowest taken first.
enum lock_rank {
    LOCK_RANK_BKL = 1,  // the big kernel lock: first, or alone
    LOCK_RANK_TEST = 8, // the lock tests' own (tests/kernel/hardening_test.c)
};

struct spinlock {
    volatile uint32_t holder; // the holding CPU's index + 1; 0: free
    const char *name;
    uint8_t rank; // enum lock_rank
};

#define SPINLOCK_INIT(lock_name, lock_rank) \
    {                                       \
        0, lock_name, lock_rank             \
    }

// Turns a CPU spins before it reports the lock's holder (a variable so that
// a test can shorten it).
#define SPIN_STUCK_SPINS (1u << 28)
extern uint32_t g_spin_stuck_spins;

// Whether the calling CPU holds l.
static inline bool
spin_held(const struct spinlock *l)
{
    return l->holder == THIS_CPU(lock_id);
}

// What a CPU does between turns while it spins with interrupts off: the
// smp layer serves the CPU's cross-CPU call mailbox there (xcall_poll), since
// a caller that holds the lock may be waiting for this CPU's answer.  NULL
// until there are other CPUs.
void spin_set_wait_hook(void (*serve)(void));

// The out-of-line halves: debug builds always (the order checker), release
// ones when the lock is taken.
void spin_lock_slow(struct spinlock *l);
void spin_unlock_checked(struct spinlock *l);

// Inline in release builds: a free lock costs a compare-exchange, and its
// release one store (x86 keeps stores in order, so the release needs no fence).
static FORCE_INLINE void
spin_lock(struct spinlock *l)
{
    uint32_t free_lock = 0;
    if (TANDEM_DEBUG || !__atomic_compare_exchange_n(&l->holder, &free_lock, THIS_CPU(lock_id),
                                                     false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        spin_lock_slow(l);
}

static FORCE_INLINE void
spin_unlock(struct spinlock *l)
{
    if (TANDEM_DEBUG)
        spin_unlock_checked(l);
    else
        __atomic_store_n(&l->holder, 0, __ATOMIC_RELEASE);
}

// The big kernel lock: taken on every entry from ring 3 and by interrupts
// that find their CPU without it, dropped on the way out (kernel/entry/);
// held across context switches; the heap and everything threads share are
// under it.  Idle threads drop it while they halt.
extern struct spinlock g_bkl;
// Taking it, a CPU catches up with the TLB changes others made (percpu.h).
static FORCE_INLINE void
bkl_lock(void)
{
    spin_lock(&g_bkl);
    if (unlikely(THIS_CPU(tlb_gen) != g_kernel_tlb_gen))
        tlb_catch_up();
}
static inline void
bkl_unlock(void)
{
    spin_unlock(&g_bkl);
}
static inline bool
bkl_held(void)
{
    return spin_held(&g_bkl);
}
// Debug builds: panics, naming what, unless the calling CPU holds the BKL
// (bkl_assert_held), or holds it and no other lock (bkl_assert_alone: a
// context switch must not carry an inner lock to another thread).
NORETURN void bkl_missing(const char *what);
void bkl_check_alone(const char *what);
static inline void
bkl_assert_held(const char *what)
{
    if (TANDEM_DEBUG && !bkl_held())
        bkl_missing(what);
}
static inline void
bkl_assert_alone(const char *what)
{
    if (TANDEM_DEBUG)
        bkl_check_alone(what);
}

#endif
