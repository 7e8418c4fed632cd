/* The user-mode runtime: one C function per system call, thread creation,
 * console output and module lookup.
 *
 * Every wrapper enters the kernel through sysenter, where the CPU offers it,
 * unless syscall_mode_set(SYSCALL_INT80) says otherwise, returns what the kernel
 * returns (negative: -errno, include/uapi/errno.h) and adds one to the
 * process's system call count. */
#ifndef TANDEM_USER_TANDEM_H
#define TANDEM_USER_TANDEM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

// What an IPC message brings besides its payload (ipc_recv, ipc_call):
// its two words and, for a call received, the reply handle.  Layout known
// to user/lib/syscall.asm: w0 at offset 0, w1 at 4, reply at 8.
struct ipc_words {
    unsigned w0;
    unsigned w1;
    int reply; // ipc_recv of a call: the handle to answer it with (else 0)
};

// ---- Entering the kernel ----------------------------------------------------

enum syscall_mode {
    SYSCALL_SYSENTER, // the default
    SYSCALL_INT80,
};

// The stubs in user/lib/syscall.asm; each is one kernel entry.
long syscall_int80(long n, long a1, long a2, long a3, long a4, long a5);
long syscall_sysenter(long n, long a1, long a2, long a3, long a4, long a5);
long syscall_int80_ipc(long n, long a1, long a2, long a3, long a4, long a5, struct ipc_words *out);
long syscall_sysenter_ipc(long n, long a1, long a2, long a3, long a4, long a5,
                          struct ipc_words *out);

// Chooses how every wrapper below (in every thread of the process) enters;
// -ENOSYS (and no change) for a gate this CPU does not offer.
int syscall_mode_set(enum syscall_mode mode);
enum syscall_mode syscall_mode_get(void);
// Whether the kernel offers the gate (int 0x80 always; sysenter where the
// CPU has it), and the one a program starts with: sysenter when offered.
bool syscall_mode_available(enum syscall_mode mode);
enum syscall_mode syscall_mode_default(void);
// Called by _start with the SYSCALL_GATE_* word the kernel passed in ebx
// and the argument string in ecx (runtime_init does both).
void syscall_gates_init(unsigned gates);
void runtime_init(unsigned gates, const char *args);
// The string the parent passed to sys_spawn_args ("" if none).
const char *program_args(void);

// System call n with raw arguments, through the current mode; counted.
long syscall_raw(long n, long a1, long a2, long a3, long a4, long a5);

// System calls this process has made through the wrappers (all threads).
unsigned syscall_count(void);

// ---- Processes and threads --------------------------------------------------

// Ends the whole process with code.
NORETURN void sys_exit(int code);

// Starts a thread with eip = entry, esp = stack_top, eax = arg and every
// other register 0.  Returns a handle to it (CAP_WAIT: sys_wait).  Raw: entry does not follow any C
// calling convention; see thread_spawn.
int sys_thread_create(uintptr_t entry, uintptr_t stack_top, uintptr_t arg);

// Ends the calling thread; the last thread's code ends the process.
NORETURN void sys_thread_exit(int code);

// Smallest stack thread_spawn accepts.
#define THREAD_STACK_MIN 256

// Runs fn(arg) in a new thread on stack[0, size); fn's return value is the
// thread's exit code.  Returns its handle, -EINVAL if fn or stack is NULL or
// size < THREAD_STACK_MIN, or what SYS_THREAD_CREATE returned.  The stack
// must stay untouched until the thread has ended.
int thread_spawn(int (*fn)(void *), void *arg, void *stack, size_t size);

int sys_yield(void);
int sys_sleep(unsigned ticks);
int sys_gettid(void);
unsigned sys_time(void);

// Starts the module a handle names as a new process, passing it copies of
// handles[0, count) (its handles 1 .. count); returns a process handle.
int sys_spawn(int module, const int *handles, unsigned count);
// The same, with an argument string (SPAWN_ARGS_MAX, NUL included) the
// child reads with program_args().
int sys_spawn_args(int module, const int *handles, unsigned count, const char *args);

