// Stopping the other CPUs on a panic, by NMI (include/smp/halt.h).
#include "panic.h"
#include "percpu.h"
#include "smp.h"
#include "smp/halt.h"
#include "smp/lapic.h"
#include "smp/xcall.h"
#include "x86.h"

#define HALT_WAIT_POLLS 50000000u // at most a second or two for the NMIs to land

static volatile uint32_t s_halt_from; // the panicking CPU's index + 1 (0: none)
static volatile cpumask_t s_halted;   // the CPUs that have stopped

bool
smp_halt_requested(void)
{
    return __atomic_load_n(&s_halt_from, __ATOMIC_ACQUIRE) != 0;
}

NORETURN void
smp_halt_here(void)
{
    __atomic_or_fetch(&s_halted, 1u << this_cpu_index(), __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("cli; hlt" : : : "memory");
}

static unsigned
cpus_in(cpumask_t m)
{
    unsigned n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

// The panic path's hook: NMIs every other online CPU, waits for them to
// stop; how many did, and of how many (*asked).
static unsigned
halt_others(unsigned *asked)
{
    unsigned me = this_cpu_index();
    cpumask_t others = xcall_online() & ~(1u << me);
    __atomic_store_n(&s_halt_from, me + 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < g_smp.count; i++)
        if (others & (1u << i))
            lapic_send_fast(g_smp.cpus[i].apic_id, ICR_NMI);
    for (uint32_t i = 0; i < HALT_WAIT_POLLS; i++) {
        if ((__atomic_load_n(&s_halted, __ATOMIC_ACQUIRE) & others) == others)
            break;
        cpu_relax();
    }
    *asked = cpus_in(others);
    return cpus_in(s_halted & others);
}

// The panic path's own (it is below the per-CPU layer).
static unsigned
cpu_index(void)
{
    return this_cpu_index();
}

static const struct panic_smp s_panic_smp = { cpu_index, halt_others };

void
smp_halt_init(void)
{
    panic_set_smp(&s_panic_smp);
}
