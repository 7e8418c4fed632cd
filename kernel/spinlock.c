// Spinlocks that say who holds them, the lock-order checker of debug
// builds, and the big kernel lock (include/spinlock.h).
#include "kprintf.h"
#include "panic.h"
#include "percpu.h"
#include "spinlock.h"
#include "x86.h"

struct spinlock g_bkl = SPINLOCK_INIT("the big kernel lock", LOCK_RANK_BKL);
uint32_t g_spin_stuck_spins = SPIN_STUCK_SPINS;
static void (*s_wait_hook)(void);

void
spin_set_wait_hook(void (*serve)(void))
{
    s_wait_hook = serve;
}

// Debug builds: l may be taken now - not held by this CPU already, and of a
// higher rank than every lock it holds.
static void
lock_order_check(const struct spinlock *l)
{
    struct percpu *p = this_cpu();
    if (spin_held(l))
        panic("lock order: cpu %u takes %s, which it holds already", p->index, l->name);
    if (p->held_count && p->held[p->held_count - 1]->rank >= l->rank)
        panic("lock order: cpu %u takes %s (rank %u) while holding %s (rank %u)", p->index, l->name,
              l->rank, p->held[p->held_count - 1]->name, p->held[p->held_count - 1]->rank);
    if (p->held_count == PERCPU_HELD_MAX)
        panic("lock order: cpu %u takes %s holding %u locks already", p->index, l->name,
              p->held_count);
}

// Called after every g_spin_stuck_spins turns on l (rounds of them so far).
static void
spin_stuck(const struct spinlock *l, uint32_t holder, uint32_t rounds)
{
    unsigned me = this_cpu_index();
    if (TANDEM_DEBUG)
        panic("spinlock: cpu %u stuck on %s, held by cpu %d, after %u x %u spins", me, l->name,
              (int)holder - 1, rounds, g_spin_stuck_spins);
    if (rounds == 1)
        kprintf("spinlock: cpu %u stuck on %s, held by cpu %d, after %u spins (still "
                "waiting)\n",
                me, l->name, (int)holder - 1, g_spin_stuck_spins);
}

void
spin_lock_slow(struct spinlock *l)
{
    if (TANDEM_DEBUG)
        lock_order_check(l);
    uint32_t me = THIS_CPU(lock_id), free_lock = 0;
    uint32_t spins = 0, rounds = 0;
    void (*serve)(void) = read_eflags() & EFLAGS_IF ? NULL : s_wait_hook;
    while (!__atomic_compare_exchange_n(&l->holder, &free_lock, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        // Wait reading, not writing, so the holder's cache line stays put.
        while ((free_lock = l->holder) != 0) {
            if (serve)
                serve();
            cpu_relax();
            if (unlikely(++spins == g_spin_stuck_spins)) {
                spins = 0;
                spin_stuck(l, free_lock, ++rounds);
            }
        }
    }
    if (TANDEM_DEBUG) {
        struct percpu *p = this_cpu();
        p->held[p->held_count++] = l;
    }
}

void
spin_unlock_checked(struct spinlock *l)
{
    struct percpu *p = this_cpu();
    if (!spin_held(l))
        panic("spinlock: cpu %u releases %s, held by cpu %d", p->index, l->name,
              (int)l->holder - 1);
    // Usually the newest; any order of release keeps the order of taking.
    unsigned i = p->held_count;
    while (i > 0 && p->held[i - 1] != l)
        i--;
    if (i == 0)
        panic("spinlock: cpu %u holds %s but did not record taking it", p->index, l->name);
    for (; i < p->held_count; i++)
        p->held[i - 1] = p->held[i];
    p->held_count--;
    __atomic_store_n(&l->holder, 0, __ATOMIC_RELEASE);
}

void
bkl_missing(const char *what)
{
    panic("%s without the big kernel lock on cpu %u (held by cpu %d)", what, this_cpu_index(),
          (int)g_bkl.holder - 1);
}

void
bkl_check_alone(const char *what)
{
    bkl_assert_held(what);
    struct percpu *p = this_cpu();
    if (p->held_count != 1)
        panic("%s on cpu %u holding %s besides the big kernel lock", what, p->index,
              p->held[p->held_count - 1]->name);
}
