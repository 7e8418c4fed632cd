/* The CMOS RTC's periodic interrupt (IRQ 8): a real asynchronous device
 * interrupt the kernel suites raise on demand (kfast_test.c, irq_test.c).
 * The RTC holds its line up until register C is read: a handler must read
 * it, or no interrupt follows. */
#ifndef TANDEM_TESTS_RTC_H
#define TANDEM_TESTS_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_NO_NMI 0x80
#define RTC_REG_A  0x0A
#define RTC_REG_B  0x0B
#define RTC_REG_C  0x0C
#define RTC_PIE    0x40
#define RTC_1024HZ 6 // register A's rate field
#define IRQ_RTC    8

static inline uint8_t
cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, RTC_NO_NMI | reg);
    return inb(CMOS_DATA);
}

static inline void
cmos_write(uint8_t reg, uint8_t v)
{
    outb(CMOS_INDEX, RTC_NO_NMI | reg);
    outb(CMOS_DATA, v);
}

// The periodic interrupt at 1024 Hz on or off.  What is pending stays so
// until register C is read.
static inline void
rtc_periodic_enable(bool on)
{
    if (on)
        cmos_write(RTC_REG_A, (cmos_read(RTC_REG_A) & 0xF0) | RTC_1024HZ);
    cmos_write(RTC_REG_B, on ? cmos_read(RTC_REG_B) | RTC_PIE : cmos_read(RTC_REG_B) & ~RTC_PIE);
}

#endif
