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
 * thread starts with ebx = the gates it may use (SYSCALL_GATE_*) and ecx =
 * its argument string (SYS_SPAWN; 0: none), as
 * Linux's auxiliary vector tells its vDSO; the runtime (user/lib) picks
 * sysenter when offered.  SYS_SYSINFO reports the same word.
 */
#ifndef TANDEM_UAPI_SYSCALL_H
#define TANDEM_UAPI_SYSCALL_H

// Capabilities.  Every object a system call acts on - an IPC endpoint, a
// process, a thread, a boot module, a device - is named by a handle: a small
// positive integer that indexes the calling process's own handle table.  A
// handle carries rights (CAP_*): what this holder may do with the object.
// Handles are per process; a number means nothing in another process, and a
// closed handle's number never names a later object (its slot's generation
// is part of it).  A handle that is not open in the caller, was closed, or
// names an object of another kind than the call takes gives -EBADF, all
// alike, so nothing can be learnt by guessing; a missing right gives -EPERM.
//
// What a process starts with: the first process (init, or `bench` in bench
// mode) holds one handle to every boot module (handles 1 .. module_count, in
// module order), then one to every device (CAP_TYPE_IRQ, _IOPORT, _MEMORY;
// SYS_CAP_INFO names them).  A spawned process starts with exactly the
// handles its parent passed to SYS_SPAWN, numbered 1, 2, ... in that order.
// Nothing else is ambient: SYS_ENDPOINT_CREATE makes new endpoints, and every
// other handle arrives from a parent, in a message, or from a call's result.

// These tables keep their hand layout: an entry's comment runs on over
// comment-only lines, which clang-format 14 would join to the #define with
// backslashes.
// clang-format off
#define SYS_EXIT            1   // (code): ends the whole process with code & 0xFF; does not return
#define SYS_THREAD_CREATE   2   // (entry, stack_top, arg): new thread in this process
                                //   -> a thread handle (CAP_WAIT)
                                //   (-EAGAIN past THREADS_PER_PROCESS or THREADS_MAX)
#define SYS_THREAD_EXIT     3   // (code): ends the calling thread; the last one ends the process.
                                //   SYS_WAIT on its handle returns code & 0xFF
#define SYS_YIELD           4   // (): lets other threads run -> 0
#define SYS_SLEEP           5   // (ticks): sleeps at least that many timer ticks -> 0
#define SYS_GETTID          6   // () -> the calling thread's id (for messages and reports only:
                                //   no system call takes a thread id)
#define SYS_TIME            7   // () -> timer ticks since boot (TICK_HZ per second)
#define SYS_DEBUG_WRITE     8   // (buf, len): writes to the console, prefixed with the thread -> len
#define SYS_IPC_SEND        9   // (endpoint, w0, w1, struct ipc_buf *): CAP_SEND; waits until a
                                //   receiver takes the message -> 0
#define SYS_IPC_RECV        10  // (endpoint, -, -, struct ipc_buf *): CAP_RECV; waits for a message
                                //   -> the badge of the sender's handle; ebx = w0, esi = w1,
                                //   edi = a reply handle if it was a call (else 0)
#define SYS_IPC_CALL        11  // (endpoint, w0, w1, struct ipc_buf *): CAP_SEND; sends, then waits
                                //   for the reply -> 0; ebx = w0, esi = w1 of the reply, its bytes
                                //   in the buffer
#define SYS_IPC_REPLY       12  // (reply, w0, w1, struct ipc_buf *): answers the call the reply
                                //   handle stands for -> 0 (see "Replies" below)
