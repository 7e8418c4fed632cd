// The kernel log ring: reading from a position, catching up after the ring
// wrapped, and what the console sends there.
#include "console.h"
#include "kprintf.h"
#include "ktest.h"
#include "lib/string.h"
#include "log.h"
#include "uapi/syscall.h"
#include "x86.h"

KTEST(log, reads_what_was_written_from_a_position)
{
    uint32_t pos = log_head(), lost = 0;
    log_write("hello, log\n", 11);
    char buf[32];
    KEXPECT_UEQ(log_read(&pos, buf, sizeof(buf), &lost), 11);
    KEXPECT_MEMEQ(buf, "hello, log\n", 11);
    KEXPECT_UEQ(pos, log_head());
    KEXPECT_UEQ(lost, 0);
    KEXPECT_UEQ(log_read(&pos, buf, sizeof(buf), &lost), 0); // nothing new
}

KTEST(log, a_short_buffer_reads_in_pieces)
{
    uint32_t pos = log_head(), lost = 0;
    log_write("abcdef", 6);
    char buf[4];
    KEXPECT_UEQ(log_read(&pos, buf, 4, &lost), 4);
    KEXPECT_MEMEQ(buf, "abcd", 4);
    KEXPECT_UEQ(log_read(&pos, buf, 4, &lost), 2);
    KEXPECT_MEMEQ(buf, "ef", 2);
}

KTEST(log, a_reader_left_behind_skips_to_the_oldest_text_and_counts_the_rest)
{
    uint32_t pos = log_head(), lost = 0;
    char filler[256];
    memset(filler, '.', sizeof(filler));
    for (uint32_t i = 0; i < LOG_RING_SIZE / sizeof(filler) + 1; i++)
        log_write(filler, sizeof(filler));
    log_write("newest", 6);
    KEXPECT_UEQ(log_overwritten(), log_head() - LOG_RING_SIZE);
    char buf[8];
    KEXPECT_UEQ(log_read(&pos, buf, 1, &lost), 1);
    KEXPECT_UEQ(lost, sizeof(filler) + 6); // wrote ring + 256 + 6 bytes past pos
    KEXPECT_UEQ(pos, log_head() - LOG_RING_SIZE + 1);
    pos = log_head() - 6;
    KEXPECT_UEQ(log_read(&pos, buf, sizeof(buf), &lost), 6);
    KEXPECT_MEMEQ(buf, "newest", 6);
}

KTEST(log, the_console_writes_to_the_log_even_with_its_devices_released)
{
    uint32_t pos = log_head(), lost = 0;
    console_release_devices(true);
    kprintf("quiet line\n");
    console_release_devices(false);
    char buf[16];
    KEXPECT_UEQ(log_read(&pos, buf, sizeof(buf), &lost), 11);
    KEXPECT_MEMEQ(buf, "quiet line\n", 11);
}

KTEST(log, news_is_reported_once)
{
    // Interrupts off: the timer's tick takes the news too (the log's
    // notification), and must not take it between these lines.
    uint32_t flags = irq_save();
    log_take_news();
    bool none = !log_take_news();
    log_write("x", 1);
    bool news = log_take_news(), again = log_take_news();
    irq_restore(flags);
    KEXPECT_TRUE(none);
    KEXPECT_TRUE(news);
    KEXPECT_FALSE(again);
}
