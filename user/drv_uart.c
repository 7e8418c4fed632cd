// The serial port driver: a 16550 UART (COM1) as a character device
// (user/lib/proto.h: DEV_READ, DEV_WRITE), served by user/drv/chardev.c.
//
// Its handles, as init passes them:
//   1  its endpoint (CAP_RECV): the calls, and IRQ 4's notifications
//   2  the UART's 8 I/O ports ("com1"; the driver uses whichever base the
//      handle names)
//   3  the UART's IRQ line ("irq4-com1")
//
// The line keeps the baud rate it has (the firmware's or the kernel's; 115200
// if the divisor was never set), as 8N1 with the FIFOs on.  Input arrives
// by interrupt (received data available) and is passed on as it came: a
// terminal's Enter is CR, which the console takes as Enter.  Output polls
// the transmitter, a FIFO's worth at a time, and gives up after a while
// without room (a port with nothing connected may never drain), answering
// with the bytes taken so far; each \n goes out as \r\n.
#include "device.h"
#include "drv/chardev.h"
#include "proto.h"

#define ENDPOINT 1
#define PORTS    2
#define IRQ      3

// The registers, as offsets from the base port.
#define REG_DATA       0 // receive buffer / transmit holding (DLAB 0)
#define REG_IER        1 // interrupt enable (DLAB 0)
#define REG_DIVISOR_LO 0 // DLAB 1
#define REG_DIVISOR_HI 1 // DLAB 1
#define REG_FCR        2 // FIFO control (write) / interrupt identification (read)
#define REG_LCR        3
#define REG_MCR        4
#define REG_LSR        5

#define IER_RX_AVAILABLE 0x01
#define FCR_ENABLE_CLEAR 0x07 // FIFOs on and emptied; an interrupt per byte received
#define IIR_FIFO_ON      0xC0 // both bits set: a working 16-byte FIFO
#define LCR_8N1          0x03
#define LCR_DLAB         0x80
#define MCR_DTR_RTS_OUT2 0x0B // OUT2 lets the UART's interrupt reach the PIC on a PC
#define LSR_DATA_READY   0x01
#define LSR_THR_EMPTY    0x20
#define LSR_IDLE         0x40 // transmitter and its FIFO empty

#define FIFO_SIZE      16
#define DIVISOR_115200 1
#define DRAIN_MAX      256    // bytes read per interrupt at most
#define TX_POLLS       200000 // LSR reads waiting for room before giving up

struct uart {
    struct chardev dev;
    uint16_t base;
    unsigned burst; // bytes the transmitter takes once empty
};

static struct uart s_uart;

static uint8_t
reg_in(unsigned reg)
{
    return inb((uint16_t)(s_uart.base + reg));
}

static void
reg_out(unsigned reg, uint8_t value)
{
    outb((uint16_t)(s_uart.base + reg), value);
}

// Waits, a bounded while, for LSR to show `bits`; returns whether it did.
static bool
wait_lsr(uint8_t bits)
{
    for (unsigned i = 0; i < TX_POLLS; i++)
        if ((reg_in(REG_LSR) & bits) == bits)
            return true;
    return false;
}

static void
drain(struct chardev *dev)
{
    for (unsigned i = 0; i < DRAIN_MAX && (reg_in(REG_LSR) & LSR_DATA_READY); i++)
        chardev_input(dev, reg_in(REG_DATA));
}

// Sends one byte once the transmitter has room; *room counts the free
// FIFO places known.  Returns whether it went.
static bool
send_byte(uint8_t byte, unsigned *room)
{
    if (*room == 0) {
        if (!wait_lsr(LSR_THR_EMPTY))
            return false;
        *room = s_uart.burst;
    }
    reg_out(REG_DATA, byte);
    (*room)--;
    return true;
}

static int
write_bytes(struct chardev *dev, const uint8_t *bytes, unsigned len)
{
    unsigned room = 0, taken = 0;
    if (len > 0)
        dev->output_stamp = tsc32();
    for (; taken < len; taken++) {
        if (bytes[taken] == '\n' && !send_byte('\r', &room))
            break;
        if (!send_byte(bytes[taken], &room))
            break;
    }
    return (int)taken;
}

// 8N1 at the rate the line has, FIFOs on, interrupts off until bound.
static void
uart_init(void)
{
    reg_out(REG_IER, 0);
    wait_lsr(LSR_IDLE); // what the kernel sent last goes out before the FIFO reset
    reg_out(REG_LCR, LCR_DLAB);
    if (reg_in(REG_DIVISOR_LO) == 0 && reg_in(REG_DIVISOR_HI) == 0) {
        reg_out(REG_DIVISOR_LO, DIVISOR_115200);
        reg_out(REG_DIVISOR_HI, 0);
    }
    reg_out(REG_LCR, LCR_8N1);
    reg_out(REG_FCR, FCR_ENABLE_CLEAR);
    s_uart.burst = (reg_in(REG_FCR) & IIR_FIFO_ON) == IIR_FIFO_ON ? FIFO_SIZE : 1;
    reg_out(REG_MCR, MCR_DTR_RTS_OUT2);
    for (unsigned i = 0; i < DRAIN_MAX && (reg_in(REG_LSR) & LSR_DATA_READY); i++)
        reg_in(REG_DATA); // stale input, from before anyone asked
}

int
main(void)
{
    struct cap_info ports;
    if (sys_cap_info(PORTS, &ports) != 0 || ports.type != CAP_TYPE_IOPORT || ports.size < 8) {
        printf("drv_uart: handle %d is not a UART's ports\n", PORTS);
        return 1;
    }
    s_uart.base = (uint16_t)ports.base;
    s_uart.dev.endpoint = ENDPOINT;
    s_uart.dev.irq = IRQ;
    s_uart.dev.drain = drain;
    s_uart.dev.write = write_bytes;
    uart_init();
    int err = chardev_bind(&s_uart.dev);
    if (err) {
        printf("drv_uart: cannot bind its IRQ: %d\n", err);
        return 1;
    }
    reg_out(REG_IER, IER_RX_AVAILABLE);
    return chardev_serve(&s_uart.dev, "drv_uart");
}