#define SYS_KFAST_STATS     13  // (struct kfast_stats *): the calling thread's arena figures -> 0
#define SYS_SPAWN           14  // (module, const int *handles, count, args): CAP_SPAWN on the module;
                                //   starts it as a new process whose table holds copies of the
                                //   count handles (each needs CAP_GRANT; count <= SPAWN_HANDLES_MAX,
                                //   -EINVAL past it); args: a string (NULL: none) of fewer than
                                //   SPAWN_ARGS_MAX bytes (-ENAMETOOLONG), which the child finds on
                                //   its stack, its address in ecx at the start
                                //   -> a process handle (CAP_WAIT | CAP_KILL | CAP_GRANT)
                                //   (-EAGAIN past CHILDREN_PER_PROCESS, PROCESSES_MAX or THREADS_MAX)
#define SYS_WAIT            15  // (process or thread, ticks): CAP_WAIT; waits at most ticks
                                //   (WAIT_FOREVER: no limit; 0: just looks) for it to end
                                //   -> its exit code (every wait on an ended one says the same),
                                //   or -ETIMEDOUT
#define SYS_CAP_INFO        16  // (handle, struct cap_info *): what a handle names -> 0
#define SYS_SYSINFO         17  // (struct sysinfo *): kernel-wide figures -> 0
#define SYS_CMDLINE         18  // (buf, cap): copies the kernel command line -> its length
#define SYS_ENDPOINT_CREATE 19  // (): a new endpoint -> a handle (CAP_SEND | CAP_RECV | CAP_GRANT)
#define SYS_CAP_DUP         20  // (handle, rights, badge): a new handle to the same object with
                                //   rights & the old ones (other bits are ignored), derived from
                                //   it (SYS_CAP_REVOKE); badge 0 keeps the old badge, another
                                //   value badges an unbadged handle (-EPERM if it has one;
                                //   -EINVAL above BADGE_MAX) -> the new handle.  A reply handle
                                //   cannot be duplicated (-EPERM): it answers one call once
#define SYS_CAP_CLOSE       21  // (handle): closes it -> 0.  Closing a reply handle drops the
                                //   call: the caller gets -EPIPE
#define SYS_CAP_REVOKE      22  // (handle): closes every handle derived from this one - its
                                //   duplicates and every copy passed on from it, in any process,
                                //   and theirs - but not the handle itself -> how many closed
#define SYS_KILL            23  // (process): CAP_KILL; ends it (exit code EXIT_KILLED unless it
                                //   had chosen one) -> 0, also for one that has ended already
#define SYS_IPC_REPLY_RECV  24  // (reply, w0, w1, struct ipc_buf *, endpoint): SYS_IPC_REPLY
                                //   (skipped if reply is 0), then SYS_IPC_RECV on endpoint with
                                //   the same buffer -> as SYS_IPC_RECV.  A reply that fails ends
                                //   the call with its error, except -EPIPE (the caller is gone),
                                //   which is ignored
#define SYS_CAP_LIST        25  // (int *handles, max): the caller's open handles, in slot order
                                //   (handle & 0xFF) -> how many are open (only max are stored)
#define SYS_NOTIFY_BIND     26  // (source, endpoint, badge): CAP_USE on the source (an IRQ line or
                                //   the kernel log), CAP_SEND on the endpoint; from now on the
                                //   source's events arrive there as notifications (see below);
                                //   endpoint 0 unbinds -> 0.  Closing the handle that bound
                                //   it unbinds it too
#define SYS_IRQ_ACK         27  // (irq): CAP_USE; the line, masked since its last notification,
                                //   may interrupt again -> 0
#define SYS_MEM_MAP         28  // (memory, vaddr): CAP_USE; maps the device memory at vaddr (page
                                //   aligned, in user space, not mapped yet), writable and
                                //   uncached -> 0 (-EBUSY if this handle has it mapped already).
                                //   Closing the handle unmaps it
#define SYS_LOG_READ        29  // (log, struct log_read *, buf, size): CAP_USE; copies the kernel
                                //   log from position pos on -> the bytes copied (see below)
#define SYS_CONSOLE_TAKE    30  // (log): CAP_USE; the kernel stops writing its console (serial and
                                //   VGA) and only logs, until this handle closes -> 0.  Panics
                                //   and test-mode output still go to the devices
