// Host tests for the console's line discipline (user/lib/line_editor.c):
// editing, Enter in its three spellings, Ctrl-U and Ctrl-C, the history
// under Up and Down, escapes it must swallow, a line past CON_LINE_MAX, and
// a long run of random bytes after which it still reads a line.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "line_editor.h"

static struct line_editor s_ed;
static struct le_echo s_echo;

// Everything the editor echoed since the last take_echo, as a string.
static char s_shown[1 << 16];
static unsigned s_shown_len;

// The events of the last feed_str, in order.
#define EVENTS_MAX 64
static enum le_event s_events[EVENTS_MAX];
static unsigned s_n_events;

static void
reset(void)
{
    le_init(&s_ed);
    s_echo.len = 0;
    s_shown_len = 0;
    s_n_events = 0;
}

// Moves the echo into s_shown, as the console sends it on.
static void
drain_echo(void)
{
    assert_true(s_shown_len + s_echo.len < sizeof s_shown);
    memcpy(s_shown + s_shown_len, s_echo.text, s_echo.len);
    s_shown_len += s_echo.len;
    s_echo.len = 0;
}

static enum le_event
feed(unsigned char byte)
{
    if (le_echo_full(&s_echo))
        drain_echo();
    unsigned before = s_echo.len;
    enum le_event e = le_feed(&s_ed, byte, &s_echo);
    assert_true(s_echo.len - before <= LE_ECHO_PER_BYTE);
    return e;
}

// Feeds n bytes and records every event other than LE_NONE.
static void
feed_bytes(const char *s, size_t n)
{
    s_n_events = 0;
    for (size_t i = 0; i < n; i++) {
        enum le_event e = feed((unsigned char)s[i]);
        if (e != LE_NONE) {
            assert_true(s_n_events < EVENTS_MAX);
            s_events[s_n_events++] = e;
        }
    }
}

static void
feed_str(const char *s)
{
    feed_bytes(s, strlen(s));
}

// The echo since the last call, NUL-terminated (valid until the next call).
static const char *
take_echo(void)
{
    static char out[sizeof s_shown + 1];
    drain_echo();
    memcpy(out, s_shown, s_shown_len);
    out[s_shown_len] = '\0';
    s_shown_len = 0;
    return out;
}

