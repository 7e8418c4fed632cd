// COM1 in loopback (see com1_loopback.h).
#include "com1_loopback.h"
#include "device.h"

#define COM1_IER       (COM1 + 1)
#define COM1_FCR       (COM1 + 2)
#define COM1_LCR       (COM1 + 3)
#define COM1_MCR       (COM1 + 4)
#define IER_RX         0x01
#define FCR_KERNEL     0xC7 // what kernel/serial.c set: FIFOs on, emptied
#define FCR_ONE_BYTE   0x07 // FIFOs on, emptied, an interrupt per byte
#define MCR_OUT2       0x08
#define MCR_LOOP       0x10
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define LSR_IDLE       0x40
#define UART_POLLS     1000000

static bool
uart_wait(uint8_t bits)
{
    for (unsigned i = 0; i < UART_POLLS; i++)
        if ((inb(COM1_LSR) & bits) == bits)
            return true;
    return false;
}

static void
uart_drain(void)
{
    for (unsigned i = 0; i < 64 && (inb(COM1_LSR) & LSR_DATA_READY); i++)
        inb(COM1);
}

bool
com1_loopback_enter(struct uart_regs *saved)
{
    if (!uart_wait(LSR_IDLE))
        return false;
    *saved = (struct uart_regs){ inb(COM1_IER), inb(COM1_LCR), inb(COM1_MCR) };
    outb(COM1_MCR, saved->mcr | MCR_LOOP | MCR_OUT2);
    outb(COM1_FCR, FCR_ONE_BYTE);
    uart_drain();
    outb(COM1_IER, IER_RX);
    return true;
}

void
com1_loopback_leave(const struct uart_regs *saved)
{
    outb(COM1_IER, 0);
    uart_wait(LSR_IDLE);
    uart_drain();
    outb(COM1_FCR, FCR_KERNEL);
    outb(COM1_MCR, saved->mcr);
    outb(COM1_LCR, saved->lcr);
    outb(COM1_IER, saved->ier);
}

void
com1_send(char c)
{
    uart_wait(LSR_THR_EMPTY);
    outb(COM1, (uint8_t)c);
}

int
com1_take(void)
{
    if (!uart_wait(LSR_DATA_READY))
        return -1;
    return inb(COM1);
}
