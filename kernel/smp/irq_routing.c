// The device interrupts through the I/O APIC, the tick on the boot CPU's
// local APIC timer (include/smp/irq_routing.h).
#include "smp/irq_routing.h"
#include "boot.h"
#include "irq.h"
#include "lib/format.h"
#include "pic.h"
#include "smp.h"
#include "smp/ioapic.h"
#include "smp/lapic.h"
#include "x86.h"

// MP spec 3.6.2.1: a machine that boots in PIC mode wires the 8259 straight
// to the boot CPU until the IMCR says to go through the APICs.
#define IMCR_SELECT 0x22
#define IMCR_DATA   0x23
#define IMCR_REG    0x70
#define IMCR_APIC   0x01

static bool s_tick_lapic;
static unsigned s_inputs;   // the ISA lines' I/O APIC's (0: the 8259 delivers)
static char s_why_8259[96]; // why the 8259 still delivers
static const char *s_why_pit = "";

// An I/O APIC drops an edge that arrives while its input is masked (the
// 82093AA datasheet says so, QEMU's does it), where the 8259 latches it
// and delivers it at the unmask.  A driver's line is masked from its
// interrupt to its ack (kernel/cap/boot_objects.c); a UART whose next byte
// came in meanwhile keeps its line up, so no new edge comes, and the
// driver would wait for good.  So an edge-triggered line is masked lazily:
// only in s_masked, until an interrupt does come while it is, which is
// held (s_held, its entry masked now) and sent again at the unmask.  One
// that was already requested at the local APIC when the line was masked
// (s_early) is not held: it was raised before whoever masked the line -
// a driver's notification - could have looked at the device, so looking
// finds its cause (QEMU's I/O APIC turns every update of a UART's line
// into an edge: two per byte in loopback, the second waiting at the local
// APIC while the first is served; one that comes only after the mask is
// held, and brings a notification with nothing to read).  A
// level-triggered line is masked at once: its level is still there at the
// unmask.  Line 0 on the local APIC
// timer is the timer's own entry.
static uint16_t s_masked = 0xFFFF, s_held, s_early, s_level;

static void
ioapic_mask(unsigned irq)
{
    if (irq == IRQ_TIMER && s_tick_lapic) {
        lapic_timer_mask(true);
        return;
    }
    uint16_t bit = (uint16_t)(1u << irq);
    s_masked |= bit;
    if (s_level & bit)
        ioapic_isa_mask(irq, true);
    else if (lapic_requested(VEC_IRQ0 + irq))
        s_early |= bit;
}

static void
ioapic_unmask(unsigned irq)
{
    if (irq == IRQ_TIMER && s_tick_lapic) {
        lapic_timer_mask(false);
        return;
    }
    uint16_t bit = (uint16_t)(1u << irq);
    s_masked &= (uint16_t)~bit;
    s_early &= (uint16_t)~bit;
    ioapic_isa_mask(irq, false);
    if (s_held & bit) {
        s_held &= (uint16_t)~bit;
        lapic_send_fixed(g_smp.cpus[0].apic_id, (uint8_t)(VEC_IRQ0 + irq));
    }
}

// An interrupt on a line masked lazily: ended, and held for the unmask
// unless it was requested before the mask.
static bool
ioapic_hold(unsigned irq)
{
    uint16_t bit = (uint16_t)(1u << irq);
    if (!(s_masked & bit) || (irq == IRQ_TIMER && s_tick_lapic))
        return false;
    lapic_eoi();
    if (s_early & bit) {
        s_early &= (uint16_t)~bit;
        return true;
    }
    ioapic_isa_mask(irq, true);
    s_held |= bit;
    return true;
}

// The local APIC ends the service of whichever vector it delivered last;
// for a level-triggered line it also tells the I/O APIC.
static void
ioapic_eoi(unsigned irq)
{
    (void)irq;
    lapic_eoi();
}