// The last finished line must be `want`.
static void
assert_line(const char *want)
{
    unsigned len;
    const char *line = le_line(&s_ed, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(line, want, len);
}

static void
assert_one_event(enum le_event e)
{
    assert_int_equal(s_n_events, 1);
    assert_int_equal(s_events[0], e);
}

static void
test_typing_and_enter(void **state)
{
    (void)state;
    reset();
    feed_str("ls -l");
    assert_int_equal(s_n_events, 0);
    assert_string_equal(take_echo(), "ls -l");
    feed_str("\r");
    assert_one_event(LE_LINE);
    assert_line("ls -l");
    assert_string_equal(take_echo(), "\n");

    // LF alone ends a line; CR LF is one Enter; LF LF and CR CR are two.
    feed_str("a\n");
    assert_one_event(LE_LINE);
    assert_line("a");
    feed_str("b\r\n");
    assert_one_event(LE_LINE);
    assert_line("b");
    feed_str("\n\n");
    assert_int_equal(s_n_events, 2);
    assert_line("");
    feed_str("\r\r");
    assert_int_equal(s_n_events, 2);
    // A CR LF split over two feeds is still one Enter; an LF after other
    // bytes is one of its own.
    feed_str("c\r");
    assert_one_event(LE_LINE);
    feed_str("\nd\n");
    assert_one_event(LE_LINE);
    assert_line("d");
}

static void
test_backspace_and_kill_line(void **state)
{
    (void)state;
    reset();
    feed_str("abc\x7f\x08x");
    assert_string_equal(take_echo(), "abc\b \b\b \bx");
    feed_str("\x7f\x7f\x7f"); // one more than there is: two erased
    assert_string_equal(take_echo(), "\b \b\b \b");
    feed_str("\r");
    assert_line("");
    assert_string_equal(take_echo(), "\n");

    feed_str("hello\x15");
    assert_string_equal(take_echo(), "hello\b\b\b\b\b\x1b[K");
    feed_str("bye\r");
    assert_line("bye");
}

static void
test_ctrl_c(void **state)
{
    (void)state;
    reset();
    feed_str("rm everything\x03");
    assert_one_event(LE_CANCEL);
    assert_string_equal(take_echo(), "rm everything^C\n");
    feed_str("ok\r");
    assert_one_event(LE_LINE);
    assert_line("ok");
    feed_str("\x03"); // on an empty line too
    assert_one_event(LE_CANCEL);
}

static void
test_history(void **state)
{
    (void)state;
    reset();
    feed_str("one\rtwo\rtwo\rthree\r\r"); // the repeat and the empty line are not kept
    feed_str("dra");
    take_echo();
    feed_str("\x1b[A");
    assert_int_equal(s_n_events, 0);
    assert_string_equal(take_echo(), "\b\b\bthree\x1b[K");
    feed_str("\x1b[A");
    assert_string_equal(take_echo(), "\b\b\b\b\btwo\x1b[K");
    feed_str("\x1bOA"); // the application-mode spelling
    assert_string_equal(take_echo(), "\b\b\bone\x1b[K");
    feed_str("\x1b[A"); // past the oldest: nothing changes
    assert_string_equal(take_echo(), "");
    feed_str("\x1b[B\x1b[B\x1b[B"); // back down to the draft
    assert_string_equal(take_echo(), "\b\b\btwo\x1b[K\b\b\bthree\x1b[K\b\b\b\b\bdra\x1b[K");
    feed_str("\x1b[B"); // below the draft: nothing
    assert_string_equal(take_echo(), "");
    feed_str("\x1b[A\x1b[A!\r"); // a recalled line can be edited
    assert_line("two!");
    feed_str("\x1b[A\r");
    assert_line("two!");
}

static void
test_history_keeps_the_newest(void **state)
{
    (void)state;
    reset();
    char buf[16];
    for (int i = 0; i < LE_HISTORY + 5; i++) {
        snprintf(buf, sizeof buf, "cmd%d\r", i);
        feed_str(buf);
    }
    for (int i = 0; i < LE_HISTORY + 3; i++)
        feed_str("\x1b[A");
    feed_str("\r");
    snprintf(buf, sizeof buf, "cmd%d", 5); // the oldest still held
    assert_line(buf);
}

static void
test_other_escapes_are_ignored(void **state)
{
    (void)state;
    reset();
    feed_str("x");
    feed_str("\x1b[C\x1b[D\x1b[3~\x1b[1;5A\x1b[200~\x1bOP\x1bx\x1b\x1b[Z");
    assert_int_equal(s_n_events, 0);
    feed_str("y\r");
    assert_line("xy");
    assert_string_equal(take_echo(), "xy\n");

    // A control byte inside an escape ends it and counts as itself.
    feed_str("ab\x1b[12\r");
    assert_one_event(LE_LINE);
    assert_line("ab");
    feed_str("cd\x1b\x7f\x1b[\x03");
    assert_one_event(LE_CANCEL);
    feed_str("\x1b\x1b[Bz\r"); // ESC ESC [ B: the second one starts it
    assert_line("z");

    // Other control bytes and non-ASCII bytes are dropped.
    feed_str("\x01\x02q\x04\x07\t\x80\xff\x9b\x1a\r");
    assert_line("q");
    // A CSI sequence however long is swallowed to its final byte.
    feed_str("\x1b[");
    for (int i = 0; i < 3 * LE_ESCAPE_MAX; i++)
        feed_str("1;");
    feed_str("Ak\r");
    assert_line("k");
}

// Exactly CON_LINE_MAX characters are a line; one more and the whole line
// is refused at Enter, once, and the next line is read as usual.
static void
test_long_line(void **state)
{
    (void)state;
    reset();
    char full[CON_LINE_MAX + 2];
    memset(full, 'a', CON_LINE_MAX);
    full[CON_LINE_MAX] = '\r';
    feed_bytes(full, CON_LINE_MAX + 1);
    assert_one_event(LE_LINE);
    unsigned len;
    le_line(&s_ed, &len);
    assert_int_equal(len, CON_LINE_MAX);
    take_echo();

    memset(full, 'b', CON_LINE_MAX + 1);
    full[CON_LINE_MAX + 1] = '\r';
    feed_bytes(full, CON_LINE_MAX + 2);
    assert_one_event(LE_TOO_LONG);
    const char *shown = take_echo();
    assert_int_equal(strlen(shown), CON_LINE_MAX + 1); // what fitted, and the newline
    feed_str("ok\r");
    assert_one_event(LE_LINE);
    assert_line("ok");

    // Far past the end, with history keys and escapes in it: one refusal.
    for (int i = 0; i < 10; i++)
        feed_bytes(full, CON_LINE_MAX + 1);
    feed_str("\x1b[D\r");
    assert_one_event(LE_TOO_LONG);

    // Erasing the unseen tail makes the line fit again.
    feed_bytes(full, CON_LINE_MAX + 1);
    feed_str("zz\x7f\x7f\x7f\r");
    assert_one_event(LE_LINE);
    le_line(&s_ed, &len);
    assert_int_equal(len, CON_LINE_MAX);

    // Ctrl-U and Ctrl-C forget the overflow too.
    feed_bytes(full, CON_LINE_MAX + 1);
    feed_str("\x15ok\r");
    assert_line("ok");
    feed_bytes(full, CON_LINE_MAX + 1);
    feed_str("\x03ok2\r");
    assert_int_equal(s_n_events, 2);
    assert_int_equal(s_events[0], LE_CANCEL);
    assert_line("ok2");
}

// A small generator, so a failure can be replayed.
static uint32_t
next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

// Whether the echo holds only what the editor may show: printable text,
// backspaces, newlines and its one escape.
static void
assert_echo_clean(const char *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b) {
            assert_true(i + 2 < n && s[i + 1] == '[' && s[i + 2] == 'K');
            i += 2;
            continue;
        }
        assert_true((c >= 0x20 && c < 0x7f) || c == '\b' || c == '\n');
    }
}

