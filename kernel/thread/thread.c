// Thread control blocks and kernel-stack blocks: creation, exit, reaping.
//
// A thread's control block comes from the heap (it persists); its block of
// KSTACK_SIZE bytes, aligned to its size, from the frame allocator.  A new
// thread's stack is built to look as if it had called switch_context, so the
// first switch to it "returns" into its start function.
#include "collision.h"
#include "gdt.h"
#include "kmalloc.h"
#include "kprintf.h"
#include "lib/string.h"
#include "mm/block.h"
#include "mm/frame.h"
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "panic.h"
#include "process.h"
#include "thread.h"
#include "trap.h"
#include "uapi/errno.h"
#include "x86.h"

static void (*s_user_start)(void);

// The boot thread's kernel-stack block: boot/multiboot.asm starts on its
// top.  Aligned to its size like every other block, so the arena code can
// find a block's base from any address inside it.
uint8_t g_boot_block[KSTACK_SIZE] ALIGNED(KSTACK_SIZE);

struct list_node g_all_threads = LIST_INIT(g_all_threads);
static struct thread s_boot_thread;
static uint32_t s_next_tid = 1;
static uint32_t s_thread_count;

static struct list_node s_exit_hooks = LIST_INIT(s_exit_hooks);
static struct list_node s_zombies = LIST_INIT(s_zombies);
static struct thread *s_reaper;
static struct waitq s_reaped; // woken after each reaping pass
static uint32_t s_record_count;

void
thread_init_boot(void)
{
    struct thread *t = &s_boot_thread;
    t->tid = s_next_tid++;
    strlcpy(t->name, "kmain", sizeof(t->name));
    t->state = THREAD_RUNNABLE;
    t->block = g_boot_block;
    t->static_block = true;
    t->pinned_to = 1; // kmain stays on the boot CPU, as kernel threads do
    list_init(&t->run_link);
    list_init(&t->timer_link);
    list_init(&t->ipc.link);
    list_push_back(&g_all_threads, &t->all_link);
    s_thread_count = 1;
    // The block is in use: paint only what lies well below the live frames.
    // One view only (it is static, outside the block region): no trap.
    kfast_arena_init(&t->arena, g_boot_block, 0, false, read_esp() - 1024, KFAST_STRICT);
    kfast_arena_activate(&t->arena);
    collision_init();
    waitq_init(&s_reaped);
    g_current = t;
}

// Allocates a thread whose stack, when first switched to, returns into start.
static struct thread *
thread_alloc(const char *name, void (*start)(void), uint32_t reserve_top)
{
    struct thread *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->block = block_alloc();
    if (!t->block) {
        kfree(t);
        return NULL;
    }
    uint8_t *arena = block_arena_view(t->block);
    // A 4 KiB block has no page to spare for the arena: no trap there.
    kfast_arena_init(&t->arena, arena, BLOCK_ARENA_OFFSET, KSTACK_SIZE > PAGE_SIZE,
                     (uintptr_t)arena + KSTACK_SIZE, kfast_default_strict());
    strlcpy(t->name, name, sizeof(t->name));
    t->state = THREAD_RUNNABLE;
    list_init(&t->run_link);
    list_init(&t->timer_link);
    list_init(&t->ipc.link);

    uint32_t *sp = (uint32_t *)(t->block + KSTACK_SIZE - reserve_top);
    *--sp = 0;               // start's return address: it never returns
    *--sp = (uint32_t)start; // switch_context's ret
    for (int i = 0; i < 4; i++)
        *--sp = 0;         // ebp, ebx, esi, edi
    *--sp = EFLAGS_KERNEL; // eflags: start begins with interrupts off
    t->saved_esp = (uint32_t)sp;

    uint32_t flags = irq_save();
    t->tid = s_next_tid++;
    list_push_back(&g_all_threads, &t->all_link);
    s_thread_count++;
    irq_restore(flags);
    return t;
}

static void
kthread_start(void)
{
    sti();
    g_current->entry(g_current->arg);
    thread_exit(0);
}

// pinned_to: a CPU's index + 1, or 0 for any.
static struct thread *
kthread_make(const char *name, void (*fn)(void *), void *arg, uint32_t pinned_to)
{
    struct thread *t = thread_alloc(name, kthread_start, 0);
    if (!t)
        return NULL;
    t->entry = fn;
    t->arg = arg;
    t->pinned_to = pinned_to;
    uint32_t flags = irq_save();
    thread_wake_new(t);
    irq_restore(flags);
    return t;
}

struct thread *
kthread_create(const char *name, void (*fn)(void *), void *arg)
{
    return kthread_make(name, fn, arg, 1);
}

struct thread *
kthread_create_on(unsigned cpu, const char *name, void (*fn)(void *), void *arg)
{
    return kthread_make(name, fn, arg, cpu + 1);
}

struct trap_frame *
thread_user_frame(struct thread *t)
{
    return (struct trap_frame *)(t->block + KSTACK_SIZE) - 1;
}

void
thread_set_user_start(void (*start)(void))
{
    s_user_start = start;
}

struct thread *
uthread_create(struct process *p, const char *name, uint32_t eip, uint32_t esp, uint32_t arg)
{
    KASSERT(s_user_start); // entry_init installs it before any process starts
    struct thread *t = thread_alloc(name, s_user_start, sizeof(struct trap_frame));
    if (!t)
        return NULL;
    t->proc = p;
    // Its kernel code runs with interrupts off, so nothing nests in it
    // halfway through an inline allocation: kept pages may go back
    // wherever esp comes near them (kernel/mm/kfast.c, kfast_trim).
    t->arena.may_trim = true;
    struct trap_frame *f = thread_user_frame(t);
    memset(f, 0, sizeof(*f));
    f->gs = f->fs = f->es = f->ds = USER_DS;
    f->eax = arg;
    f->eip = eip;
    f->cs = USER_CS;
    f->eflags = EFLAGS_IF | EFLAGS_FIXED;
    f->user_esp = esp;
    f->user_ss = USER_DS;
    uint32_t flags = irq_save();
    p->live_threads++;
    thread_wake_new(t);
    irq_restore(flags);
    return t;
}

