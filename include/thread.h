/* Threads, processes and the scheduler. */
#ifndef TANDEM_THREAD_H
#define TANDEM_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"
#include "gdt.h"
#include "kfast.h"
#include "kobject.h"
#include "lib/list.h"
#include "mm/kfast_arena.h"
#include "percpu.h"

struct trap_frame;
struct addrspace;
struct process;
struct cap;
struct cap_table;
struct endpoint;

enum thread_state {
    THREAD_RUNNABLE, // running, or on the run queue
    THREAD_BLOCKED,  // waiting: see wait_reason
    THREAD_DEAD,     // exited; the reaper frees it
};

#define THREAD_NAME_MAX 16

// A wait that a wake-up ends (sleep, IPC, process exit, reaping).
struct waitq {
    struct list_node waiters;
};

enum ipc_phase {
    IPC_IDLE,
    IPC_SENDING,        // queued on an endpoint's senders
    IPC_RECEIVING,      // queued on an endpoint's receivers
    IPC_AWAITING_REPLY, // in ipc_call, message delivered, waiting for the reply
};

// A range of a receiver's user memory, resolved to where it lies in the
// direct map: at most two pieces, as IPC_BUF_MAX and a struct ipc_buf each
// fit in two pages.  Resolving checks every page (user, writable) once;
// writing then costs a memcpy, and a delivery can check everything it will
// write before it writes anything (kernel/syscall/ipc.c).
struct user_span {
    uint8_t *piece[2];
    uint32_t first; // bytes in piece[0]; the rest are in piece[1]
};

// The buffers a thread's last receive or call checked, and its address
// space's unmap count then: a server names the same ones every time, and
// while nothing was unmapped they need no new check, and the struct
// ipc_buf still lies where it was resolved.
struct ipc_checked {
    uintptr_t meta; // the struct ipc_buf (0: none)
    uintptr_t data;
    uint32_t size;
    uint32_t unmaps;            // struct addrspace's unmaps at the check
    struct user_span meta_span; // where the struct ipc_buf lies
};

// IPC state of one thread (kernel/syscall/ipc.c, kernel/cap/endpoint.c).
struct ipc_state {
    enum ipc_phase phase;
    struct list_node link;      // on its endpoint's senders or receivers
    struct endpoint *ep;        // sending or receiving: the endpoint it waits on
    struct cap *via;            // ... and the handle it came through (closing it ends the wait)
    uint32_t w0, w1;            // the message words (in or out)
    const void *payload;        // sender: bounce buffer in its own arena
    uint32_t len;               // payload bytes
    struct cap_transfer *grant; // sender: the handle it passes on (in its arena), or NULL
    uintptr_t ubuf;             // receiver / caller: its user buffer
    uint32_t size;              // its capacity
    uintptr_t ubuf_meta;        // where its struct ipc_buf is (0: no struct): len and handle
    int32_t result;             // set by the peer that completes the rendezvous
    uint32_t badge;             // receiver: the badge of the sender's handle
    int32_t reply_handle;       // receiver of a call: the reply handle made for it
    struct cap *reply_cap;      // caller awaiting its reply: the server's reply slot
    bool call;                  // sender: an ipc_call (wants a reply)
    struct ipc_checked checked;
};

// What a thread handle names (SYS_THREAD_CREATE): it outlives the thread,
// so a waiter can still read the exit code after the reaper freed the TCB.
struct thread_record {
    struct kobject obj;    // CAP_TYPE_THREAD; the thread holds one reference until reaped
    struct thread *thread; // NULL once reaped
    uint32_t tid;
    char name[THREAD_NAME_MAX];
    bool ended;
    int exit_code;
    struct waitq wait; // threads in SYS_WAIT on it
};

struct thread {
    uint32_t saved_esp; // kernel esp while switched out (switch.asm: offset 0)
    struct kfast_arena arena;
    uint32_t tid;
    char name[THREAD_NAME_MAX];
    enum thread_state state;
    const char *wait_reason; // why it is blocked, for reports and GDB
    struct process *proc;    // NULL for kernel threads
    uint8_t *block;          // its KSTACK_SIZE-aligned kernel-stack block
    bool static_block;       // the boot thread's: never freed
    bool killed;             // dies at its next exit to user mode or wake-up
    int exit_code;
    uint32_t wake_tick;           // sleeping, or in a timed wait: the tick to wake at
    struct list_node timer_link;  // on the timed waits while in one
    uint32_t pinned_to;           // the index + 1 of the only CPU it may run on; 0: any
    struct thread_record *record; // named by a thread handle, or NULL
    uint32_t kernel_entries;      // entries from ring 3
    uint32_t ticks_run;           // timer ticks that found it running (its CPU share)
    void (*entry)(void *);        // kernel threads: what to run
    void *arg;
    struct list_node run_link; // run queue or a wait queue
    struct list_node all_link; // every thread
    struct ipc_state ipc;
};

