/* The kernel log: a ring of LOG_RING_SIZE bytes (include/uapi/syscall.h)
 * that everything the console prints also goes to, so a user-space console
 * can show it once it has taken the devices (console_release_devices).
 * Writing never blocks and never fails: old text is overwritten, and
 * counted. */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stddef.h>
#include <stdint.h>

void log_write(const char *s, size_t len);
// Copies at most n bytes from position *pos (a count of every byte ever
// logged) into dst and moves *pos past them; text the ring no longer
// holds is skipped, and its length added to *lost.  Returns the bytes copied.
uint32_t log_read(uint32_t *pos, char *dst, uint32_t n, uint32_t *lost);
// Bytes logged since boot, and bytes overwritten before anyone could have
// read them all (the ring's size behind the head).
uint32_t log_head(void);
uint32_t log_overwritten(void);
// Whether anything was logged since the last call (the tick uses it to
// notify the log's reader at most once a tick).
bool log_take_news(void);

#endif
