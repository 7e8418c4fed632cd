/* The console's line discipline: turns the bytes a terminal or keyboard
 * sends into finished lines and the text to echo back.  No system calls,
 * so the host tests drive it directly (tests/host/line_editor_test.c).
 *
 * Printable ASCII is appended and echoed; backspace (0x7F or 0x08) erases
 * one character ("\b \b"); Ctrl-U erases the line; Ctrl-C drops it and
 * says so (the console then kills the foreground process); CR or LF ends
 * it, a CR LF pair counting once; Up and Down (ESC [ A / B, or ESC O A / B)
 * walk the last LE_HISTORY lines.  Every other escape sequence and control
 * character is swallowed.  A line longer than CON_LINE_MAX is refused
 * whole at its Enter: LE_TOO_LONG, and the editor starts afresh. */
#ifndef TANDEM_USER_LINE_EDITOR_H
#define TANDEM_USER_LINE_EDITOR_H

#include <stdbool.h>

#include "proto.h"

#define LE_HISTORY       16
// The most one byte makes the editor echo: a history redraw erases the old
// line and writes the new one.
#define LE_ECHO_PER_BYTE (2 * CON_LINE_MAX + 8)
#define LE_ECHO_CAP      (2 * LE_ECHO_PER_BYTE)
// Parameter bytes of a CSI sequence counted (more are swallowed all the same).
#define LE_ESCAPE_MAX    16

enum le_event {
    LE_NONE,     // nothing finished
    LE_LINE,     // a line is finished: le_line() has it
    LE_CANCEL,   // Ctrl-C: the line was dropped
    LE_TOO_LONG, // Enter ended a line past CON_LINE_MAX: dropped
};

// Text to echo, gathered over several bytes; the caller sends it and
// empties it (len = 0) once le_echo_full says so, or when it likes.
struct le_echo {
    char text[LE_ECHO_CAP];
    unsigned len;
};

enum le_escape {
    LE_ESC_NONE,
    LE_ESC_START, // ESC seen
    LE_ESC_CSI,   // ESC [ seen: parameters until a final byte
    LE_ESC_SS3,   // ESC O seen: one more byte
};

struct le_text {
    char text[CON_LINE_MAX];
    unsigned len;
};

struct line_editor {
    struct le_text line; // what is being typed (and shown)
    unsigned overflow;   // characters typed past CON_LINE_MAX, neither kept nor shown
    bool after_cr;       // the last byte was CR: an LF now is the same Enter
    enum le_escape esc;
    unsigned esc_len;                   // parameter bytes of the CSI sequence so far
    struct le_text done;                // the last finished line
    struct le_text history[LE_HISTORY]; // a ring; history_newest is the last line
    unsigned history_count;
    unsigned history_newest;
    unsigned browse;      // 0: a new line; k: the k-th newest history line is shown
    struct le_text draft; // the new line, kept while the history is shown
};

void le_init(struct line_editor *ed);

// Takes one input byte: appends to *echo what to show for it (at most
// LE_ECHO_PER_BYTE; the caller makes room first) and returns what it finished.
enum le_event le_feed(struct line_editor *ed, unsigned char byte, struct le_echo *echo);

// The line the last LE_LINE finished, without its newline (not NUL-terminated);
// valid until the next le_feed.
const char *le_line(const struct line_editor *ed, unsigned *len);

// Whether *echo lacks room for one more byte's echo.
static inline bool
le_echo_full(const struct le_echo *echo)
{
    return echo->len > LE_ECHO_CAP - LE_ECHO_PER_BYTE;
}

#endif