struct process {
    struct kobject obj; // CAP_TYPE_PROCESS: one reference while it runs, one per
                        //   handle, one per kernel waiter; the last frees it
    uint32_t pid;       // the tid of its first thread
    char name[THREAD_NAME_MAX];
    struct addrspace *as;
    struct process *parent;
    uint32_t children;          // its processes not yet freed (CHILDREN_PER_PROCESS)
    struct cap_table *caps;     // its handles (kernel/cap/table.c)
    bool has_ports;             // iomap allows a port: load it when a thread of it runs
    uint8_t iomap[IOMAP_BYTES]; // the ports its I/O port handles allow (kernel/cap/ioport.c)
    uint32_t live_threads;      // not yet exited
    uint32_t unreaped_threads;  // exited, block not yet freed
    bool exited;                // every thread gone, the address space and handles freed
    bool exit_code_set;         // exit() or the last thread chose the exit code
    int exit_code;
    struct waitq exit_wait; // threads in wait() on this process
    struct list_node all_link;
};

// The thread the running CPU runs, and whether a switch is due on it at the
// next safe point: both per CPU (include/percpu.h).
#define g_current      THIS_CPU(current)
#define g_need_resched THIS_CPU(need_resched)

// The boot thread: kmain's thread, on g_boot_block (boot/multiboot.asm
// starts on its top; kernel/thread/thread.c defines it).  Declared with its
// size, which GDB's helpers read as KSTACK_SIZE.
extern uint8_t g_boot_block[KSTACK_SIZE];
void thread_init_boot(void);
// Starts the scheduler's own threads (an idle thread per CPU, the reaper).
void sched_init(void);
// An AP's entry into the scheduler, once bring-up releases it (kmain's
// order): its double-fault task, its interrupts and timer, then it becomes
// its idle thread, holding the big kernel lock as every thread does (the
// bring-up stack it ran on until now is left behind).
NORETURN void sched_ap_start(unsigned cpu);
// Waits, letting go of the big kernel lock, until every AP runs its idle
// thread, so that every CPU runs threads before anything else does.
void sched_wait_for_aps(void);

// A kernel thread running fn(arg), runnable at once; NULL if memory is short.
// It runs on the boot CPU, as kmain does: there the PIT ticks and the 8259's
// interrupts arrive, and the kernel's own code and tests expect them to
// nest in it.  User threads run on any CPU.
struct thread *kthread_create(const char *name, void (*fn)(void *), void *arg);
// The same, run only on CPU cpu (an index in g_smp.cpus, which must be online).
struct thread *kthread_create_on(unsigned cpu, const char *name, void (*fn)(void *), void *arg);
// The trap frame at the top of a user thread's block: what it returns to ring 3 with.
struct trap_frame *thread_user_frame(struct thread *t);
// What a new user thread runs first, in the kernel: the entry layer's way
// out to ring 3 through the thread's frame (kernel/entry/exit.c installs
// it; it must not return).
void thread_set_user_start(void (*start)(void));
// A user thread of p that starts in ring 3 at eip with esp and eax = arg.
struct thread *uthread_create(struct process *p, const char *name, uint32_t eip, uint32_t esp,
                              uint32_t arg);
// Ends the calling thread.
NORETURN void thread_exit(int code);
struct thread *thread_find(uint32_t tid);
// Waits until thread tid has been reaped (its block and TCB freed).
void thread_join(uint32_t tid);
uint32_t thread_count(void);
uint32_t process_count(void);
// How deep a user thread's kernel stack went (from its block's paint):
// what KFAST_STACK_WORST is checked against after the tests.
struct stack_depth {
    uint32_t bytes; // below the top of the block
    uint32_t tid;
    char name[THREAD_NAME_MAX];
};
// Notes t's depth as it is reaped (user threads only).
void thread_note_stack_depth(struct thread *t);
// The deepest of every user thread reaped so far and of those alive.
void thread_deepest_user_stack(struct stack_depth *out);
// Walks every thread (for reports and the GDB helpers' tests).
#define thread_for_each(t)                          \
    for (struct list_node *n_ = g_all_threads.next; \
         n_ != &g_all_threads && ((t) = list_entry(n_, struct thread, all_link)); n_ = n_->next)
extern struct list_node g_all_threads;

