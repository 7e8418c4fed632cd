// Device interrupts: the I/O APIC's entries as the firmware's tables ask,
// the tick on the boot CPU's local APIC timer, a device's interrupt
// arriving, and an edge that comes while its line is masked kept for the
// unmask - on whichever controller the machine has.
#include "boot.h"
#include "irq.h"
#include "ktest.h"
#include "lib/string.h"
#include "percpu.h"
#include "pic.h"
#include "rtc.h"
#include "smp.h"
#include "smp/ioapic.h"
#include "smp/irq_routing.h"
#include "smp/lapic.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

// What the tables say of ISA IRQ irq: its override, or NULL.
static const struct irq_override *
override_of(unsigned irq)
{
    const struct machine_tables *t = &g_smp.tables;
    for (unsigned i = 0; i < t->override_count; i++)
        if (t->overrides[i].bus == 0 && t->overrides[i].irq == irq)
            return &t->overrides[i];
    return NULL;
}

KTEST(irq, the_controller_is_the_one_the_summary_names)
{
    char line[160];
    irq_routing_summary_line(line, sizeof(line));
    bool ioapic = irq_routing_via_ioapic();
    KEXPECT_STREQ(irq_controller()->name, ioapic ? "ioapic" : "8259");
    KEXPECT_TRUE(memcmp(line, ioapic ? "irqs: ioapic (" : "irqs: 8259 (", ioapic ? 14 : 12) == 0);
    // An APIC machine the kernel can route (QEMU's and Bochs' PCs) does,
    // unless told not to.
    if (g_smp.lapic_phys && g_smp.tables.ioapic_count && !g_boot.noioapic)
        KEXPECT_TRUE(ioapic);
}

// Each ISA line's entry: its vector, fixed delivery to the boot CPU, and
// the polarity and trigger of its override (ISA's, active-high edge,
// without one or where it says "as the bus").
KTEST(irq, ioapic_entries_read_back_as_the_tables_ask)
{
    if (!irq_routing_via_ioapic())
        return;
    unsigned routed = 0;
    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        const struct irq_override *o = override_of(irq);
        if (!ioapic_isa_routed(irq)) {
            // Only a line whose GSI another line's override took.
            bool taken = false;
            for (unsigned j = 0; j < ISA_IRQS; j++) {
                const struct irq_override *oj = override_of(j);
                taken |= j != irq && oj && oj->gsi == irq;
            }
            KEXPECT_TRUE(!o && taken);
            continue;
        }
        routed++;
        uint32_t low, high;
        ioapic_isa_entry(irq, &low, &high);
        KEXPECT_UEQ(ioapic_isa_gsi(irq), o ? o->gsi : irq);
        KEXPECT_UEQ(low & IOAPIC_VECTOR, VEC_IRQ0 + irq);
        KEXPECT_UEQ(low & 0xF00u, 0); // fixed delivery, physical destination
        KEXPECT_UEQ(high >> 24, g_smp.cpus[0].apic_id);
        uint16_t flags = o ? o->flags : 0;
        KEXPECT_UEQ(!!(low & IOAPIC_ACTIVE_LOW), INTI_POLARITY(flags) == INTI_LOW);
        KEXPECT_UEQ(!!(low & IOAPIC_LEVEL), INTI_TRIGGER(flags) == INTI_LEVEL);
    }
    KEXPECT_GE(routed, 15); // IRQ 2, the cascade, may have no input
}

// The PIT's line is closed everywhere and the ticks still come: they are
// the local APIC timer's, which masking line 0 stops.
KTEST(irq, ticks_come_from_the_local_apic_timer)
{
    if (!irq_routing_tick_on_lapic()) {
        KEXPECT_FALSE(irq_masked() & (1u << IRQ_TIMER)); // the PIT's line is open
        return;
    }
    uint32_t low, high;
    ioapic_isa_entry(IRQ_TIMER, &low, &high);
    KEXPECT_TRUE(low & IOAPIC_MASKED);
    KEXPECT_UEQ(pic_masked(), 0xFFFF);
    uint32_t lvt = lapic_read(LAPIC_LVT_TIMER);
    KEXPECT_UEQ(lvt & 0xFF, VEC_IRQ0 + IRQ_TIMER);
    KEXPECT_TRUE(lvt & LVT_TIMER_PERIODIC);
    KEXPECT_FALSE(lvt & LVT_MASKED);

    struct pit_watch clock;
    uint32_t start = timer_ticks();
    pit_watch_start(&clock);
    while (timer_ticks() - start < 5 && pit_watch_poll(&clock) < 50 && clock.still < 100000)
        cpu_relax();
    KEXPECT_GE(timer_ticks() - start, 5);

    irq_mask(IRQ_TIMER);
    KEXPECT_TRUE(lapic_timer_masked());
    start = timer_ticks();
    pit_watch_start(&clock);
    while (pit_watch_poll(&clock) < 5 && clock.still < 100000)
        cpu_relax();
    KEXPECT_UEQ(timer_ticks(), start);
    irq_unmask(IRQ_TIMER);

    start = timer_ticks();
    pit_watch_start(&clock);
    while (timer_ticks() - start < 5 && pit_watch_poll(&clock) < 50 && clock.still < 100000)
        cpu_relax();
    KEXPECT_GE(timer_ticks() - start, 5);
}