#define SYS_THREAD_LIST     31  // (struct thread_info *, max): figures of every thread, in tid
                                //   order -> how many threads there are (only max are stored)
#define SYS_COUNT           32

// Timer ticks per second: the rate the kernel programs the PIT to
// (kernel/timer.c) and the unit of SYS_TIME and SYS_SLEEP.  10 ms a tick.
#define TICK_HZ             100

// The main thread's stack: it starts at USER_STACK_TOP with USER_STACK_SIZE
// mapped, and grows down on demand, a page at a time, to USER_STACK_TOP -
// USER_STACK_MAX - for a ring-3 touch and for a system call's copy alike.
// Only 16 KiB at first: 64 processes (PROCESSES_MAX) must fit in 16 MiB.
#define USER_STACK_TOP      0xBFFF0000u
#define USER_STACK_SIZE     (16u * 1024)
#define USER_STACK_MAX      (1024u * 1024)

#define SYSCALL_GATE_INT80      (1u << 0)
#define SYSCALL_GATE_SYSENTER   (1u << 1)

#define IPC_BUF_MAX         512     // largest IPC buffer, in bytes
#define DEBUG_WRITE_MAX     1024    // largest debug_write, in bytes
// Limits on what ring 3 can make the kernel hold; past them SYS_SPAWN and
// SYS_THREAD_CREATE return -EAGAIN.  Processes count until collected by
// SYS_WAIT (or freed as orphans); threads count kernel threads too.
#define THREADS_PER_PROCESS 16
#define CHILDREN_PER_PROCESS 32     // a process's children, running or not yet waited for
#define PROCESSES_MAX       64      // processes in the system
#define THREADS_MAX         256     // threads in the system

// Rights, in a handle's rights word.
#define CAP_SEND            (1u << 0)   // endpoint: send and call
#define CAP_RECV            (1u << 1)   // endpoint: receive
#define CAP_GRANT           (1u << 2)   // may be passed on (at spawn, in a message); on an
                                        //   endpoint: its messages may carry a handle
#define CAP_WAIT            (1u << 3)   // process, thread: wait for its end
#define CAP_KILL            (1u << 4)   // process: end it
#define CAP_SPAWN           (1u << 5)   // module: start a process from it
#define CAP_USE             (1u << 6)   // device (IRQ line, I/O ports, memory): drive it
#define CAP_RIGHTS_ALL      0x7Fu

// What a handle names (struct cap_info's type).
#define CAP_TYPE_ENDPOINT   1
#define CAP_TYPE_PROCESS    2
#define CAP_TYPE_THREAD     3
#define CAP_TYPE_MODULE     4
#define CAP_TYPE_IRQ        5
#define CAP_TYPE_IOPORT     6
#define CAP_TYPE_MEMORY     7
#define CAP_TYPE_REPLY      8   // a one-shot right to answer one call
#define CAP_TYPE_LOG        9   // the kernel log: read it, be notified of it, take the console

#define CAPS_PER_PROCESS    128     // open handles per process; past it -EMFILE
#define SPAWN_HANDLES_MAX   32      // handles one SYS_SPAWN passes
#define SPAWN_ARGS_MAX      256     // bytes of SYS_SPAWN's argument string, its NUL included
#define BADGE_MAX           0x7FFFFFFFu     // badges are returned in eax, so never negative
#define WAIT_FOREVER        0xFFFFFFFFu     // SYS_WAIT's "no time limit"
#define WAIT_TICKS_MAX      0x7FFFFFFFu     // SYS_WAIT's longest limit; above it (but
                                            //   WAIT_FOREVER) -EINVAL
#define EXIT_KILLED         137             // SYS_KILL's exit code (128 + 9, as a shell shows it)
// clang-format on