// Random bytes, biased towards the ones that mean something, a million of
// them: every line is printable and fits, the echo is clean, and after a
// Ctrl-C (which ends any escape) a plain line comes through.
static void
test_garbage(void **state)
{
    (void)state;
    static const unsigned char special[] = { 0x03, 0x08, 0x0a, 0x0d, 0x15, 0x1b, 0x7f,
                                             '[',  'O',  'A',  'B',  '1',  ';' };
    uint32_t seed = 0x5eed;
    reset();
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 10000; i++) {
            uint32_t r = next_random(&seed);
            unsigned char byte =
                (r & 3) == 0 ? special[(r >> 2) % sizeof special] : (unsigned char)(r >> 4);
            enum le_event e = feed(byte);
            if (e == LE_LINE) {
                unsigned len;
                const char *line = le_line(&s_ed, &len);
                assert_true(len <= CON_LINE_MAX);
                for (unsigned k = 0; k < len; k++)
                    assert_true(line[k] >= 0x20 && line[k] < 0x7f);
            }
            assert_true(s_ed.line.len <= CON_LINE_MAX);
        }
        drain_echo();
        assert_echo_clean(s_shown, s_shown_len);
        s_shown_len = 0;
        feed_str("\x03still here\r");
        assert_int_equal(s_n_events, 2);
        assert_line("still here");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing_and_enter),
        cmocka_unit_test(test_backspace_and_kill_line),
        cmocka_unit_test(test_ctrl_c),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_history_keeps_the_newest),
        cmocka_unit_test(test_other_escapes_are_ignored),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
