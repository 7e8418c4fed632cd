// The console server (protocol: user/lib/proto.h).  It takes the console
// from the kernel and shows the kernel log's new text on the serial line
// and the screen; it reads both input drivers through one helper thread
// each, runs the line discipline (user/lib/line_editor.c) on what they
// send, echoes it to both outputs, and serves its clients' calls.
//
// Its handles, in the order init passes them: 1 the kernel log, 2 drv_uart,
// 3 drv_kbd, 4 drv_vga (send), 5 its own endpoint (send and receive).
//
// One thread serves everything, so nothing here needs a lock.  A driver
// that dies is restarted by init on the same endpoint: a call it dropped
// fails with -EPIPE (an input helper retries it; output is lost), the next
// one waits in the endpoint's queue for the new driver.
#include "device.h"
#include "lib/string.h"
#include "line_editor.h"
#include "proto.h"
#include "tandem.h"

#define LOG      1
#define UART     2
#define KBD      3
#define VGA      4
#define ENDPOINT 5

// Badges of the console's own senders; a client's badge (init gives the
// shell one) is below them.
#define BADGE_LOG     0x40000001u
#define BADGE_UART_IN 0x40000002u
#define BADGE_KBD_IN  0x40000004u
// "INPT": an input helper's bytes (w1 = the driver's stamp of their arrival).
#define CON_INPUT     0x494E5054u

#define INPUT_CHUNK 64 // bytes one DEV_READ asks for
_Static_assert(INPUT_CHUNK <= IPC_BUF_MAX, "one read fits one message");
#define RETRY_TICKS  20 // before a failed DEV_READ is tried again
#define HELPER_STACK 4096
#define LINES_QUEUED 4 // lines typed ahead of any CON_READLINE
#define CLEAR_SERIAL "\x1b[2J\x1b[H"
#define ERASE_LINE   "\x1b[K"
#define PROMPT_MAX   80 // the most of a line's start redrawn

// An input driver and the helper thread that reads it.
struct input {
    const char *name;
    int driver;  // send handle to the driver
    int forward; // this console's endpoint, badged for this input
    unsigned badge;
};

// A finished line waiting for a reader: its length, or -EMSGSIZE (too long).
struct queued_line {
    int result;
    char text[CON_LINE_MAX];
};

static struct input s_inputs[] = {
    { "drv_uart", UART, 0, BADGE_UART_IN },
    { "drv_kbd", KBD, 0, BADGE_KBD_IN },
};
static uint8_t s_stacks[ARRAY_SIZE(s_inputs)][HELPER_STACK] ALIGNED(16);

static struct line_editor s_editor;
static struct le_echo s_echo;
static struct log_read s_log_cursor;

static int s_reader;          // the reply handle of the CON_READLINE waiting (0: none)
static unsigned s_reader_max; // the longest line it takes
static struct queued_line s_queue[LINES_QUEUED];
static unsigned s_queue_head, s_queue_count;
static int s_key_reader;          // the reply handle of the CON_READ_KEY waiting (0: none)
static unsigned s_key_max;        // the most bytes it takes
static bool s_key_pressed;        // input since the last CON_POLL_KEY or CON_READLINE
static bool s_polling;            // the client polls for a key: the next input is not a line
static int s_foreground;          // the process Ctrl-C kills (0: none)
static char s_prompt[PROMPT_MAX]; // what output left on the current line
static unsigned s_prompt_len;

// ---- Output -----------------------------------------------------------------

// Sends text to one output driver, in messages of at most IPC_BUF_MAX
// bytes; what a driver does not take (it died, or refuses) is dropped.
// Returns the driver's stamp of when the first byte went (proto.h), or 0.
static uint32_t
dev_write(int driver, const char *text, unsigned n)
{
    static char chunk[IPC_BUF_MAX];
    uint32_t stamp = 0;
    while (n > 0) {
        unsigned len = n < sizeof chunk ? n : sizeof chunk;
        memcpy(chunk, text, len);
        struct ipc_buf buf = { chunk, len, 0, 0 };
        struct ipc_words reply;
        if (sys_ipc_call(driver, DEV_WRITE, 0, &buf, &reply) < 0 || (int)reply.w0 <= 0)
            return stamp;
        if (!stamp)
            stamp = reply.w1;
        unsigned taken = reply.w0 < len ? reply.w0 : len;
        text += taken;
        n -= taken;
    }
    return stamp;
}