// SYS_CAP_INFO.
struct cap_info {
    unsigned type;   // CAP_TYPE_*
    unsigned rights; // CAP_*
    unsigned badge;  // 0: none
    unsigned base;   // IRQ: the line; I/O ports and memory: the first port or
                     //   physical address; process and thread: its id;
                     //   endpoint: a number no other endpoint has had (to tell
                     //   whether two handles name the same one)
    unsigned size;   // I/O ports and memory: how many ports or bytes
    char name[32];   // module, device, process or thread name, NUL-terminated
};

// Replies.  A call delivered to a receiver gives it a reply handle (in edi):
// the one right to answer that one call.  SYS_IPC_REPLY through it delivers
// the answer and closes it; so does an answer that fails in the caller's
// memory (both sides get -EFAULT) or table (-EMFILE).  A reply that fails on
// the replier's side (-EFAULT reading its buffer, -EMSGSIZE for the caller's,
// -EBADF or -EPERM for the handle it passes) leaves the handle open and the
// caller waiting.  A caller that dies turns its reply handle
// into one that answers -EPIPE; a replier that closes it, dies or loses it
// to revocation ends the call with -EPIPE.
//
// Room.  A message needs a free slot in the receiver's table for the
// handle it passes and, if it is a call, one for the reply handle.  A
// receive that finds a queued message without that room returns -EMFILE
// and the sender stays queued (it is delivered whole once there is room);
// a sender that finds a waiting receiver without it fails, and so does
// that receive, both with -EMFILE.  Nothing arrives in either case.
//
// Endpoints.  Any number of holders may send and receive.  When the last
// handle with CAP_RECV to an endpoint closes, its waiting senders and every
// later send or call get -EPIPE.  A thread blocked on an endpoint through a
// handle that is closed or revoked meanwhile returns -EBADF at once.
//
// Notifications.  An event source (an IRQ line, the kernel log) bound to an
// endpoint (SYS_NOTIFY_BIND) does not wait for a receiver: its badge is
// ORed into the endpoint's pending notifications, and the next receive -
// before any waiting sender - returns them as one message: w0 =
// IPC_NOTIFICATION, w1 = 0, no payload (len 0), no handle, no reply handle,
// and the badge = the OR of the badges of every source that fired since.
// Only the badge can be trusted: a client can send IPC_NOTIFICATION too.
// An IRQ line is masked from its interrupt until SYS_IRQ_ACK, so a driver
// sees one notification per interrupt it has not yet handled.  The log
// notifies when new text arrives (at most once a timer tick).
#define IPC_NOTIFICATION 0x4E4F5446u // "NOTF"
//
// An optional IPC payload.  The sender's len bytes of data are copied to the
// receiver's data (at most its size; more is -EMSGSIZE for the sender); on
// return the receiver's len holds the bytes received.
//
// Receiving is all or nothing.  ipc_recv and ipc_call check, before they
// take or wait for anything, that the receiver's struct ipc_buf and its size
// bytes of data are writable; if not they return -EFAULT and no message is
// taken (a queued sender stays queued, a call sends nothing).  The payload
// and len are then written together at delivery, and only after both does
// the sender hear 0.  Should the receiver's memory still prove unwritable at
// delivery, nothing is written and both sides get -EFAULT: the sender (or
// replier) from its call, the waiting receiver (or caller) from its wait.
struct ipc_buf {
    void *data;
    unsigned len;
    unsigned size; // the receiver's room for data, in bytes
    int handle;    // in: a handle to pass on (0: none); needs CAP_GRANT on it and
                   //   on the endpoint (a reply needs it only on the handle).
                   //   The receiver gets a copy derived from it.
                   // out: the handle received with the message (0: none).
                   //   A receiver with no struct ipc_buf cannot be told a
                   //   handle: a message passing one gets -EMSGSIZE, as one
                   //   too big for it would
};

