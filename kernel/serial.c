// COM1 driver: 115200 baud, 8 data bits, no parity, 1 stop bit, polled.
#include <stdint.h>
#include "console.h"
#include "x86.h"

#define COM1           0x3F8
#define REG_DATA       0 // DLAB=0: transmit holding / receive buffer
#define REG_IER        1 // DLAB=0: interrupt enable
#define REG_DIVISOR_LO 0 // DLAB=1
#define REG_DIVISOR_HI 1 // DLAB=1
#define REG_FCR        2
#define REG_LCR        3
#define REG_MCR        4
#define REG_LSR        5
#define LCR_8N1        0x03
#define LCR_DLAB       0x80
#define LSR_THR_EMPTY  0x20
#define UART_CLOCK     115200 // divisor 1 = 115200 baud

void
serial_init(void)
{
    outb(COM1 + REG_IER, 0x00); // polled: no UART interrupts
    outb(COM1 + REG_LCR, LCR_DLAB);
    outb(COM1 + REG_DIVISOR_LO, UART_CLOCK / 115200);
    outb(COM1 + REG_DIVISOR_HI, 0);
    outb(COM1 + REG_LCR, LCR_8N1);
    outb(COM1 + REG_FCR, 0xC7); // enable and clear FIFOs
    outb(COM1 + REG_MCR, 0x03); // DTR + RTS
}

static void
serial_putc(char c)
{
    while (!(inb(COM1 + REG_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1 + REG_DATA, (uint8_t)c);
}

void
serial_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}
