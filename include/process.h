/* Processes: an address space, its threads, an exit code for the parent. */
#ifndef TANDEM_PROCESS_H
#define TANDEM_PROCESS_H

#include "thread.h"
#include "uapi/syscall.h" // USER_STACK_*: the main stack is part of the ABI

// What process_spawn runs on the new process before its first thread
// exists: gives it its handles (kernel/cap/).  0, or a -errno that undoes
// the spawn (setup having undone its own work).
typedef int (*process_setup_fn)(struct process *p, void *arg);

// What to start: boot module `module`, as a child of parent (NULL: the
// kernel's), with setup run on it before its first thread exists, and
// args (a NUL-terminated kernel copy, or NULL) on the top of its stack.
struct spawn_request {
    unsigned module;
    struct process *parent;
    process_setup_fn setup;
    void *setup_arg;
    const char *args;
};

// Starts a process; returns it, holding the reference it keeps while it
// runs (the caller takes its own with kobject_get), or NULL with *err set
// to -ENOENT (no such module), -EAGAIN (a process or thread limit of
// uapi/syscall.h), -ENOEXEC (not a valid program; the reason is printed),
// -ENOMEM, or setup's error.
struct process *process_spawn(const struct spawn_request *req, int *err);
// Drops a reference; the last frees p (only an ended process has none left).
void process_put(struct process *p);
// Waits at most ticks (WAIT_FOREVER: no limit) for p to end and be cleaned
// up; its exit code, -ETIMEDOUT, -EINTR if the waiting thread is killed
// first, -EDEADLK for the caller's own process.  Any number may wait.
int process_wait(struct process *p, uint32_t ticks);
// Ends every thread of p; its exit code is EXIT_KILLED unless it had one.
void process_kill(struct process *p);
// Ends every thread of p (the calling one last, if it is p's); p's exit
// code is code & 0xFF (0-255, never mistaken for -errno), whatever the threads' own.
NORETURN void process_exit(int code);
// What the capability layer does when a process has ended (every thread
// reaped, the address space freed): close its handles.  Installed once.
void process_set_end_hook(void (*fn)(struct process *p));

// Resolves a user page fault at addr if it is the main stack growing
// (a not-present page within USER_STACK_MAX of the top): maps a zeroed page
// and returns true.  False: a real fault.
bool process_grow_stack(struct process *p, uintptr_t addr, uint32_t error);

// Thread bookkeeping (kernel/thread/thread.c calls these).
void process_thread_exited(struct process *p, int code);
void process_thread_reaped(struct process *p);

#endif