static volatile unsigned s_rtc_runs, s_rtc_wrong_vector, s_rtc_wrong_cpu;

static void
rtc_counting(struct trap_frame *f)
{
    s_rtc_wrong_vector += f->vector != VEC_IRQ0 + IRQ_RTC;
    s_rtc_wrong_cpu += this_cpu_index() != 0;
    cmos_read(RTC_REG_C);
    s_rtc_runs++;
}

// Waits with interrupts on until the RTC's handler has run runs times, or
// periods of the PIT's tick period have gone by.
static void
wait_for_rtc(unsigned runs, unsigned periods)
{
    struct pit_watch clock;
    pit_watch_start(&clock);
    while (s_rtc_runs < runs && pit_watch_poll(&clock) < periods && clock.still < 100000)
        cpu_relax();
}

// The RTC's periodic interrupt (1024 Hz) reaches its handler, on the boot
// CPU, at IRQ 8's vector; under the I/O APIC the 8259 has nothing of it.
KTEST(irq, rtc_interrupts_arrive)
{
    s_rtc_runs = s_rtc_wrong_vector = s_rtc_wrong_cpu = 0;
    uint32_t flags = irq_save();
    irq_register(IRQ_RTC, rtc_counting);
    rtc_periodic_enable(true);
    cmos_read(RTC_REG_C);
    irq_restore(flags);
    wait_for_rtc(20, 20);
    flags = irq_save();
    rtc_periodic_enable(false);
    irq_unregister(IRQ_RTC);
    cmos_read(RTC_REG_C);
    uint16_t pic_isr = pic_in_service();
    irq_restore(flags);
    KEXPECT_GE(s_rtc_runs, 20);
    KEXPECT_EQ(s_rtc_wrong_vector, 0);
    KEXPECT_EQ(s_rtc_wrong_cpu, 0);
    if (irq_routing_via_ioapic())
        KEXPECT_UEQ(pic_isr, 0);
}

// An interrupt raised while its line is masked comes once the line is
// unmasked: the 8259 latches the edge; the I/O APIC would drop it, so the
// kernel holds it and sends it again (kernel/smp/irq_routing.c).  A
// driver's line is masked from its interrupt to its ack, and a UART whose
// next byte arrives meanwhile raises no edge after: without this the
// driver waits for good.  The RTC stands for it: its periodic interrupt is
// raised while the line is masked, then turned off, so that nothing but
// what was raised can come.
KTEST(irq, an_edge_while_masked_comes_at_the_unmask)
{
    s_rtc_runs = s_rtc_wrong_vector = s_rtc_wrong_cpu = 0;
    uint32_t flags = irq_save();
    irq_register(IRQ_RTC, rtc_counting);
    irq_mask(IRQ_RTC);
    cmos_read(RTC_REG_C);
    rtc_periodic_enable(true);
    irq_restore(flags);
    wait_for_rtc(1, 2); // about 10 raised: none may get through
    flags = irq_save();
    rtc_periodic_enable(false);
    irq_restore(flags);
    KEXPECT_EQ(s_rtc_runs, 0);
    KEXPECT_TRUE(irq_masked() & (1u << IRQ_RTC));
    irq_unmask(IRQ_RTC);
    wait_for_rtc(1, 5);
    flags = irq_save();
    irq_unregister(IRQ_RTC);
    cmos_read(RTC_REG_C);
    irq_restore(flags);
    KEXPECT_EQ(s_rtc_runs, 1);
    KEXPECT_EQ(s_rtc_wrong_vector, 0);
}
