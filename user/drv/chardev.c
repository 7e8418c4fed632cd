// The character drivers' server loop (see chardev.h).
#include "chardev.h"
#include "device.h"
#include "proto.h"

// What the next reply_recv answers (reply 0: nothing).
struct answer {
    int reply;
    int result;     // w0: bytes, or a -errno
    uint32_t stamp; // w1: a time stamp (chardev.h), or 0
    unsigned len;   // payload bytes in s_data
    bool read;      // a DEV_READ's: its bytes leave the ring once sent
};

static const struct answer NONE = { 0, 0, 0, 0, false };

// A call's payload on arrival, the answer's on departure.
static uint8_t s_data[IPC_BUF_MAX];

void
chardev_input(struct chardev *dev, uint8_t byte)
{
    if (dev->head - dev->tail == CHARDEV_RING)
        return; // full: the newest byte goes
    if (dev->head == dev->tail)
        dev->input_stamp = tsc32();
    dev->ring[dev->head++ % CHARDEV_RING] = byte;
}

int
chardev_bind(struct chardev *dev)
{
    return sys_notify_bind(dev->irq, dev->endpoint, CHARDEV_IRQ_BADGE);
}

static struct answer
error(int reply, int err)
{
    return (struct answer){ reply, err, 0, 0, false };
}

// A DEV_READ's answer: up to `wants` waiting bytes, copied out but left in
// the ring until the answer has gone (a caller without room for them
// loses its call, not the bytes).
static struct answer
read_answer(struct chardev *dev, int reply, unsigned wants)
{
    unsigned n = dev->head - dev->tail;
    if (n > wants)
        n = wants;
    for (unsigned i = 0; i < n; i++)
        s_data[i] = dev->ring[(dev->tail + i) % CHARDEV_RING];
    // Bytes left behind arrived no earlier: their stamp stays a bound.
    return (struct answer){ reply, (int)n, dev->input_stamp, n, true };
}

// The IRQ fired: read the device, let the line interrupt again, and
// answer the waiting read if there is input now.
static struct answer
on_interrupt(struct chardev *dev)
{
    dev->drain(dev);
    sys_irq_ack(dev->irq);
    if (!dev->reader || dev->head == dev->tail)
        return NONE;
    struct answer a = read_answer(dev, dev->reader, dev->reader_wants);
    dev->reader = 0;
    return a;
}

static struct answer
on_read(struct chardev *dev, int reply, unsigned wants)
{
    if (wants == 0)
        return error(reply, -EINVAL);
    if (wants > IPC_BUF_MAX)
        wants = IPC_BUF_MAX;
    // One reader at a time, and the newest wins: a reader whose console
    // died and was restarted must not be locked out by the dead one's read.
    if (dev->reader) {
        sys_ipc_reply(dev->reader, (unsigned)-EBUSY, 0, NULL);
        dev->reader = 0;
    }
    if (dev->head != dev->tail)
        return read_answer(dev, reply, wants);
    dev->reader = reply; // answered by the interrupt that brings input
    dev->reader_wants = wants;
    return NONE;
}

static struct answer
on_call(struct chardev *dev, const struct ipc_words *msg, unsigned len)
{
    switch (msg->w0) {
    case DEV_READ: return on_read(dev, msg->reply, msg->w1);
    case DEV_WRITE: {
        dev->output_stamp = 0;
        struct answer a = error(msg->reply, dev->write(dev, s_data, len));
        a.stamp = dev->output_stamp;
        return a;
    }
    default: return error(msg->reply, -ENOSYS);
    }
}

// Whether a message is the IRQ's notification (only the badge can be
// trusted: anyone may send these words).
static bool
is_interrupt(int badge, const struct ipc_words *msg)
{
    return badge == CHARDEV_IRQ_BADGE && msg->w0 == IPC_NOTIFICATION && !msg->reply;
}

int
chardev_serve(struct chardev *dev, const char *name)
{
    struct answer a = NONE;
    for (;;) {
        struct ipc_buf buf = { s_data, a.len, sizeof s_data, 0 };
        struct ipc_words msg;
        int badge =
            sys_ipc_reply_recv(a.reply, (unsigned)a.result, a.stamp, &buf, dev->endpoint, &msg);
        if (badge < 0 && a.reply) {
            // The answer could not go (the caller's buffer is too small):
            // that call is dropped, its caller gets -EPIPE.
            sys_cap_close(a.reply);
            a = NONE;
            continue;
        }
        if (a.read)
            dev->tail += a.len;
        a = NONE;
        if (badge == -EBADF || badge == -EPIPE)
            return 0; // the endpoint is gone: nobody can call any more
        if (badge < 0) {
            printf("%s: receive failed: %d\n", name, badge);
            return 1;
        }
        if (buf.handle)
            sys_cap_close(buf.handle); // a driver keeps no handle it is sent
        if (is_interrupt(badge, &msg))
            a = on_interrupt(dev);
        else if (msg.reply)
            a = on_call(dev, &msg, buf.len);
    }
}