// This CPU's, as the local APIC says: the I/O APIC delivers to the boot CPU.
static uint16_t
ioapic_in_service(void)
{
    uint16_t isr = 0;
    for (unsigned irq = 0; irq < ISA_IRQS; irq++)
        if (lapic_in_service(VEC_IRQ0 + irq))
            isr |= (uint16_t)(1u << irq);
    return isr;
}

static uint16_t
ioapic_masked(void)
{
    uint16_t masked = 0;
    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        bool m = irq == IRQ_TIMER && s_tick_lapic
                     ? lapic_timer_masked()
                     : (s_masked >> irq & 1) || !ioapic_isa_routed(irq);
        masked |= (uint16_t)(m << irq);
    }
    return masked;
}

// Every vector in service ends, the local APIC's own too: at a recovery
// point each belongs to an abandoned handler (include/irq.h).
static uint16_t
ioapic_end_abandoned(void)
{
    uint16_t isr = ioapic_in_service();
    lapic_end_all_in_service();
    return isr;
}

static const struct irq_controller s_ioapic = {
    .name = "ioapic",
    .mask = ioapic_mask,
    .unmask = ioapic_unmask,
    .swallow = ioapic_hold, // LINT0 is masked: nothing spurious comes from the 8259
    .eoi = ioapic_eoi,
    .in_service = ioapic_in_service,
    .masked = ioapic_masked,
    .end_abandoned = ioapic_end_abandoned,
};

void
irq_routing_init(void)
{
    if (g_boot.noioapic) {
        ksnprintf(s_why_8259, sizeof(s_why_8259), "noioapic on the command line");
        return;
    }
    if (!g_smp.lapic_phys) {
        ksnprintf(s_why_8259, sizeof(s_why_8259), "no local APIC in use");
        return;
    }
    s_inputs = ioapic_route_isa(&g_smp.tables, g_smp.ioapic_versions, g_smp.cpus[0].apic_id,
                                s_why_8259, sizeof(s_why_8259));
    if (!s_inputs)
        return;
    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        uint32_t low = 0, high;
        if (ioapic_isa_routed(irq))
            ioapic_isa_entry(irq, &low, &high);
        if (low & IOAPIC_LEVEL)
            s_level |= (uint16_t)(1u << irq);
    }
    if (g_smp.tables.imcr) {
        outb(IMCR_SELECT, IMCR_REG);
        outb(IMCR_DATA, IMCR_APIC);
    }
    pic_mask_all();
    lapic_boot_cpu_cut_8259();
    // The 8259 has nothing in service (interrupts have been off since
    // boot), and nothing of it gets in from here on.
    uint32_t count = lapic_timer_calibrate();
    if (count) {
        // Started before the switch unmasks line 0 on the new controller:
        // the unmask then opens the timer's entry, not the PIT's.
        lapic_timer_start(VEC_IRQ0 + IRQ_TIMER, count);
        lapic_timer_mask(true);
        s_tick_lapic = true;
        s_why_pit = "";
    } else {
        s_why_pit = "the local APIC timer does not count";
    }
    irq_controller_use(&s_ioapic);
}

bool
irq_routing_via_ioapic(void)
{
    return s_inputs != 0;
}

bool
irq_routing_tick_on_lapic(void)
{
    return s_tick_lapic;
}

int
irq_routing_summary_line(char *buf, size_t size)
{
    int n = s_inputs ? ksnprintf(buf, size, "irqs: ioapic (%u inputs)", s_inputs)
                     : ksnprintf(buf, size, "irqs: 8259 (%s)", s_why_8259);
    size_t at = (size_t)n < size ? (size_t)n : size;
    if (s_tick_lapic)
        return n + ksnprintf(buf + at, size - at, ", timer: lapic (%u counts a tick)",
                             lapic_timer_calibrate());
    if (s_why_pit[0])
        return n + ksnprintf(buf + at, size - at, ", timer: pit (%s)", s_why_pit);
    return n + ksnprintf(buf + at, size - at, ", timer: pit");
}
