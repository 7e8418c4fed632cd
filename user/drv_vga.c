// The VGA text screen driver (user/lib/proto.h: DEV_WRITE, VGA_CLEAR;
// DEV_READ is -ENOSYS).  It maps the screen's memory and writes it
// through the screen model (user/drv/vga_screen.c), then puts the
// hardware cursor where the next character goes.
//
// Its handles, as init passes them:
//   1  its endpoint (CAP_RECV)
//   2  the text screen's memory ("vga-text", 0xB8000)
//   3  the CRTC's index and data ports 0x3D4-0x3D5 ("vga-crtc")
//
// It starts over the screen as it finds it, at the cursor the hardware
// shows, so the kernel's boot lines stay until something clears them.
#include "device.h"
#include "drv/vga_screen.h"
#include "proto.h"

#define ENDPOINT   1
#define MEMORY     2
#define CRTC_PORTS 3

// Where the screen is mapped: far above the image (checked), far below
// the stack.
#define SCREEN_AT 0x00800000u

#define CRTC_INDEX        0x3D4
#define CRTC_DATA         0x3D5
#define CRTC_CURSOR_START 0x0A // bit 5: the cursor is hidden
#define CRTC_CURSOR_HIGH  0x0E
#define CRTC_CURSOR_LOW   0x0F
#define CURSOR_HIDDEN     0x20

extern char _end[]; // the first address past the image (user/user.ld)

static struct vga_screen s_screen;
static char s_data[IPC_BUF_MAX];

static uint8_t
crtc_in(uint8_t reg)
{
    outb(CRTC_INDEX, reg);
    return inb(CRTC_DATA);
}

static void
crtc_out(uint8_t reg, uint8_t value)
{
    outb(CRTC_INDEX, reg);
    outb(CRTC_DATA, value);
}

static void
cursor_show(void)
{
    unsigned at = vga_screen_cursor(&s_screen);
    crtc_out(CRTC_CURSOR_HIGH, (uint8_t)(at >> 8));
    crtc_out(CRTC_CURSOR_LOW, (uint8_t)at);
}

// Maps the screen and starts the model at the hardware's cursor; returns
// 0 or a -errno.
static int
screen_init(void)
{
    struct cap_info info;
    if (sys_cap_info(CRTC_PORTS, &info) != 0 || info.type != CAP_TYPE_IOPORT ||
        info.base != CRTC_INDEX || info.size < 2)
        return -EBADF;
    if ((uintptr_t)_end > SCREEN_AT)
        return -ENOMEM; // the image has grown over the screen's place
    int err = sys_mem_map(MEMORY, (void *)SCREEN_AT);
    if (err)
        return err;
    unsigned at = (unsigned)crtc_in(CRTC_CURSOR_HIGH) << 8 | crtc_in(CRTC_CURSOR_LOW);
    vga_screen_init(&s_screen, (volatile uint16_t *)SCREEN_AT, at / VGA_COLS, at % VGA_COLS);
    crtc_out(CRTC_CURSOR_START, crtc_in(CRTC_CURSOR_START) & (uint8_t)~CURSOR_HIDDEN);
    cursor_show();
    return 0;
}

// The answer to a call: w0.
static int
answer(unsigned what, unsigned len)
{
    switch (what) {
    case DEV_WRITE:
        vga_screen_write(&s_screen, s_data, len);
        cursor_show();
        return (int)len;
    case VGA_CLEAR:
        vga_screen_clear(&s_screen);
        cursor_show();
        return 0;
    default: return -ENOSYS;
    }
}

int
main(void)
{
    int err = screen_init();
    if (err) {
        printf("drv_vga: cannot set up the screen: %d\n", err);
        return 1;
    }
    int reply = 0, result = 0;
    for (;;) {
        struct ipc_buf buf = { s_data, 0, sizeof s_data, 0 };
        struct ipc_words msg;
        int badge = sys_ipc_reply_recv(reply, (unsigned)result, 0, &buf, ENDPOINT, &msg);
        if (badge < 0 && reply) {
            sys_cap_close(reply); // the answer could not go: that call is dropped
            reply = 0;
            continue;
        }
        reply = 0;
        if (badge == -EBADF || badge == -EPIPE)
            return 0; // the endpoint is gone: nobody can call any more
        if (badge < 0) {
            printf("drv_vga: receive failed: %d\n", badge);
            return 1;
        }
        if (buf.handle)
            sys_cap_close(buf.handle); // a driver keeps no handle it is sent
        if (msg.reply) {
            reply = msg.reply;
            result = answer(msg.w0, buf.len);
        }
    }
}
