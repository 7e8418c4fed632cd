// The local APIC as bring-up uses it: its registers, IPIs, the idle state
// of the application processors (include/smp/lapic.h).
#include "lib/format.h"
#include "mm/paging.h"
#include "smp/lapic.h"
#include "timer.h"
#include "trap.h"
#include "uapi/syscall.h"
#include "x86.h"

#define IPI_TIMEOUT_US 100000u
#define IPI_SEND_POLLS 1000000u // an xAPIC takes an IPI in a few hundred ns

static volatile uint32_t *s_lapic;

bool
lapic_map(uint32_t phys)
{
    s_lapic = phys_map(phys, PAGE_SIZE, PHYS_MAP_DEVICE);
    return s_lapic != NULL;
}

uint32_t
lapic_read(uint32_t reg)
{
    return s_lapic[reg / 4];
}

void
lapic_write(uint32_t reg, uint32_t value)
{
    s_lapic[reg / 4] = value;
}

uint8_t
lapic_id(void)
{
    return (uint8_t)(lapic_read(LAPIC_ID) >> 24);
}

uint8_t
lapic_version(void)
{
    return (uint8_t)lapic_read(LAPIC_VERSION);
}

static unsigned
lapic_max_lvt(void)
{
    return (lapic_read(LAPIC_VERSION) >> 16) & 0xFF;
}

void
lapic_boot_cpu_setup(void)
{
    if (lapic_read(LAPIC_SVR) & LAPIC_SVR_ENABLE)
        return;
    // LVT masks cannot be cleared while the APIC is software-disabled:
    // enable it first.
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
    lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT);
    lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
}

void
lapic_boot_cpu_cut_8259(void)
{
    lapic_boot_cpu_setup();
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_TPR, 0);
}

void
lapic_quiet(void)
{
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
    lapic_write(LAPIC_TPR, 0xF0);
    unsigned max_lvt = lapic_max_lvt();
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    if (max_lvt >= 4)
        lapic_write(LAPIC_LVT_PERF, LVT_MASKED);
    if (max_lvt >= 5)
        lapic_write(LAPIC_LVT_THERMAL, LVT_MASKED);
    lapic_write(LAPIC_ESR, 0);
}

void
lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

bool
lapic_send_fast(uint8_t dest, uint32_t icr)
{
    lapic_write(LAPIC_ICR_HI, (uint32_t)dest << 24);
    lapic_write(LAPIC_ICR_LO, icr);
    for (uint32_t i = 0; i < IPI_SEND_POLLS; i++) {
        if (!(lapic_read(LAPIC_ICR_LO) & ICR_PENDING))
            return true;
        cpu_relax();
    }
    return false;
}

bool
lapic_send_ipi(uint8_t dest, uint32_t icr, char *why, size_t why_len)
{
    lapic_write(LAPIC_ESR, 0);
    lapic_write(LAPIC_ICR_HI, (uint32_t)dest << 24);
    lapic_write(LAPIC_ICR_LO, icr);
    struct pit_clock clock;
    pit_clock_start(&clock);
    while (lapic_read(LAPIC_ICR_LO) & ICR_PENDING) {
        if (pit_clock_us(&clock) > IPI_TIMEOUT_US || clock.still > PIT_STILL_POLLS) {
            ksnprintf(why, why_len, "its IPI %#x was still pending after %u ms", icr,
                      IPI_TIMEOUT_US / 1000);
            return false;
        }
        cpu_relax();
    }
    // A write latches the errors since the last one into the ESR.
    lapic_write(LAPIC_ESR, 0);
    uint32_t esr = lapic_read(LAPIC_ESR);
    if (esr & ESR_SEND_ERRORS) {
        ksnprintf(why, why_len, "the local APIC reports error %#x (ESR) sending IPI %#x", esr, icr);
        return false;
    }
    return true;
}

void
lapic_accept_interrupts(void)
{
    lapic_quiet();
    lapic_write(LAPIC_TPR, 0);
}

// A calibration of one tick, at least, under the PIT's clock, taken a few
// times: the PIT's clock only runs slow (a poll that comes late, when an
// emulator's CPU thread was not running, loses whole periods), which makes
// a count too large - the tick too long - and never too small.  The
// smallest of the measurements is the best.
#define CALIBRATE_US   (1000000u / TICK_HZ)
#define CALIBRATE_RUNS 5

static uint32_t
timer_count_per_tick(void)
{
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    struct pit_clock clock;
    pit_clock_start(&clock);
    lapic_write(LAPIC_TIMER_INITIAL, UINT32_MAX);
    uint32_t us;
    while ((us = pit_clock_us(&clock)) < CALIBRATE_US) {
        if (clock.still > PIT_STILL_POLLS)
            return 0;
        cpu_relax();
    }
    uint32_t counted = UINT32_MAX - lapic_read(LAPIC_TIMER_CURRENT);
    lapic_write(LAPIC_TIMER_INITIAL, 0);
    // counted * CALIBRATE_US / us without 64-bit arithmetic (the kernel has
    // no libgcc): whole microseconds' worth, then the rest.
    return counted / us * CALIBRATE_US + counted % us * CALIBRATE_US / us;
}

uint32_t
lapic_timer_calibrate(void)
{
    // The boot CPU's tick and the APs' take the same count: measured once.
    static uint32_t s_count;
    if (s_count)
        return s_count;
    uint32_t best = UINT32_MAX;
    for (unsigned run = 0; run < CALIBRATE_RUNS; run++) {
        uint32_t count = timer_count_per_tick();
        if (count == 0)
            return 0;
        best = count < best ? count : best;
    }
    s_count = best;
    return s_count;
}

void
lapic_timer_start(uint8_t vector, uint32_t count)
{
    lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
    lapic_write(LAPIC_LVT_TIMER, vector | LVT_TIMER_PERIODIC);
    lapic_write(LAPIC_TIMER_INITIAL, count);
}

void
lapic_timer_mask(bool masked)
{
    uint32_t lvt = lapic_read(LAPIC_LVT_TIMER);
    lapic_write(LAPIC_LVT_TIMER, masked ? lvt | LVT_MASKED : lvt & ~LVT_MASKED);
}

bool
lapic_timer_masked(void)
{
    return lapic_read(LAPIC_LVT_TIMER) & LVT_MASKED;
}

bool
lapic_in_service(unsigned vector)
{
    return lapic_read(LAPIC_ISR + vector / 32 * 0x10) & (1u << vector % 32);
}

bool
lapic_requested(unsigned vector)
{
    return lapic_read(LAPIC_IRR + vector / 32 * 0x10) & (1u << vector % 32);
}

// Each EOI ends the highest-priority vector in service: one per bit.
void
lapic_end_all_in_service(void)
{
    for (unsigned reg = 0; reg < 8; reg++)
        for (uint32_t isr = lapic_read(LAPIC_ISR + reg * 0x10); isr; isr &= isr - 1)
            lapic_eoi();
}
