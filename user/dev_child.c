// test_dev_mechanisms' partner (see user/dev_child.h for what it does).
#include "dev_child.h"
#include "device.h"
#include "lib/string.h"

// Whether the argument string's first word is `action`.
static bool
is_action(const char *args, const char *action)
{
    size_t n = strlen(action);
    return strncmp(args, action, n) == 0 && (args[n] == '\0' || args[n] == ' ');
}

// Maps the device and writes `cell` to its first cell; w0 = the map's
// result, w1 = the cell read back.
static void
map_and_touch(uint16_t cell, struct ipc_words *out)
{
    volatile uint16_t *screen = (volatile uint16_t *)DEV_CHILD_MAP_AT;
    out->w0 = (unsigned)sys_mem_map(DEV_CHILD_DEVICE, (void *)screen);
    out->w1 = 0;
    if (out->w0 == 0) {
        screen[0] = cell;
        out->w1 = screen[0];
    }
}

// Reads what a closed mapping held: the kernel must end the process here.
static void
touch_again(void)
{
    volatile uint16_t *screen = (volatile uint16_t *)DEV_CHILD_MAP_AT;
    (void)screen[0];
}

// Answers the call, then does what the action does after its answer.
static int
act(const char *args, int reply, unsigned param)
{
    uint16_t port = (uint16_t)param;
    struct ipc_words w = { 0, 0, 0 };
    if (args[0] == '\0' || is_action(args, "echo")) {
        struct ipc_buf buf = { (void *)args, strlen(args), 0, 0 };
        return sys_ipc_reply(reply, buf.len, 0, &buf) == 0 ? 0 : DEV_CHILD_EXIT_FAILED;
    }
    if (is_action(args, "inb") || is_action(args, "inb-close") || is_action(args, "inb-loop")) {
        sys_ipc_reply(reply, inb(port), 0, NULL);
        if (is_action(args, "inb-close")) {
            sys_cap_close(DEV_CHILD_DEVICE);
            inb(port);
        }
        while (is_action(args, "inb-loop")) {
            inb(port);
            sys_yield();
        }
        return 0;
    }
    if (is_action(args, "map-close") || is_action(args, "map-exit")) {
        map_and_touch((uint16_t)param, &w);
        sys_ipc_reply(reply, w.w0, w.w1, NULL);
        if (w.w0 != 0)
            return DEV_CHILD_EXIT_FAILED;
        if (is_action(args, "map-close")) {
            sys_cap_close(DEV_CHILD_DEVICE);
            touch_again();
        }
        return 0;
    }
    sys_cap_close(reply); // the caller hears -EPIPE
    return DEV_CHILD_EXIT_FAILED;
}

int
main(void)
{
    struct ipc_words msg;
    int badge = sys_ipc_recv(DEV_CHILD_ENDPOINT, &msg, NULL);
    if (badge < 0 || !msg.reply)
        return DEV_CHILD_EXIT_FAILED;
    return act(program_args(), msg.reply, msg.w1);
}
