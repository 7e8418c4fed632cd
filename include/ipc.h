/* Synchronous IPC (kernel/syscall/ipc.c): the part outside the system calls. */
#ifndef TANDEM_IPC_H
#define TANDEM_IPC_H

// Adds IPC's thread-exit hook (a dying thread's waiting peers get -ESRCH).
// Before the first user thread starts.
void ipc_init(void);

#endif