// Shows text on both outputs; returns the serial driver's stamp (dev_write).
static uint32_t
show(const char *text, unsigned n)
{
    uint32_t stamp = dev_write(UART, text, n);
    dev_write(VGA, text, n);
    return stamp;
}

static void
show_str(const char *s)
{
    show(s, strlen(s));
}

// Remembers what output leaves on the current line (the prompt, as a
// rule), so that a line being typed can be drawn again under log text.
static void
note_output(const char *text, unsigned n)
{
    unsigned start = n;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    if (start > 0)
        s_prompt_len = 0;
    for (unsigned i = start; i < n && s_prompt_len < sizeof s_prompt; i++)
        s_prompt[s_prompt_len++] = text[i];
}

// Shows the log's text since the last call: what the kernel and every
// debug_write printed.  If someone is typing a line, the log goes above
// it: the line is erased, then drawn again (its prompt first) below.
static void
show_log(void)
{
    static char text[IPC_BUF_MAX];
    bool typing = s_reader && !s_polling, shown = false;
    char last = '\n';
    for (;;) {
        unsigned lost = s_log_cursor.lost;
        int n = sys_log_read(LOG, &s_log_cursor, text, sizeof text);
        if (n > 0 && !shown && typing)
            show_str("\r" ERASE_LINE);
        if (s_log_cursor.lost != lost)
            show_str("\n[console: log text overwritten before it could be shown]\n");
        if (n <= 0)
            break;
        show(text, (unsigned)n);
        shown = true;
        last = text[n - 1];
    }
    if (!shown || !typing)
        return;
    if (last != '\n')
        show_str("\n");
    show(s_prompt, s_prompt_len);
    show(s_editor.line.text, s_editor.line.len);
}

static void
flush_echo(void)
{
    if (s_echo.len)
        show(s_echo.text, s_echo.len);
    s_echo.len = 0;
}

// ---- Lines and readers ------------------------------------------------------

static void
answer(int reply, int w0, uint32_t stamp, const char *text, unsigned len)
{
    struct ipc_buf buf = { (void *)text, len, 0, 0 };
    if (sys_ipc_reply(reply, (unsigned)w0, stamp, &buf) < 0)
        sys_cap_close(reply); // its caller gets -EPIPE; the console goes on
}

// Gives the waiting reader a line (result: its length or a -errno).
static void
answer_reader(int result, const char *text)
{
    int reply = s_reader;
    s_reader = 0;
    if (result >= 0 && (unsigned)result > s_reader_max)
        result = -EMSGSIZE;
    answer(reply, result, 0, text, result > 0 ? (unsigned)result : 0);
}

// A line finished (or refused): to the reader, or queued for the next.
static void
line_done(int result, const char *text)
{
    if (s_reader) {
        answer_reader(result, text);
        return;
    }
    if (s_queue_count == LINES_QUEUED) {
        show_str("[console: too many lines typed ahead; one dropped]\n");
        return;
    }
    struct queued_line *q = &s_queue[(s_queue_head + s_queue_count++) % LINES_QUEUED];
    q->result = result;
    if (result > 0)
        memcpy(q->text, text, (unsigned)result);
}

// Ctrl-C: the foreground process ends, the reader hears -EINTR, typed-ahead
// lines are dropped.
static void
cancel(void)
{
    if (s_foreground) {
        sys_kill(s_foreground);
        sys_cap_close(s_foreground);
        s_foreground = 0;
    }
    s_queue_count = 0;
    if (s_reader)
        answer_reader(-EINTR, NULL);
}

