/* The server loop of the character drivers (drv_uart, drv_kbd): DEV_READ
 * and DEV_WRITE on their endpoint (user/lib/proto.h), and the interrupts
 * of their IRQ line, which arrive on the same endpoint as notifications.
 *
 * Input waits in a ring until a DEV_READ takes it.  A DEV_READ that finds
 * the ring empty is kept (its reply handle) and answered when the next
 * interrupt brings bytes; while it waits, another DEV_READ gets -EBUSY.
 * Bytes that arrive with the ring full are dropped.  The driver gives the
 * device's two halves: drain (read what the interrupt announced, passing
 * each byte to chardev_input) and write (for DEV_WRITE).
 *
 * Replies carry time stamps (the TSC's low 32 bits) in w1, for latency
 * measurements across the system: a DEV_READ's, when the oldest byte it
 * returns reached the driver; a DEV_WRITE's, when its first byte went to
 * the device (the driver's write notes it in output_stamp). */
#ifndef TANDEM_USER_DRV_CHARDEV_H
#define TANDEM_USER_DRV_CHARDEV_H

#include <stdint.h>

#define CHARDEV_RING      1024 // bytes of input kept (a power of two)
#define CHARDEV_IRQ_BADGE 0x1  // the badge of the IRQ's notifications

struct chardev {
    int endpoint; // handle: the calls and the notifications arrive here
    int irq;      // handle: the IRQ line (CAP_USE)
    // Reads the device after an interrupt, passing each byte to chardev_input.
    void (*drain)(struct chardev *dev);
    // DEV_WRITE: sends bytes[0, len); returns how many it took, or a -errno,
    // and sets output_stamp (tsc32()) as the first byte goes.
    int (*write)(struct chardev *dev, const uint8_t *bytes, unsigned len);
    uint32_t output_stamp;

    // The loop's own state.
    uint8_t ring[CHARDEV_RING];
    unsigned head, tail;   // bytes ever put in, taken out (head - tail are waiting)
    uint32_t input_stamp;  // tsc32() when the oldest waiting byte (at tail) arrived
    int reader;            // the reply handle of the DEV_READ that waits (0: none)
    unsigned reader_wants; // its most bytes
};

// Adds one byte of input (from drain).
void chardev_input(struct chardev *dev, uint8_t byte);

// Binds the IRQ line to the endpoint; returns 0 or a -errno.  The driver
// enables the device's interrupts after this.
int chardev_bind(struct chardev *dev);

// Serves the endpoint until it is gone (closed or revoked: -EBADF, or
// -EPIPE); returns 0 then, or 1 after any other failure.
int chardev_serve(struct chardev *dev, const char *name);

#endif