// SYS_SYSINFO: what user programs (init, the tests, the fuzzer) may see.
struct sysinfo {
    unsigned test_mode; // 1: the kernel was booted with `test`
    unsigned module_count;
    unsigned ticks;
    unsigned frames_free;
    unsigned heap_live_blocks;
    unsigned heap_bytes_in_use;
    unsigned threads; // live threads, kernel threads included
    unsigned processes;
    unsigned kernel_suites; // top-level KTAP results the kernel printed (test mode)
    unsigned heap_frames;   // frames the heap holds (free ones at its top go back)
    unsigned umip;          // 1: CR4.UMIP is on, sgdt/sidt/sldt/smsw/str fault in ring 3
    unsigned syscall_gates; // SYSCALL_GATE_* this CPU offers
    unsigned handles;       // open handles, in every process
    unsigned objects;       // kernel objects alive that handles name: endpoints, processes,
                            //   thread records (boot modules and devices, which never
                            //   go, are not counted)
    unsigned ipc_fast;      // IPC messages delivered by the fast path since boot (a call
                            //   or reply of two words alone, its partner waiting: see
                            //   docs/design.md, "IPC on endpoints")
    unsigned cpu;           // the CPU the calling thread ran on when the kernel answered
};

// SYS_LOG_READ: the kernel keeps its log in a ring of LOG_RING_SIZE bytes
// and counts every byte ever written.  pos is where the reader is, in that
// count; the kernel copies from there, moves pos past what it copied and,
// if the ring has overwritten text the reader had not read, adds how many
// bytes to lost and skips to the oldest text it still has.
#define LOG_RING_SIZE (64u * 1024)
#define LOG_READ_MAX  1024 // bytes one SYS_LOG_READ copies at most
struct log_read {
    unsigned pos;     // in/out: the reader's position (start at 0)
    unsigned lost;    // out, added to: bytes overwritten before they were read
    unsigned dropped; // out: bytes the ring has overwritten since boot (the head
                      //   less LOG_RING_SIZE), read by someone or not: the
                      //   kernel never refuses to log, it overwrites
};

// SYS_THREAD_LIST: what `ps` and `top` show of each thread.
#define THREAD_STATE_RUNNABLE 0
#define THREAD_STATE_BLOCKED  1
#define THREAD_STATE_DEAD     2
struct thread_info {
    unsigned tid;
    unsigned pid;   // its process's id (0: a kernel thread)
    unsigned state; // THREAD_STATE_*
    char name[16];
    char process[16];      // its process's name ("" for a kernel thread)
    unsigned block_size;   // KSTACK_SIZE
    unsigned stack_in_use; // bytes of the block the stack uses now (at the last switch)
    unsigned stack_peak;   // most the stack has used (block size - low water)
    unsigned arena_in_use; // arena bytes in use (0 in a thread now in ring 3)
    unsigned arena_peak;
    unsigned stack_low_water; // fewest untouched bytes ever left between arena and stack
    unsigned spills;
    unsigned resets;
    unsigned collisions;
    unsigned ticks; // timer ticks it was running when one struck (its CPU share)
    unsigned kernel_entries;
};

// SYS_KFAST_STATS: the calling thread's scratch arena (see include/kfast.h).
struct kfast_stats {
    unsigned block_size;      // KSTACK_SIZE
    unsigned in_use;          // arena bytes in use now (0 at every entry from ring 3)
    unsigned peak;            // most arena bytes in use at once (in the block or spilled)
    unsigned allocations;     // kfastmalloc calls that succeeded
    unsigned spills;          // allocations served from heap chunks
    unsigned refusals;        // allocations refused (strict mode, or no memory)
    unsigned resets;          // returns to user mode (each resets the arena; counted per entry)
    unsigned stack_low_water; // fewest untouched bytes ever left between arena and stack
    unsigned collisions;      // canary breaks detected
    unsigned emptied;         // resets that found the arena in use and emptied it (counted
                              // by the reset itself; an entry that allocated nothing has none)
};

#endif
