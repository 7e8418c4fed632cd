// The console's line discipline (see line_editor.h).
#include "line_editor.h"
#include "lib/string.h"

#define CTRL_C       0x03
#define BACKSPACE    0x08
#define LF           0x0A
#define CR           0x0D
#define CTRL_U       0x15
#define ESC          0x1B
#define DEL          0x7F
#define ERASE_TO_EOL "\x1b[K"

static void
echo_put(struct le_echo *echo, const char *s, unsigned n)
{
    // The caller made room for LE_ECHO_PER_BYTE; nothing here makes more.
    if (n > LE_ECHO_CAP - echo->len)
        n = LE_ECHO_CAP - echo->len;
    memcpy(echo->text + echo->len, s, n);
    echo->len += n;
}

static void
echo_repeat(struct le_echo *echo, char c, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        echo_put(echo, &c, 1);
}

void
le_init(struct line_editor *ed)
{
    memset(ed, 0, sizeof(*ed));
}

const char *
le_line(const struct line_editor *ed, unsigned *len)
{
    *len = ed->done.len;
    return ed->done.text;
}

// Forgets the line being typed (not the history).
static void
line_reset(struct line_editor *ed)
{
    ed->line.len = 0;
    ed->overflow = 0;
    ed->browse = 0;
}

// Shows text in place of the line on screen: back to its start, the new
// text, then the old one's tail erased.
static void
line_replace(struct line_editor *ed, const struct le_text *text, struct le_echo *echo)
{
    echo_repeat(echo, '\b', ed->line.len);
    echo_put(echo, text->text, text->len);
    echo_put(echo, ERASE_TO_EOL, sizeof(ERASE_TO_EOL) - 1);
    ed->line = *text;
    ed->overflow = 0;
}

// The k-th newest history line (1: the newest).
static const struct le_text *
history_at(const struct line_editor *ed, unsigned k)
{
    return &ed->history[(ed->history_newest + LE_HISTORY - (k - 1)) % LE_HISTORY];
}

// Remembers a finished line, unless it is empty or repeats the newest.
static void
history_add(struct line_editor *ed, const struct le_text *text)
{
    if (text->len == 0)
        return;
    if (ed->history_count > 0) {
        const struct le_text *newest = history_at(ed, 1);
        if (newest->len == text->len && memcmp(newest->text, text->text, text->len) == 0)
            return;
    }
    ed->history_newest = (ed->history_newest + 1) % LE_HISTORY;
    ed->history[ed->history_newest] = *text;
    if (ed->history_count < LE_HISTORY)
        ed->history_count++;
}

static void
history_older(struct line_editor *ed, struct le_echo *echo)
{
    if (ed->browse == ed->history_count)
        return;
    if (ed->browse == 0)
        ed->draft = ed->line;
    ed->browse++;
    line_replace(ed, history_at(ed, ed->browse), echo);
}

static void
history_newer(struct line_editor *ed, struct le_echo *echo)
{
    if (ed->browse == 0)
        return;
    ed->browse--;
    line_replace(ed, ed->browse ? history_at(ed, ed->browse) : &ed->draft, echo);
}

static enum le_event
enter(struct line_editor *ed, struct le_echo *echo)
{
    echo_put(echo, "\n", 1);
    enum le_event event = ed->overflow ? LE_TOO_LONG : LE_LINE;
    if (event == LE_LINE) {
        ed->done = ed->line;
        history_add(ed, &ed->line);
    }
    line_reset(ed);
    return event;
}

static void
erase_one(struct line_editor *ed, struct le_echo *echo)
{
    if (ed->overflow) { // the unseen tail goes first
        ed->overflow--;
        return;
    }
    if (ed->line.len == 0)
        return;
    ed->line.len--;
    echo_put(echo, "\b \b", 3);
}

static void
append(struct line_editor *ed, char c, struct le_echo *echo)
{
    if (ed->line.len == CON_LINE_MAX || ed->overflow) {
        if (ed->overflow < ~0u)
            ed->overflow++;
        return;
    }
    ed->line.text[ed->line.len++] = c;
    echo_put(echo, &c, 1);
}

// A byte inside an escape sequence.  Returns false if it ended the
// sequence without belonging to it: the caller then takes it as input.
static bool
escape_byte(struct line_editor *ed, unsigned char byte, struct le_echo *echo)
{
    bool final = byte >= 0x40 && byte <= 0x7E;
    switch (ed->esc) {
    case LE_ESC_START:
        if (byte == '[' || byte == 'O') {
            ed->esc = byte == '[' ? LE_ESC_CSI : LE_ESC_SS3;
            ed->esc_len = 0;
            return true;
        }
        ed->esc = LE_ESC_NONE;
        return byte >= 0x20; // Alt-x and such: dropped; a control byte counts
    case LE_ESC_CSI:
        if (byte >= 0x20 && byte <= 0x3F) {  // parameters and intermediates
            if (ed->esc_len < LE_ESCAPE_MAX) // counted only to tell a bare A or B
                ed->esc_len++;
            return true;
        }
        break;
    case LE_ESC_SS3:
    case LE_ESC_NONE: break;
    }
    bool plain = ed->esc == LE_ESC_SS3 || ed->esc_len == 0;
    ed->esc = LE_ESC_NONE;
    if (!final)
        return false;
    if (plain && byte == 'A')
        history_older(ed, echo);
    else if (plain && byte == 'B')
        history_newer(ed, echo);
    return true;
}

enum le_event
le_feed(struct line_editor *ed, unsigned char byte, struct le_echo *echo)
{
    bool after_cr = ed->after_cr;
    ed->after_cr = byte == CR;
    if (ed->esc != LE_ESC_NONE && escape_byte(ed, byte, echo))
        return LE_NONE;
    switch (byte) {
    case CR: return enter(ed, echo);
    case LF: return after_cr ? LE_NONE : enter(ed, echo);
    case CTRL_C:
        echo_put(echo, "^C\n", 3);
        line_reset(ed);
        return LE_CANCEL;
    case CTRL_U:
        echo_repeat(echo, '\b', ed->line.len);
        echo_put(echo, ERASE_TO_EOL, sizeof(ERASE_TO_EOL) - 1);
        ed->line.len = 0;
        ed->overflow = 0;
        return LE_NONE;
    case BACKSPACE:
    case DEL: erase_one(ed, echo); return LE_NONE;
    case ESC: ed->esc = LE_ESC_START; return LE_NONE;
    default:
        if (byte >= 0x20 && byte < 0x7F)
            append(ed, (char)byte, echo);
        return LE_NONE; // other control bytes and non-ASCII: ignored
    }
}
