// test_caps's agent: makes the system calls test_caps asks for, on its own
// handles, and reports each outcome (the protocol is in user/cap_child.h).
// It holds nothing but what it was given, so what it sees is exactly what a
// fresh process's handle table holds.
#include "cap_child.h"
#include "lib/string.h"
#include "tandem.h"

static int s_filled[CAPS_PER_PROCESS]; // CAP_OP_FILL's endpoints, oldest first
static unsigned s_filled_count;

// Creates endpoints until the kernel refuses one.
static void
fill(struct cap_report *rep)
{
    unsigned made = 0;
    for (;;) {
        int h = sys_endpoint_create();
        if (h < 0 || s_filled_count == CAPS_PER_PROCESS) {
            rep->w0 = (unsigned)h;
            break;
        }
        s_filled[s_filled_count++] = h;
        made++;
    }
    rep->result = (int)made;
}

// Closes the n endpoints fill made last; returns how many closed.
static int
unfill(unsigned n)
{
    int closed = 0;
    for (; n > 0 && s_filled_count > 0; n--)
        if (sys_cap_close(s_filled[--s_filled_count]) == 0)
            closed++;
    return closed;
}

// Carries out cmd and fills in rep.
static void
run(const struct cap_cmd *cmd, struct cap_report *rep)
{
    static char data[16];
    struct ipc_buf buf = { data, 0, sizeof data, cmd->pass };
    struct ipc_words words = { 0, 0, 0 };
    unsigned start = sys_time();
    int h = cmd->handle;
    switch (cmd->op) {
    case CAP_OP_EXIT: sys_exit((int)cmd->a);
    case CAP_OP_INFO: rep->result = sys_cap_info(h, &rep->info); break;
    case CAP_OP_LIST: rep->result = sys_cap_list(rep->list, CAP_REPORT_LIST); break;
    case CAP_OP_RECV: rep->result = sys_ipc_recv(h, &words, &buf); break;
    case CAP_OP_SEND: rep->result = sys_ipc_send(h, cmd->a, cmd->b, &buf); break;
    case CAP_OP_CALL: rep->result = sys_ipc_call(h, cmd->a, cmd->b, &buf, &words); break;
    case CAP_OP_REPLY: rep->result = sys_ipc_reply(h, cmd->a, cmd->b, &buf); break;
    case CAP_OP_DUP: rep->result = sys_cap_dup(h, cmd->a, cmd->b); break;
    case CAP_OP_CLOSE: rep->result = sys_cap_close(h); break;
    case CAP_OP_REVOKE: rep->result = sys_cap_revoke(h); break;
    case CAP_OP_CREATE: rep->result = sys_endpoint_create(); break;
    case CAP_OP_FILL: fill(rep); break;
    case CAP_OP_UNFILL: rep->result = unfill(cmd->a); break;
    default: rep->result = -ENOSYS; break;
    }
    rep->ticks = sys_time() - start;
    rep->w0 = cmd->op == CAP_OP_FILL ? rep->w0 : words.w0;
    rep->w1 = words.w1;
    rep->reply = words.reply;
    // Only a message received says anything about the handle that came with it.
    rep->handle = cmd->op == CAP_OP_RECV || cmd->op == CAP_OP_CALL ? buf.handle : 0;
}

int
main(void)
{
    static union {
        struct cap_cmd cmd;
        struct cap_report rep;
    } msg;
    struct cap_report rep;
    int give = 0;
    memset(&rep, 0, sizeof rep);
    rep.op = CAP_OP_HELLO;
    for (;;) {
        memcpy(&msg.rep, &rep, sizeof rep);
        struct ipc_buf buf = { &msg, sizeof rep, sizeof msg, give };
        int r = sys_ipc_call(CAP_CHILD_CTL, 0, 0, &buf, NULL);
        if (r < 0)
            return CAP_CHILD_LOST - r;
        struct cap_cmd cmd = msg.cmd;
        if (buf.len != sizeof cmd)
            cmd.op = ~0u; // not a command: reported as -ENOSYS
        memset(&rep, 0, sizeof rep);
        rep.op = cmd.op;
        rep.got = buf.handle;
        run(&cmd, &rep);
        give = cmd.give;
    }
}
