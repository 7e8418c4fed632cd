// The kernel log ring (include/log.h).  Interrupts are off while it moves,
// so an interrupt handler's line cannot split another.
#include <stdbool.h>
#include "log.h"
#include "uapi/syscall.h"
#include "x86.h"

static char s_ring[LOG_RING_SIZE];
static uint32_t s_head; // bytes ever written; the next goes to s_head % size
static bool s_news;

void
log_write(const char *s, size_t len)
{
    uint32_t flags = irq_save();
    for (size_t i = 0; i < len; i++)
        s_ring[(s_head + i) % LOG_RING_SIZE] = s[i];
    s_head += (uint32_t)len;
    s_news = len > 0;
    irq_restore(flags);
}

uint32_t
log_read(uint32_t *pos, char *dst, uint32_t n, uint32_t *lost)
{
    uint32_t flags = irq_save();
    uint32_t oldest = s_head > LOG_RING_SIZE ? s_head - LOG_RING_SIZE : 0;
    // Positions are compared as distances behind the head, so a count
    // that wraps after 4 GiB of text still works.
    uint32_t behind = s_head - *pos;
    if (behind > s_head - oldest) {
        *lost += behind - (s_head - oldest);
        *pos = oldest;
        behind = s_head - oldest;
    }
    uint32_t copied = behind < n ? behind : n;
    for (uint32_t i = 0; i < copied; i++)
        dst[i] = s_ring[(*pos + i) % LOG_RING_SIZE];
    *pos += copied;
    irq_restore(flags);
    return copied;
}

uint32_t
log_head(void)
{
    return s_head;
}

uint32_t
log_overwritten(void)
{
    return s_head > LOG_RING_SIZE ? s_head - LOG_RING_SIZE : 0;
}

bool
log_take_news(void)
{
    uint32_t flags = irq_save();
    bool news = s_news;
    s_news = false;
    irq_restore(flags);
    return news;
}
