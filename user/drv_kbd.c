// The PS/2 keyboard driver: the i8042's keyboard as a character device
// (user/lib/proto.h: DEV_READ; DEV_WRITE is -ENOSYS), served by
// user/drv/chardev.c.  Each interrupt's scancodes go through the set 1
// decoder (user/drv/kbd_decode.c), and the bytes it emits are the input.
//
// Its handles, as init passes them:
//   1  its endpoint (CAP_RECV): the calls, and IRQ 1's notifications
//   2  the data port 0x60 ("ps2-data")
//   3  the status and command port 0x64 ("ps2-control")
//   4  the keyboard's IRQ line ("irq1-keyboard")
//
// The firmware leaves the controller set up; the driver makes sure that
// the keyboard's interrupt is on and that translation to set 1 is too.
#include "device.h"
#include "drv/chardev.h"
#include "drv/kbd_decode.h"

#define ENDPOINT      1
#define DATA_PORTS    2
#define CONTROL_PORTS 3
#define IRQ           4

#define PORT_DATA        0x60
#define PORT_CONTROL     0x64
#define STATUS_OUTPUT    0x01 // a byte waits in the data port
#define STATUS_INPUT     0x02 // the controller has not taken the last byte written
#define STATUS_AUX       0x20 // the waiting byte is the mouse's
#define CMD_READ_CONFIG  0x20
#define CMD_WRITE_CONFIG 0x60
#define CONFIG_KBD_IRQ   0x01
#define CONFIG_KBD_OFF   0x10   // the keyboard's clock is disabled
#define CONFIG_XLATE     0x40   // set 2 from the keyboard is translated to set 1
#define POLLS            100000 // status reads before a wait gives up
#define DRAIN_MAX        32     // bytes read per interrupt at most

static struct chardev s_kbd;
static struct kbd_decoder s_decoder;

// Waits, a bounded while, for the status bits under mask to equal want.
static bool
wait_status(uint8_t mask, uint8_t want)
{
    for (unsigned i = 0; i < POLLS; i++)
        if ((inb(PORT_CONTROL) & mask) == want)
            return true;
    return false;
}

static void
drain(struct chardev *dev)
{
    for (unsigned i = 0; i < DRAIN_MAX; i++) {
        uint8_t status = inb(PORT_CONTROL);
        if (!(status & STATUS_OUTPUT))
            return;
        uint8_t code = inb(PORT_DATA);
        if (status & STATUS_AUX)
            continue; // the mouse's: not ours
        char out[KBD_OUT_MAX];
        unsigned n = kbd_decode(&s_decoder, code, out);
        for (unsigned j = 0; j < n; j++)
            chardev_input(dev, (uint8_t)out[j]);
    }
}

static int
write_bytes(struct chardev *dev, const uint8_t *bytes, unsigned len)
{
    (void)dev;
    (void)bytes;
    (void)len;
    return -ENOSYS;
}

// Turns the keyboard's interrupt and translation on if the firmware left
// them off; stale bytes are dropped first, so that the config byte read
// back is the controller's answer.
static void
controller_init(void)
{
    for (unsigned i = 0; i < DRAIN_MAX && (inb(PORT_CONTROL) & STATUS_OUTPUT); i++)
        inb(PORT_DATA);
    if (!wait_status(STATUS_INPUT, 0))
        return;
    outb(PORT_CONTROL, CMD_READ_CONFIG);
    if (!wait_status(STATUS_OUTPUT, STATUS_OUTPUT))
        return;
    uint8_t config = inb(PORT_DATA);
    uint8_t wanted = (uint8_t)((config | CONFIG_KBD_IRQ | CONFIG_XLATE) & ~CONFIG_KBD_OFF);
    if (wanted == config || !wait_status(STATUS_INPUT, 0))
        return;
    outb(PORT_CONTROL, CMD_WRITE_CONFIG);
    if (wait_status(STATUS_INPUT, 0))
        outb(PORT_DATA, wanted);
}

int
main(void)
{
    struct cap_info info;
    if (sys_cap_info(DATA_PORTS, &info) != 0 || info.type != CAP_TYPE_IOPORT ||
        info.base != PORT_DATA || sys_cap_info(CONTROL_PORTS, &info) != 0 ||
        info.type != CAP_TYPE_IOPORT || info.base != PORT_CONTROL) {
        printf("drv_kbd: handles %d and %d are not the i8042's ports\n", DATA_PORTS, CONTROL_PORTS);
        return 1;
    }
    kbd_decoder_init(&s_decoder);
    s_kbd.endpoint = ENDPOINT;
    s_kbd.irq = IRQ;
    s_kbd.drain = drain;
    s_kbd.write = write_bytes;
    controller_init();
    int err = chardev_bind(&s_kbd);
    if (err) {
        printf("drv_kbd: cannot bind its IRQ: %d\n", err);
        return 1;
    }
    drain(&s_kbd); // a key pressed before the bind raised no notification
    return chardev_serve(&s_kbd, "drv_kbd");
}