// Bytes from an input driver, which reached it at `stamp`.
static void
take_input(const uint8_t *bytes, unsigned n, uint32_t stamp)
{
    if (n == 0)
        return;
    if (s_key_reader) {
        // Raw: the reader takes them as they came, unechoed; what it has
        // no room for goes on to the line editor, typed ahead.
        unsigned k = n < s_key_max ? n : s_key_max;
        answer(s_key_reader, (int)k, stamp, (const char *)bytes, k);
        s_key_reader = 0;
        bytes += k;
        if ((n -= k) == 0)
            return;
    }
    s_key_pressed = true;
    if (s_polling && !s_reader) {
        // The key a poller waits for: not part of any line.  What comes
        // after it is typed ahead, for the next line.
        s_polling = false;
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        if (le_echo_full(&s_echo))
            flush_echo();
        enum le_event e = le_feed(&s_editor, bytes[i], &s_echo);
        if (e != LE_NONE)
            s_prompt_len = 0; // the editor echoed a newline
        if (e == LE_LINE) {
            unsigned len;
            const char *line = le_line(&s_editor, &len);
            flush_echo(); // the newline before whatever answers the line
            line_done((int)len, line);
        } else if (e == LE_TOO_LONG) {
            flush_echo();
            line_done(-EMSGSIZE, NULL);
        } else if (e == LE_CANCEL) {
            flush_echo();
            cancel();
        }
    }
    flush_echo();
}

// ---- Client calls -----------------------------------------------------------

static void
read_line(int reply, unsigned max)
{
    s_polling = false;
    s_key_pressed = false;
    if (s_reader) // one reader at a time: the newest one
        answer(s_reader, -EBUSY, 0, NULL, 0);
    s_reader = reply;
    s_reader_max = max < CON_LINE_MAX ? max : CON_LINE_MAX;
    if (s_queue_count) {
        struct queued_line *q = &s_queue[s_queue_head];
        s_queue_head = (s_queue_head + 1) % LINES_QUEUED;
        s_queue_count--;
        answer_reader(q->result, q->text);
    }
}

// CON_READ_KEY: the next input goes to this reply raw (take_input).
static void
read_key(int reply, unsigned max)
{
    if (s_key_reader) // one at a time: the newest one
        answer(s_key_reader, -EBUSY, 0, NULL, 0);
    s_key_reader = 0;
    if (max == 0) {
        answer(reply, -EINVAL, 0, NULL, 0);
        return;
    }
    s_key_reader = reply;
    s_key_max = max < IPC_BUF_MAX ? max : IPC_BUF_MAX;
}

// CON_SET_FOREGROUND: returns 0 or a -errno.
static int
set_foreground(int process)
{
    if (s_foreground)
        sys_cap_close(s_foreground);
    s_foreground = 0;
    if (process == 0)
        return 0;
    struct cap_info info;
    if (sys_cap_info(process, &info) != 0 || info.type != CAP_TYPE_PROCESS) {
        sys_cap_close(process);
        return -EINVAL;
    }
    if (!(info.rights & CAP_KILL)) {
        sys_cap_close(process);
        return -EPERM;
    }
    s_foreground = process;
    return 0;
}

static int
clear_screens(void)
{
    struct ipc_words reply;
    dev_write(UART, CLEAR_SERIAL, sizeof(CLEAR_SERIAL) - 1);
    int r = sys_ipc_call(VGA, VGA_CLEAR, 0, NULL, &reply);
    return r < 0 ? r : 0;
}

// Serves one client call; the reply is sent here, or kept (CON_READLINE).
static void
serve(const struct ipc_words *msg, const struct ipc_buf *buf, const char *data)
{
    int handle = buf->handle;
    int result;
    uint32_t stamp = 0;
    switch (msg->w0) {
    case CON_WRITE:
        show_log(); // what a program printed before it ended goes first
        stamp = show(data, buf->len);
        note_output(data, buf->len);
        result = (int)buf->len;
        break;
    case CON_READLINE:
    case CON_READ_KEY:
        if (handle)
            sys_cap_close(handle);
        if (msg->w0 == CON_READLINE)
            read_line(msg->reply, msg->w1);
        else
            read_key(msg->reply, msg->w1);
        return;
    case CON_POLL_KEY:
        s_polling = true;
        result = s_key_pressed;
        s_key_pressed = false;
        break;
    case CON_SET_FOREGROUND:
        result = set_foreground(handle);
        handle = 0; // kept or closed there
        break;
    case CON_CLEAR: result = clear_screens(); break;
    default: result = -ENOSYS; break;
    }
    if (handle)
        sys_cap_close(handle);
    answer(msg->reply, result, stamp, NULL, 0);
}

