// Panics on purpose, for tests/boot/smp_halt.py, which boots each suite on
// its own (`test=halt_ap`, `test=halt_all`; `test` leaves them out) on
// several CPUs and reads the report: one PANIC line, from one CPU, which
// says every other CPU stopped, and QEMU's exit.
#include "kprintf.h"
#include "ktest.h"
#include "panic.h"
#include "percpu.h"
#include "smp.h"
#include "smp/xcall.h"

static void
panic_here(void *arg)
{
    (void)arg;
    panic("halt_test: cpu %u panics on purpose", this_cpu_index());
}

// An AP panics inside a call while the boot CPU waits on it with
// interrupts off: only an NMI can stop the boot CPU.
KTEST(halt_ap, an_ap_panics_while_the_boot_cpu_waits_on_it)
{
    if (g_smp.online < 2) {
        kprintf("  # one CPU online: no AP to panic on\n");
        return;
    }
    xcall(1u << 1, panic_here, NULL);
    KEXPECT_TRUE(false); // not reached: the panic ends the boot
}

static volatile unsigned s_arrived;

static void
panic_together(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&s_arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&s_arrived, __ATOMIC_ACQUIRE) < g_smp.online)
        ;
    panic_here(NULL);
}

// Every CPU panics at the same moment: one reports, the others halt.
KTEST(halt_all, every_cpu_panics_at_once)
{
    xcall(xcall_online(), panic_together, NULL);
    KEXPECT_TRUE(false);
}
