/* Processes: an address space, its threads, an exit code for the parent. */
#ifndef TANDEM_PROCESS_H
#define TANDEM_PROCESS_H

#include "thread.h"
#include "uapi/syscall.h"       // USER_STACK_*: the main stack is part of the ABI

// Starts a process from boot module index (0 is init); parent may be NULL.
// Returns the new process, or NULL with *err set to -ENOENT (no such
// module), -EAGAIN (a process or thread limit of uapi/syscall.h), -ENOEXEC
// (not a valid program; the reason is printed) or -ENOMEM.
struct process *process_spawn(unsigned index, struct process *parent, int *err);
struct process *process_find(uint32_t pid);
// Waits until p has exited and been cleaned up; returns its exit code and
// frees it.  Only one waiter collects a process.  -EINTR if the waiting
// thread is killed first: then p is left uncollected, and freed later.
int process_wait(struct process *p);
// Ends every thread of p (the calling one last, if it is p's); p's exit
// code is code & 0xFF (0-255, never mistaken for -errno), whatever the threads' own.
NORETURN void process_exit(int code);

// Resolves a user page fault at addr if it is the main stack growing
// (a not-present page within USER_STACK_MAX of the top): maps a zeroed page
// and returns true.  False: a real fault.
bool process_grow_stack(struct process *p, uintptr_t addr, uint32_t error);

// Thread bookkeeping (kernel/thread/thread.c calls these).
void process_thread_exited(struct process *p, int code);
void process_thread_reaped(struct process *p);

#endif
