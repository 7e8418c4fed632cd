// The tick (line 0, include/irq.h) and the 8253/8254 programmable interval
// timer's channel 0: the tick's source at boot, and always a clock.
#include <stddef.h>
#include "config.h"
#include "irq.h"
#include "timer.h"
#include "trap.h"
#include "uapi/syscall.h"
#include "x86.h"

#define PIT_CHANNEL0  0x40
#define PIT_COMMAND   0x43
#define PIT_MODE_RATE 0x34 // channel 0, lobyte/hibyte, mode 2 (rate generator)
#define PIT_LATCH0    0x00 // channel 0, counter latch
#define PIT_INPUT_HZ  1193182

static volatile uint32_t s_ticks;
static struct timer_tick_hook *s_hooks;

void
timer_add_tick_hook(struct timer_tick_hook *hook)
{
    uint32_t flags = irq_save();
    struct timer_tick_hook **at = &s_hooks;
    while (*at)
        at = &(*at)->next;
    hook->next = NULL;
    *at = hook;
    irq_restore(flags);
}

static void
timer_irq(struct trap_frame *f)
{
    (void)f;
    s_ticks++;
    for (struct timer_tick_hook *h = s_hooks; h; h = h->next)
        h->fn();
}

#define PIT_DIVISOR (PIT_INPUT_HZ / TICK_HZ)

void
timer_init(void)
{
    uint32_t divisor = PIT_DIVISOR;
    outb(PIT_COMMAND, PIT_MODE_RATE);
    outb(PIT_CHANNEL0, divisor & 0xFF);
    outb(PIT_CHANNEL0, (divisor >> 8) & 0xFF);
    irq_register(IRQ_TIMER, timer_irq);
}

uint32_t
timer_ticks(void)
{
    return s_ticks;
}

// Channel 0's count, latched: it runs from the divisor down to 1 and
// reloads, once per tick, whether or not the interrupt gets through.
static uint16_t
pit_count(void)
{
    uint32_t flags = irq_save();
    outb(PIT_COMMAND, PIT_LATCH0);
    uint16_t lo = inb(PIT_CHANNEL0);
    uint16_t hi = inb(PIT_CHANNEL0);
    irq_restore(flags);
    return (uint16_t)(lo | hi << 8);
}

void
pit_watch_start(struct pit_watch *w)
{
    w->last = pit_count();
    w->periods = w->still = 0;
}

uint32_t
pit_watch_poll(struct pit_watch *w)
{
    uint16_t now = pit_count();
    w->periods += now > w->last; // counted down and reloaded
    w->still = now == w->last ? w->still + 1 : 0;
    w->last = now;
    return w->periods;
}

void
pit_clock_start(struct pit_clock *c)
{
    c->last = pit_count();
    c->counts = 0;
    c->still = 0;
}

// Channel 0 counts down from PIT_DIVISOR to 1 and reloads: what passed
// since the last poll is the drop, or the drop through a reload.  Polls
// further apart than one period lose whole periods, so the clock can only
// run slow: a wait on it is never shorter than asked.
uint32_t
pit_clock_us(struct pit_clock *c)
{
    uint16_t now = pit_count();
    uint32_t passed = now <= c->last ? c->last - now : c->last + (PIT_DIVISOR - now);
    c->still = passed ? 0 : c->still + 1;
    c->last = now;
    if (c->counts <= UINT32_MAX - passed)
        c->counts += passed;
    // 1194 counts a millisecond (really 1193.182: the clock runs 0.07% slow,
    // never fast), without 64-bit division: whole milliseconds, then the rest.
    return c->counts / 1194u * 1000u + c->counts % 1194u * 1000u / 1194u;
}