// Waits at most ticks (WAIT_FOREVER: no limit) for the process or thread a
// handle names to end; returns its exit code or -ETIMEDOUT.
int sys_wait(int handle, unsigned ticks);

// Ends the process a handle names (CAP_KILL).
int sys_kill(int process);

// Returns the first handle (in slot order) this process holds to an
// object of type (CAP_TYPE_*) called name (struct cap_info's name), or
// -ENOENT; module_find is cap_find(CAP_TYPE_MODULE, name).
int cap_find(unsigned type, const char *name);
int module_find(const char *name);

// Copies the kernel command line into buf[0, cap) with its NUL; returns its
// length, -ENAMETOOLONG if it does not fit, -EFAULT for a bad buffer.
int sys_cmdline(char *buf, size_t cap);

// ---- Capabilities -----------------------------------------------------------

int sys_cap_info(int handle, struct cap_info *out);
int sys_cap_dup(int handle, unsigned rights, unsigned badge);
int sys_cap_close(int handle);
int sys_cap_revoke(int handle);
// Stores at most max of this process's open handles, lowest first; returns
// how many are open.
int sys_cap_list(int *handles, unsigned max);
int sys_endpoint_create(void);

// ---- IPC ----------------------------------------------------------------------
// buf may be NULL: no payload, no handle.  In ipc_recv and ipc_call,
// buf->data receives at most buf->size bytes, buf->len is set to the count
// received and buf->handle to the handle received (0: none).

int sys_ipc_send(int endpoint, unsigned w0, unsigned w1, struct ipc_buf *buf);

// Waits for a message on endpoint; returns the badge of the handle the
// sender used.  msg->reply is the reply handle if the message is a call.
int sys_ipc_recv(int endpoint, struct ipc_words *msg, struct ipc_buf *buf);

// Sends buf->len bytes of buf on endpoint and waits for the reply, which
// overwrites buf->data; the reply's words go to *reply.  Returns 0.
int sys_ipc_call(int endpoint, unsigned w0, unsigned w1, struct ipc_buf *buf,
                 struct ipc_words *reply);

// Answers the call reply stands for, and closes reply.
int sys_ipc_reply(int reply, unsigned w0, unsigned w1, struct ipc_buf *buf);

// Answers the call reply stands for (none if 0), then waits for the next
// message on endpoint, as ipc_recv; buf serves both.
int sys_ipc_reply_recv(int reply, unsigned w0, unsigned w1, struct ipc_buf *buf, int endpoint,
                       struct ipc_words *msg);

// ---- Figures and console ----------------------------------------------------

int sys_kfast_stats(struct kfast_stats *out);
int sys_sysinfo(struct sysinfo *out);

// Whether two readings agree on the counters a leak would move: threads,
// processes, live heap blocks, open handles and live objects.
bool sysinfo_counts_equal(const struct sysinfo *a, const struct sysinfo *b);

// The kernel's counters once they have stopped changing: an ended thread
// counts until the reaper has freed it, and a process until its waiter is
// told, neither of which the caller can wait for directly (nor for the
// handles such a one held).  Reads until two reads a tick apart agree
// (sysinfo_counts_equal), for at most `ticks`.  Returns whether they
// settled (*out: the last reading).
bool sysinfo_settled(struct sysinfo *out, unsigned ticks);

// Writes buf[0, len) to the console; returns len.
int sys_debug_write(const void *buf, size_t len);

// Formats as ksnprintf (include/lib/format.h) and writes the result, one
// debug_write per line at most, so that concurrent threads' lines do not
// mix.  Returns the number of characters formatted, or a -errno.
int printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int vprintf(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);

// Writes s and a newline; returns 0 or a -errno.
int puts(const char *s);

// The time-stamp counter's low 32 bits: ring 3 may read it (CR4.TSD is
// clear).  Under QEMU's -icount shift=0 it counts guest instructions, which
// is how the benchmarks and the drivers' latency stamps (proto.h) are read.
static inline uint32_t
tsc32(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return lo;
}

#endif
