/* The local APIC in xAPIC mode (Intel SDM vol. 3A, chapter 10 "Advanced
 * Programmable Interrupt Controller"): what bring-up, the timers and the
 * I/O APIC's interrupts need (kernel/smp/lapic.c).  Every CPU sees its
 * own local APIC at the same physical address, so one mapping serves all. */
#ifndef TANDEM_SMP_LAPIC_H
#define TANDEM_SMP_LAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSR_APIC_BASE       0x1B
#define APIC_BASE_BSP       (1u << 8)  // this CPU is the boot processor
#define APIC_BASE_ENABLE    (1u << 11) // the global enable
#define APIC_BASE_ADDR_MASK 0xFFFFF000u

// Register offsets.
#define LAPIC_ID            0x020 // bits 31:24
#define LAPIC_VERSION       0x030 // version in 7:0, the highest LVT entry in 23:16
#define LAPIC_TPR           0x080
#define LAPIC_EOI           0x0B0
#define LAPIC_SVR           0x0F0
#define LAPIC_ISR           0x100 // in service: 8 registers, 16 bytes apart, 32 vectors each
#define LAPIC_IRR           0x200 // requested, not yet delivered: laid out as the ISR
#define LAPIC_ESR           0x280
#define LAPIC_ICR_LO        0x300
#define LAPIC_ICR_HI        0x310 // destination in 31:24
#define LAPIC_LVT_TIMER     0x320
#define LAPIC_LVT_THERMAL   0x330
#define LAPIC_LVT_PERF      0x340
#define LAPIC_LVT_LINT0     0x350
#define LAPIC_LVT_LINT1     0x360
#define LAPIC_LVT_ERROR     0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE  0x3E0

#define LAPIC_SVR_ENABLE   (1u << 8) // the software enable
#define LVT_MASKED         (1u << 16)
#define LVT_NMI            (4u << 8)
#define LVT_EXTINT         (7u << 8)
#define LVT_TIMER_PERIODIC (1u << 17)
#define TIMER_DIVIDE_BY_16 0x3
#define ICR_FIXED          (0u << 8)
#define ICR_NMI            (4u << 8)
#define ICR_INIT           (5u << 8)
#define ICR_STARTUP        (6u << 8)
#define ICR_PENDING        (1u << 12) // delivery status: send pending
#define ICR_ASSERT         (1u << 14)
#define ESR_SEND_ERRORS    0x25u // send checksum, send accept, send illegal vector
#define LAPIC_INTEGRATED   0x10  // versions below: the 82489DX discrete APIC

// Maps the local APIC's registers (uncached); false if the window is full.
bool lapic_map(uint32_t phys);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
// The calling CPU's APIC id and its APIC's version.
uint8_t lapic_id(void);
uint8_t lapic_version(void);
// The boot CPU: if the firmware left its APIC software-disabled, enables
// it in virtual-wire mode (LINT0 takes the 8259's interrupts, LINT1 NMIs),
// so that it can send IPIs and the PIC still gets through.  Left alone
// otherwise.
void lapic_boot_cpu_setup(void);
// The boot CPU once the I/O APIC delivers the device interrupts: enabled
// as above, but LINT0 masked (nothing from the 8259 gets in, not even a
// spurious IRQ 7 that would take an EOI meant for another vector), and the
// task priority 0.
void lapic_boot_cpu_cut_8259(void);
// An application processor until the scheduler releases it: APIC enabled,
// every local interrupt masked, the task priority at its highest, so that
// only INIT, NMI, SMI and SIPI reach it.
void lapic_quiet(void);
// Ends the service of the interrupt the calling CPU's APIC delivered
// (fixed-delivery interrupts need it).
void lapic_eoi(void);
// Sends the fixed IPI vector, or an NMI (icr ICR_NMI, vector 0), to the
// APIC id dest and waits for the APIC to take it, without a clock (any CPU
// may send, and the PIT is not for sharing); false if it stayed pending.
bool lapic_send_fast(uint8_t dest, uint32_t icr);
static inline bool
lapic_send_fixed(uint8_t dest, uint8_t vector)
{
    return lapic_send_fast(dest, ICR_FIXED | vector);
}
// Sends the IPI icr (ICR's low word) to the APIC id dest and waits until it
// has left (delivery status idle, at most 100 ms); false if it did not, or
// the APIC reports a send error, with the reason in why.
bool lapic_send_ipi(uint8_t dest, uint32_t icr, char *why, size_t why_len);

// An application processor that runs threads: APIC enabled, task priority
// 0 (every interrupt accepted), LINT0, LINT1 and the error entry masked (the
// 8259's interrupts and NMIs go to the boot CPU).
void lapic_accept_interrupts(void);
// The timer's count (divided by 16) in one tick of 1/TICK_HZ s, measured
// against the PIT at the first call, which later calls return; 0 if the PIT
// stands still or the timer does not count.  Every CPU's timer runs from
// the same bus clock.
uint32_t lapic_timer_calibrate(void);
// Starts the calling CPU's timer: vector, every count (of the divided clock).
void lapic_timer_start(uint8_t vector, uint32_t count);
// The calling CPU's timer entry masked or not, and whether it is.
void lapic_timer_mask(bool masked);
bool lapic_timer_masked(void);
// Whether the calling CPU's APIC has vector in service (delivered, no EOI
// yet), and whether it has it requested (to be delivered).
bool lapic_in_service(unsigned vector);
bool lapic_requested(unsigned vector);
// Ends the service of every vector the calling CPU's APIC has in service.
void lapic_end_all_in_service(void);

#endif