// ---- Start ------------------------------------------------------------------

// An input helper: reads its driver for ever and hands the bytes on.
// Ends only if its handle to the driver is gone.
static int
input_main(void *arg)
{
    struct input *in = arg;
    for (;;) {
        uint8_t bytes[INPUT_CHUNK];
        struct ipc_buf buf = { bytes, 0, sizeof bytes, 0 };
        struct ipc_words reply;
        int r = sys_ipc_call(in->driver, DEV_READ, sizeof bytes, &buf, &reply);
        if (r == -EBADF) {
            printf("console: no handle to %s: no input from it\n", in->name);
            return 1;
        }
        if (r == 0 && buf.handle)
            sys_cap_close(buf.handle);
        if (r < 0 || (int)reply.w0 < 0) {
            // -EPIPE: the driver died with the call; init starts another,
            // whose endpoint queue the next call waits in.
            sys_sleep(RETRY_TICKS);
            continue;
        }
        unsigned n = reply.w0 < buf.len ? reply.w0 : buf.len;
        struct ipc_buf out = { bytes, n, 0, 0 };
        if (n > 0)
            sys_ipc_send(in->forward, CON_INPUT, reply.w1, &out);
    }
}

// Takes the console from the kernel, showing the log from its head on.
static int
take_console(void)
{
    struct cap_info info;
    int r = sys_cap_info(LOG, &info);
    if (r < 0 || info.type != CAP_TYPE_LOG)
        return r < 0 ? r : -EBADF;
    s_log_cursor.pos = info.base; // what is there now the kernel has shown itself
    if ((r = sys_notify_bind(LOG, ENDPOINT, BADGE_LOG)) < 0)
        return r;
    return sys_console_take(LOG);
}

static int
start_inputs(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(s_inputs); i++) {
        struct input *in = &s_inputs[i];
        in->forward = sys_cap_dup(ENDPOINT, CAP_SEND, in->badge);
        if (in->forward < 0)
            return in->forward;
        int t = thread_spawn(input_main, in, s_stacks[i], sizeof s_stacks[i]);
        if (t < 0)
            return t;
        sys_cap_close(t);
    }
    return 0;
}

// Whether a message is an input helper's, and which.
static bool
is_input(int badge, const struct ipc_words *msg)
{
    return (badge == (int)BADGE_UART_IN || badge == (int)BADGE_KBD_IN) && msg->w0 == CON_INPUT;
}

int
main(void)
{
    static char data[IPC_BUF_MAX];
    le_init(&s_editor);
    int r = take_console();
    if (r == 0)
        r = start_inputs();
    if (r < 0) {
        printf("console: cannot start: %d\n", r);
        return 1;
    }
    for (;;) {
        struct ipc_buf buf = { data, 0, sizeof data, 0 };
        struct ipc_words msg;
        int badge = sys_ipc_recv(ENDPOINT, &msg, &buf);
        if (badge < 0) {
            printf("console: receive failed: %d\n", badge);
            sys_sleep(RETRY_TICKS);
            continue;
        }
        if (badge == (int)BADGE_LOG && msg.w0 == IPC_NOTIFICATION)
            show_log();
        else if (is_input(badge, &msg))
            take_input((const uint8_t *)data, buf.len, msg.w1);
        else if (msg.reply)
            serve(&msg, &buf, data);
        else if (buf.handle) // a plain send from a client: nothing to answer
            sys_cap_close(buf.handle);
    }
}
