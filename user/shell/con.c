// The shell's side of the console protocol (user/lib/proto.h).
#include "lib/format.h"
#include "lib/string.h"
#include "shell.h"

// A call the console dropped by dying (-EPIPE) is made again: init starts
// another console, and the call waits for it in the endpoint's queue.
#define RETRIES     3
#define RETRY_TICKS 20

// One call; returns the answer's w0 (a result or a -errno); *received
// gets the payload's length and *stamp the answer's w1, where asked.
static int
call_stamped(unsigned w0, unsigned w1, void *data, unsigned len, unsigned size, int handle,
             unsigned *received, uint32_t *stamp)
{
    for (int attempt = 0;; attempt++) {
        struct ipc_buf buf = { data, len, size, handle };
        struct ipc_words reply;
        int r = sys_ipc_call(SH_CONSOLE, w0, w1, &buf, &reply);
        if (r == 0) {
            if (buf.handle)
                sys_cap_close(buf.handle); // the console passes none back
            if (received)
                *received = buf.len;
            if (stamp)
                *stamp = reply.w1;
            return (int)reply.w0;
        }
        if (r != -EPIPE || attempt == RETRIES)
            return r;
        sys_sleep(RETRY_TICKS);
    }
}

static int
call(unsigned w0, unsigned w1, void *data, unsigned len, unsigned size, int handle,
     unsigned *received)
{
    return call_stamped(w0, w1, data, len, size, handle, received, NULL);
}

int
con_write(const char *text, unsigned n)
{
    // The call's buffer takes the (empty) answer, so each piece is a copy.
    static char piece[IPC_BUF_MAX];
    unsigned done = 0;
    while (done < n) {
        unsigned len = n - done < sizeof piece ? n - done : sizeof piece;
        memcpy(piece, text + done, len);
        int r = call(CON_WRITE, 0, piece, len, 0, 0, NULL);
        if (r <= 0)
            return r < 0 ? r : -EINVAL;
        done += (unsigned)r < len ? (unsigned)r : len;
    }
    return (int)n;
}

int
con_puts(const char *s)
{
    return con_write(s, strlen(s));
}

int
con_printf(const char *fmt, ...)
{
    char text[IPC_BUF_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return n;
    return con_write(text, (unsigned)n < sizeof text ? (unsigned)n : sizeof text - 1);
}

int
con_readline(char *line, unsigned size)
{
    if (size == 0)
        return -EINVAL;
    unsigned got = 0;
    int r = call(CON_READLINE, size - 1, line, 0, size - 1, 0, &got);
    if (r < 0)
        return r;
    unsigned len = (unsigned)r < got ? (unsigned)r : got;
    line[len] = '\0';
    return (int)len;
}

int
con_read_key(char *bytes, unsigned size, uint32_t *stamp)
{
    unsigned got = 0;
    int r = call_stamped(CON_READ_KEY, size, bytes, 0, size, 0, &got, stamp);
    return r < 0 ? r : ((unsigned)r < got ? r : (int)got);
}

int
con_write_stamped(const char *text, unsigned n, uint32_t *stamp)
{
    if (n > IPC_BUF_MAX)
        return -EMSGSIZE;
    static char piece[IPC_BUF_MAX]; // the call's buffer takes the answer
    memcpy(piece, text, n);
    return call_stamped(CON_WRITE, 0, piece, n, 0, 0, NULL, stamp);
}

bool
con_key_pressed(void)
{
    return call(CON_POLL_KEY, 0, NULL, 0, 0, 0, NULL) > 0;
}

int
con_set_foreground(int process)
{
    return call(CON_SET_FOREGROUND, 0, NULL, 0, 0, process, NULL);
}

int
con_clear(void)
{
    return call(CON_CLEAR, 0, NULL, 0, 0, 0, NULL);
}

// ---- Word lists ---------------------------------------------------------------
// A list of words (modules, processes) as lines of at most WRAP_COLUMNS,
// each indented by two spaces, one write a line.

#define WRAP_COLUMNS 78

static char s_words[WRAP_COLUMNS + 2];
static unsigned s_words_len;

void
con_word(const char *word)
{
    unsigned n = strlen(word);
    if (n > WRAP_COLUMNS - 2)
        n = WRAP_COLUMNS - 2;
    if (s_words_len && s_words_len + 1 + n > WRAP_COLUMNS)
        con_words_end();
    if (s_words_len == 0) {
        memcpy(s_words, "  ", 2);
        s_words_len = 2;
    } else {
        s_words[s_words_len++] = ' ';
    }
    memcpy(s_words + s_words_len, word, n);
    s_words_len += n;
}

void
con_words_end(void)
{
    if (s_words_len == 0)
        return;
    s_words[s_words_len++] = '\n';
    con_write(s_words, s_words_len);
    s_words_len = 0;
}
