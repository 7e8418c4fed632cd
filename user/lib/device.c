// The device and system-monitor calls (see device.h).
#include "device.h"

int
sys_notify_bind(int source, int endpoint, unsigned badge)
{
    return syscall_raw(SYS_NOTIFY_BIND, source, endpoint, (long)badge, 0, 0);
}

int
sys_irq_ack(int irq)
{
    return syscall_raw(SYS_IRQ_ACK, irq, 0, 0, 0, 0);
}

int
sys_mem_map(int memory, void *vaddr)
{
    return syscall_raw(SYS_MEM_MAP, memory, (long)vaddr, 0, 0, 0);
}

int
sys_log_read(int log, struct log_read *cursor, char *buf, unsigned size)
{
    return syscall_raw(SYS_LOG_READ, log, (long)cursor, (long)buf, (long)size, 0);
}

int
sys_console_take(int log)
{
    return syscall_raw(SYS_CONSOLE_TAKE, log, 0, 0, 0, 0);
}

int
sys_thread_list(struct thread_info *out, unsigned max)
{
    return syscall_raw(SYS_THREAD_LIST, (long)out, (long)max, 0, 0, 0);
}
