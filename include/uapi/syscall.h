/* The Tandem system-call ABI.
 *
 * Entry: `int 0x80`, or `sysenter` through the stub in user/lib/syscall.asm.
 * Number in eax; arguments in ebx, ecx, edx, esi, edi; result in eax
 * (negative: -errno, see errno.h).  Registers other than eax are preserved,
 * except the extra IPC outputs below.  EFLAGS come back as the caller left
 * them, arithmetic flags, DF, AC and NT included; with TF set the caller
 * single-steps into the instruction after the entry and takes its #DB there.
 *
 * sysenter: the CPU saves no return address, so the caller pushes, in this
 * order, ebp, edx, ecx and its return address, then sets ebp = esp:
 *   [ebp + 0] return eip   [ebp + 4] argument ecx   [ebp + 8] argument edx
 * The kernel returns (sysexit) to [ebp + 0] with esp = ebp + 4.
 *
 * Which entries work depends on the CPU: int 0x80 always; sysenter only where
 * the CPU has it (an i686 may not: the kernel then leaves it off, and
 * sysenter is #UD in ring 3, which ends the thread).  A process's first
 * thread starts with ebx = the gates it may use (SYSCALL_GATE_*), as
 * Linux's auxiliary vector tells its vDSO; the runtime (user/lib) picks
 * sysenter when offered.  SYS_SYSINFO reports the same word.
 */
#ifndef TANDEM_UAPI_SYSCALL_H
#define TANDEM_UAPI_SYSCALL_H

#define SYS_EXIT            1   // (code): ends the whole process with code & 0xFF; does not return
#define SYS_THREAD_CREATE   2   // (entry, stack_top, arg): new thread in this process -> tid
                                //   (-EAGAIN past THREADS_PER_PROCESS or THREADS_MAX)
#define SYS_THREAD_EXIT     3   // (code): ends the calling thread; the last one ends the process
#define SYS_YIELD           4   // (): lets other threads run -> 0
#define SYS_SLEEP           5   // (ticks): sleeps at least that many timer ticks -> 0
#define SYS_GETTID          6   // () -> the calling thread's id
#define SYS_TIME            7   // () -> timer ticks since boot (TICK_HZ per second)
#define SYS_DEBUG_WRITE     8   // (buf, len): writes to the console, prefixed with the thread -> len
#define SYS_IPC_SEND        9   // (dest, w0, w1, struct ipc_buf *): waits for dest to receive -> 0
#define SYS_IPC_RECV        10  // (from or IPC_ANY, -, -, struct ipc_buf *) -> sender; ebx=w0, esi=w1
#define SYS_IPC_CALL        11  // (dest, w0, w1, struct ipc_buf *): send, then wait for the reply
                                //   -> 0; ebx=w0, esi=w1 of the reply; reply bytes in the buffer
#define SYS_IPC_REPLY       12  // (caller, w0, w1, struct ipc_buf *): answers a thread in ipc_call -> 0
#define SYS_KFAST_STATS     13  // (struct kfast_stats *): the calling thread's arena figures -> 0
#define SYS_SPAWN           14  // (module index): starts a process from a boot module -> pid
                                //   (-EAGAIN past CHILDREN_PER_PROCESS, PROCESSES_MAX or THREADS_MAX)
#define SYS_WAIT            15  // (pid): waits for the process to end -> its exit code
#define SYS_MODULE_NAME     16  // (index, buf, cap): copies a module's name -> its length
#define SYS_SYSINFO         17  // (struct sysinfo *): kernel-wide figures -> 0
#define SYS_CMDLINE         18  // (buf, cap): copies the kernel command line -> its length
#define SYS_COUNT           19

// Timer ticks per second: the rate the kernel programs the PIT to
// (kernel/timer.c) and the unit of SYS_TIME and SYS_SLEEP.  10 ms a tick.
#define TICK_HZ             100

// The main thread's stack: it starts at USER_STACK_TOP with USER_STACK_SIZE
// mapped, and grows down on demand, a page at a time, to USER_STACK_TOP -
// USER_STACK_MAX - for a ring-3 touch and for a system call's copy alike.
#define USER_STACK_TOP      0xBFFF0000u
#define USER_STACK_SIZE     (64u * 1024)
#define USER_STACK_MAX      (1024u * 1024)

#define SYSCALL_GATE_INT80      (1u << 0)
#define SYSCALL_GATE_SYSENTER   (1u << 1)

#define IPC_ANY             0       // ipc_recv from any sender
#define IPC_BUF_MAX         512     // largest IPC buffer, in bytes
#define DEBUG_WRITE_MAX     1024    // largest debug_write, in bytes
// Limits on what ring 3 can make the kernel hold; past them SYS_SPAWN and
// SYS_THREAD_CREATE return -EAGAIN.  Processes count until collected by
// SYS_WAIT (or freed as orphans); threads count kernel threads too.
#define THREADS_PER_PROCESS 16
#define CHILDREN_PER_PROCESS 32     // a process's children, running or not yet waited for
#define PROCESSES_MAX       64      // processes in the system
#define THREADS_MAX         256     // threads in the system

// An optional IPC payload.  The sender's len bytes of data are copied to the
// receiver's data (at most its cap; more is -EMSGSIZE for the sender); on
// return the receiver's len holds the bytes received.
//
// Receiving is all or nothing.  ipc_recv and ipc_call check, before they
// take or wait for anything, that the receiver's struct ipc_buf and its cap
// bytes of data are writable; if not they return -EFAULT and no message is
// taken (a queued sender stays queued, a call sends nothing).  The payload
// and len are then written together at delivery, and only after both does
// the sender hear 0.  Should the receiver's memory still prove unwritable at
// delivery, nothing is written and both sides get -EFAULT: the sender (or
// replier) from its call, the waiting receiver (or caller) from its wait.
struct ipc_buf {
    void *data;
    unsigned len;
    unsigned cap;
};

// SYS_SYSINFO: what user programs (init, the tests, the fuzzer) may see.
struct sysinfo {
    unsigned test_mode;         // 1: the kernel was booted with `test`
    unsigned module_count;
    unsigned ticks;
    unsigned frames_free;
    unsigned heap_live_blocks;
    unsigned heap_bytes_in_use;
    unsigned threads;           // live threads, kernel threads included
    unsigned processes;
    unsigned kernel_suites;     // top-level KTAP results the kernel printed (test mode)
    unsigned heap_frames;       // frames the heap holds (free ones at its top go back)
    unsigned umip;              // 1: CR4.UMIP is on, sgdt/sidt/sldt/smsw/str fault in ring 3
    unsigned syscall_gates;     // SYSCALL_GATE_* this CPU offers
};

// SYS_KFAST_STATS: the calling thread's scratch arena (see include/kfast.h).
struct kfast_stats {
    unsigned block_size;        // KSTACK_SIZE
    unsigned in_use;            // arena bytes in use now (0 at every entry from ring 3)
    unsigned peak;              // most arena bytes in use at once (in the block or spilled)
    unsigned allocations;       // kfastmalloc calls that succeeded
    unsigned spills;            // allocations served from heap chunks
    unsigned refusals;          // allocations refused (strict mode, or no memory)
    unsigned resets;            // returns to user mode (each resets the arena; counted per entry)
    unsigned stack_low_water;   // fewest untouched bytes ever left between arena and stack
    unsigned collisions;        // canary breaks detected
    unsigned emptied;           // resets that found the arena in use and emptied it (counted
                                // by the reset itself; an entry that allocated nothing has none)
};

#endif