struct thread *
thread_find(uint32_t tid)
{
    struct thread *t;
    thread_for_each(t)
        if (t->tid == tid && t->state != THREAD_DEAD)
            return t;
    return NULL;
}

uint32_t
thread_count(void)
{
    return s_thread_count;
}

void
thread_exit_hook_add(struct thread_exit_hook *h)
{
    uint32_t flags = irq_save();
    list_push_back(&s_exit_hooks, &h->link);
    irq_restore(flags);
}

void
thread_exit(int code)
{
    cli();
    struct thread *t = g_current;
    KASSERT(!t->static_block);
    t->exit_code = code;
    list_for_each(n, &s_exit_hooks)
        list_entry(n, struct thread_exit_hook, link)->fn(t);
    if (t->proc)
        process_thread_exited(t->proc, code);
    t->state = THREAD_DEAD;
    list_push_back(&s_zombies, &t->run_link);
    if (s_reaper && s_reaper->state == THREAD_BLOCKED)
        thread_wake(s_reaper);
    schedule();
    panic("thread_exit: dead thread %u (%s) was scheduled again", t->tid, t->name);
}

// Frees what a dead thread leaves: its block and its control block.  Runs
// in the reaper thread, never on the block being freed.
static void
thread_reap(struct thread *t)
{
    thread_note_stack_depth(t);
    list_remove(&t->all_link);
    s_thread_count--;
    if (t->arena.spill)
        kfast_spill_free_all(&t->arena);
    block_free(t->block);
    struct process *p = t->proc;
    struct thread_record *r = t->record;
    if (r) {
        r->thread = NULL;
        r->exit_code = t->exit_code & 0xFF;
        r->ended = true;
        waitq_wake_all(&r->wait);
        thread_record_put(r);
    }
    kfree(t);
    if (p)
        process_thread_reaped(p);
}

struct thread_record *
thread_record_create(struct thread *t)
{
    struct thread_record *r = kzalloc(sizeof(*r));
    if (!r)
        return NULL;
    kobject_init(&r->obj, CAP_TYPE_THREAD);
    r->obj.refs = 2; // the thread's and the caller's
    r->thread = t;
    r->tid = t->tid;
    strlcpy(r->name, t->name, sizeof(r->name));
    waitq_init(&r->wait);
    t->record = r;
    s_record_count++;
    return r;
}

void
thread_record_put(struct thread_record *r)
{
    KASSERT(r->obj.refs > 0);
    if (--r->obj.refs > 0)
        return;
    s_record_count--;
    kfree(r);
}

uint32_t
thread_record_count(void)
{
    return s_record_count;
}

int
thread_record_wait(struct thread_record *r, uint32_t ticks)
{
    if (r->thread == g_current)
        return -EDEADLK;
    kobject_get(&r->obj); // a handle closed meanwhile must not free it
    int err = waitq_wait_for(&r->wait, &r->ended, ticks, "wait: thread still running");
    int code = r->exit_code;
    thread_record_put(r);
    return err ? err : code;
}

static void
reaper_main(void *arg)
{
    (void)arg;
    for (;;) {
        kfast_reset_quiescent(); // a kernel thread empties its arena in its loop
        cli();
        struct list_node *n;
        while ((n = list_pop_front(&s_zombies)) != NULL)
            thread_reap(list_entry(n, struct thread, run_link));
        waitq_wake_all(&s_reaped);
        thread_block("reaper: no dead threads");
        sti();
    }
}

void
thread_join(uint32_t tid)
{
    uint32_t flags = irq_save();
    for (;;) {
        bool exists = false;
        struct thread *t;
        thread_for_each(t)
            exists |= t->tid == tid;
        if (!exists)
            break;
        waitq_wait(&s_reaped, "join: thread not reaped yet");
    }
    irq_restore(flags);
}

void
reaper_init(void)
{
    s_reaper = kthread_create("reaper", reaper_main, NULL);
    if (!s_reaper)
        panic("reaper_init: no memory for the reaper thread");
}

// The deepest kernel stack of any user thread reaped so far.
static struct stack_depth s_deepest_reaped;

void
thread_note_stack_depth(struct thread *t)
{
    if (!t->proc)
        return;
    uint32_t depth = kfast_stack_depth(&t->arena);
    if (depth > s_deepest_reaped.bytes) {
        s_deepest_reaped.bytes = depth;
        s_deepest_reaped.tid = t->tid;
        strlcpy(s_deepest_reaped.name, t->name, sizeof(s_deepest_reaped.name));
    }
}

void
thread_deepest_user_stack(struct stack_depth *out)
{
    uint32_t flags = irq_save();
    *out = s_deepest_reaped;
    struct thread *t;
    thread_for_each(t) {
        uint32_t depth = t->proc ? kfast_stack_depth(&t->arena) : 0;
        if (depth > out->bytes) {
            out->bytes = depth;
            out->tid = t->tid;
            strlcpy(out->name, t->name, sizeof(out->name));
        }
    }
    irq_restore(flags);
}

void
kfast_stats(struct thread *t, struct kfast_stats *out)
{
    if (!t)
        t = g_current;
    kfast_arena_stats(&t->arena, out);
    // Every exit to user mode resets a user thread's arena: its first start,
    // then one per completed kernel entry (the current one has not exited).
    if (t->proc)
        out->resets = t->kernel_entries;
}
