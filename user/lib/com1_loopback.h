/* COM1 looped back to itself, for programs that hold the "com1" I/O port
 * handle and want IRQ 4 on demand (user/test_dev_mechanisms.c, user/bench.c):
 * in loopback every byte sent is received at once and, with the receive
 * interrupt enabled, raises the line.  The kernel's console writes to COM1,
 * so between com1_loopback_enter and com1_loopback_leave nothing may be
 * printed: its text would be swallowed (and received, as interrupts). */
#ifndef TANDEM_USER_COM1_LOOPBACK_H
#define TANDEM_USER_COM1_LOOPBACK_H

#include <stdbool.h>
#include <stdint.h>

#define COM1         0x3F8
#define COM1_LSR     (COM1 + 5)
#define COM1_SCRATCH (COM1 + 7) // the range's last port; nobody else uses it

// The registers com1_loopback_enter changes, as they were.
struct uart_regs {
    uint8_t ier, lcr, mcr;
};

// Loops COM1's output back to its input, with an interrupt per byte
// received; returns false (changing nothing) if the kernel's last text
// does not leave.
bool com1_loopback_enter(struct uart_regs *saved);
// Gives the UART back as the kernel had it (FIFOs emptied).
void com1_loopback_leave(const struct uart_regs *saved);
// Sends c once the transmitter has room.
void com1_send(char c);
// The byte received (in loopback: the one just sent), or -1.
int com1_take(void);

#endif
