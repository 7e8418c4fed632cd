/* Synchronous IPC (kernel/syscall/ipc.c): the part outside the system calls. */
#ifndef TANDEM_IPC_H
#define TANDEM_IPC_H

#include <stdint.h>

// Adds IPC's thread-exit hook (a dying thread's waiting peers get -ESRCH).
// Before the first user thread starts.
void ipc_init(void);
// Messages IPC's fast path (kernel/syscall/ipc_fast.c) has delivered since
// boot (SYS_SYSINFO's ipc_fast).
uint32_t ipc_fast_count(void);

#endif
