/* The runtime's calls for drivers, consoles and system monitors: event
 * notifications, IRQ lines, device memory, the kernel log, the console
 * hand-over and the thread list (include/uapi/syscall.h says what each
 * does).  I/O ports need no call: holding an I/O port handle with CAP_USE
 * is what lets the process use them (inb/outb below). */
#ifndef TANDEM_USER_DEVICE_H
#define TANDEM_USER_DEVICE_H

#include <stdint.h>
#include "tandem.h"

int sys_notify_bind(int source, int endpoint, unsigned badge);
int sys_irq_ack(int irq);
int sys_mem_map(int memory, void *vaddr);
int sys_log_read(int log, struct log_read *cursor, char *buf, unsigned size);
int sys_console_take(int log);
int sys_thread_list(struct thread_info *out, unsigned max);

static inline uint8_t
inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void
outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

#endif