// The timer's tick hook (sched_init installs it): wakes the sleepers that
// are due, asks for a switch if anyone else wants the CPU.
void sched_tick(void);
// An AP's own tick (its local APIC timer; the entry layer calls it): asks
// for a switch if anyone else wants the CPU.  The boot CPU's PIT keeps the
// time and wakes the sleepers.
void sched_local_tick(void);
// The reschedule IPI another CPU sent because it queued a thread: a switch
// at this CPU's next safe point.
void sched_reschedule_ipi(void);
// Sends the reschedule IPI to every other CPU running a thread of p, which
// reloads p's I/O bitmap and catches up with TLB changes before it returns
// to ring 3 (p's ports or mappings changed).
void sched_kick_process(struct process *p);
// Threads each CPU switched to so far (its dispatch count).
uint32_t sched_dispatches(unsigned cpu);

// The context switch (kernel/thread/switch.asm): saves the callee-saved
// registers and EFLAGS on the current stack, stores esp in *save_esp and
// resumes the thread whose esp is next_esp.  Only the scheduler calls it.
void switch_context(uint32_t *save_esp, uint32_t next_esp);

// Scheduling.  Call with interrupts off.
void schedule(void);
// schedule() from a thread that may have dropped the big kernel lock: it
// takes the lock for the switch if the CPU did not hold it, and gives it
// back when the thread runs again.
void schedule_with_lock(void);
void thread_yield(void);
// Pins the calling kernel thread to CPU cpu (online) and returns running
// there: the switch away happens now, and the CPU it lands on is checked.
// With the big kernel lock, which every CPU takes before it runs a thread,
// this is a migration like any other, made on purpose (the migration storm,
// tests/kernel/storm_test.c).
void thread_move_to(unsigned cpu);
// Pins thread t, which no CPU runs now (queued or blocked), to CPU cpu
// (online): from its next dispatch on it runs only there.
void thread_pin(struct thread *t, unsigned cpu);
// Blocks the current thread until thread_wake; returns false if it was
// killed meanwhile, or at once if it was killed already (by another CPU,
// while it ran in ring 3).
bool thread_block(const char *reason);
// The same, but runs next at once, past the run queue: IPC's direct switch
// to the partner it has just handed a message, on this CPU (under the big
// kernel lock, like every switch; one pinned to another CPU is woken there
// instead).  next must be blocked on nothing but its own wait (no wait
// queue), and becomes runnable.
bool thread_block_run(struct thread *next, const char *reason);
void thread_wake(struct thread *t);
// Puts a newly made thread on the run queue.
void thread_wake_new(struct thread *t);
void reaper_init(void);
// Sleeps at least ticks timer ticks.
void thread_sleep(uint32_t ticks);
void waitq_init(struct waitq *q);
// Blocks on q until woken; returns false if killed meanwhile.
bool waitq_wait(struct waitq *q, const char *reason);
// Waits on q until *done turns true, for at most ticks (WAIT_FOREVER: no
// limit; 0: only looks): 0, -ETIMEDOUT, or -EINTR if the thread is killed
// meanwhile.  Interrupts off.
int waitq_wait_for(struct waitq *q, const bool *done, uint32_t ticks, const char *reason);
void waitq_wake_all(struct waitq *q);

// What a layer above must do when a thread ends (IPC tells the dying
// thread's peers): added once at init, run by thread_exit in the dying
// thread with interrupts off, in the order added, before the process hears
// of it.
struct thread_exit_hook {
    void (*fn)(struct thread *t);
    struct list_node link;
};
void thread_exit_hook_add(struct thread_exit_hook *h);

// Thread records (kernel/thread/thread.c): a record for user thread t,
// holding one reference for t and one for the caller; NULL if memory is
// short.  The reaper fills in the exit code and drops t's reference.
struct thread_record *thread_record_create(struct thread *t);
void thread_record_put(struct thread_record *r);
uint32_t thread_record_count(void);
// Waits at most ticks (WAIT_FOREVER: no limit) for r's thread to be
// reaped; its exit code, -ETIMEDOUT, or -EINTR if killed meanwhile.
int thread_record_wait(struct thread_record *r, uint32_t ticks);

// Reports a broken canary in t's arena: recovers to an armed test point or
// panics (kernel/thread/collision.c).
NORETURN void kfast_collision(struct thread *t, uint32_t esp, const char *where);

// Checks the canary of the running thread's arena and reports a collision,
// saying where it was found, if it is broken.  Called at every switch (for
// the thread leaving), exit to user mode and nested kernel entry: one load
// and one compare when all is well.
static inline void
kfast_check(const char *where)
{
    if (unlikely(*(volatile uint32_t *)g_kfast.top != KFAST_CANARY)) {
        uint32_t esp;
        __asm__ volatile("mov %%esp, %0" : "=r"(esp));
        kfast_collision(g_current, esp, where);
    }
}

#endif
