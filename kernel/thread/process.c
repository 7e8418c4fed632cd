// Processes: loading a program from a boot module, exit, kill, wait.
//
// A process ends when its last thread exits; its address space and its
// handles are freed when the reaper has freed the last thread's block, and
// only then does wait() return, so a parent that waited sees every counter
// settled.  The struct itself is a kernel object (include/kobject.h): it
// holds one reference on itself while it runs, each handle to it one more,
// and it is freed when the last goes.
#include "boot.h"
#include "cpu.h"
#include "kmalloc.h"
#include "kprintf.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "panic.h"
#include "process.h"
#include "thread/elf.h"
#include "trap.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

static struct list_node s_processes = LIST_INIT(s_processes);
static uint32_t s_process_count;
static void (*s_end_hook)(struct process *p);

void
process_set_end_hook(void (*fn)(struct process *p))
{
    s_end_hook = fn;
}

uint32_t
process_count(void)
{
    return s_process_count;
}

void
process_put(struct process *p)
{
    uint32_t flags = irq_save();
    KASSERT(p->obj.refs > 0);
    if (--p->obj.refs == 0) {
        list_remove(&p->all_link);
        s_process_count--;
        if (p->parent)
            p->parent->children--;
        kfree(p);
    }
    irq_restore(flags);
}

// -EAGAIN if one more process of parent's (NULL: the kernel's, which only
// the system-wide limits bound) would pass a limit of uapi/syscall.h.
static int
process_limits_check(const struct process *parent)
{
    if (s_process_count >= PROCESSES_MAX || thread_count() >= THREADS_MAX)
        return -EAGAIN;
    if (parent && parent->children >= CHILDREN_PER_PROCESS)
        return -EAGAIN;
    return 0;
}

// Maps and fills one segment: fresh zeroed frames, file bytes copied in
// through the direct map (the new address space need not be active).
static int
load_segment(struct addrspace *as, const struct elf_segment *s, const uint8_t *file)
{
    uint32_t first = ALIGN_DOWN(s->vaddr, PAGE_SIZE);
    uint32_t last = ALIGN_UP(s->vaddr + s->memsz, PAGE_SIZE);
    for (uint32_t va = first; va < last; va += PAGE_SIZE) {
        uintptr_t pa = frame_alloc();
        if (!pa)
            return -ENOMEM;
        uint8_t *page = P2V(pa);
        memset(page, 0, PAGE_SIZE);
        // The part of [vaddr, vaddr + filesz) that falls in this page.
        uint32_t from = va > s->vaddr ? va : s->vaddr;
        uint32_t to = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE : s->vaddr + s->filesz;
        if (from < to)
            memcpy(page + (from - va), file + s->offset + (from - s->vaddr), to - from);
        if (vm_map(as, va, pa, VM_USER | (s->writable ? VM_WRITE : 0)) != 0) {
            frame_free(pa);
            return -ENOMEM;
        }
    }
    return 0;
}

bool
process_grow_stack(struct process *p, uintptr_t addr, uint32_t error)
{
    if (!p || (error & PF_PRESENT) || addr >= USER_STACK_TOP - USER_STACK_SIZE ||
        addr < USER_STACK_TOP - USER_STACK_MAX)
        return false;
    uintptr_t pa = frame_alloc();
    if (!pa)
        return false;
    memset(P2V(pa), 0, PAGE_SIZE);
    if (vm_map(p->as, ALIGN_DOWN(addr, PAGE_SIZE), pa, VM_USER | VM_WRITE) != 0) {
        frame_free(pa);
        return false;
    }
    return true;
}

static int
map_stack(struct addrspace *as)
{
    for (uint32_t va = USER_STACK_TOP - USER_STACK_SIZE; va < USER_STACK_TOP; va += PAGE_SIZE) {
        uintptr_t pa = frame_alloc();
        if (!pa)
            return -ENOMEM;
        memset(P2V(pa), 0, PAGE_SIZE);
        if (vm_map(as, va, pa, VM_USER | VM_WRITE) != 0) {
            frame_free(pa);
            return -ENOMEM;
        }
    }
    return 0;
}

// Puts args (with its NUL) at the top of p's stack, 16-byte aligned;
// returns where, which is also the first thread's stack top.  The top page
// is mapped (map_stack) and SPAWN_ARGS_MAX is far below a page.
static uint32_t
push_args(struct process *p, const char *args)
{
    uint32_t len = strlen(args) + 1;
    uint32_t at = ALIGN_DOWN(USER_STACK_TOP - len, 16);
    uintptr_t pa;
    uint32_t flags;
    bool mapped = vm_query(p->as, at, &pa, &flags);
    KASSERT(mapped && len <= SPAWN_ARGS_MAX);
    memcpy(P2V(pa), args, len);
    return at;
}

struct process *
process_spawn(const struct spawn_request *req, int *err)
{
    unsigned index = req->module;
    struct process *parent = req->parent;
    if (index >= g_boot.module_count) {
        *err = -ENOENT;
        return NULL;
    }
    if ((*err = process_limits_check(parent)) != 0)
        return NULL;
    const struct boot_module *m = &g_boot.modules[index];
    // The parsed image lives only for this call, but it comes from the heap,
    // not the arena: spawning must not depend on the arena's mode.  The boot
    // thread starts init, and its static block has no page the arena can
    // claim, so a strict arena (kfast=strict) would refuse the image and
    // init would never start; so would a 4 KiB block's.  One kmalloc is
    // noise next to the address space, frames and thread a spawn makes.
    struct elf_image *img = kmalloc(sizeof(*img));
    const char *why = "no memory";
    struct process *p = NULL;
    static const struct elf_limits limits = {
        USER_BASE,
        USER_TOP,
        USER_STACK_TOP - USER_STACK_MAX,
        USER_STACK_TOP,
    };
    *err = img ? elf_parse(P2V(m->start), m->end - m->start, &limits, img, &why) : -ENOMEM;
    if (*err) {
        kprintf("spawn: module %u (%s) refused: %s\n", index, m->name, why);
        goto out;
    }
    *err = -ENOMEM;
    KASSERT(s_end_hook); // the capability layer installs it at boot
    p = kzalloc(sizeof(*p));
    if (!p)
        goto out;
    p->as = as_create();
    if (!p->as)
        goto fail;
    for (unsigned i = 0; i < img->segment_count; i++)
        if (load_segment(p->as, &img->segments[i], P2V(m->start)) != 0)
            goto fail;
    if (map_stack(p->as) != 0)
        goto fail;
    *err = 0;
    strlcpy(p->name, m->name, sizeof(p->name));
    kobject_init(&p->obj, CAP_TYPE_PROCESS); // the reference it holds while it runs
    p->parent = parent;
    waitq_init(&p->exit_wait);
    if ((*err = req->setup(p, req->setup_arg)) != 0)
        goto fail;
    uint32_t args_at = req->args ? push_args(p, req->args) : 0;
    struct thread *t =
        uthread_create(p, m->name, img->entry, args_at ? args_at : USER_STACK_TOP, 0);
    if (!t) {
        *err = -ENOMEM;
        s_end_hook(p); // undoes setup: closes the handles it gave
        goto fail;
    }
    thread_user_frame(t)->ebx = syscall_gates(); // the ABI's words for the runtime
    thread_user_frame(t)->ecx = args_at;
    p->pid = t->tid;
    uint32_t flags = irq_save();
    list_push_back(&s_processes, &p->all_link);
    s_process_count++;
    if (parent)
        parent->children++;
    irq_restore(flags);
    *err = 0;
    goto out;
fail:
    if (p->as)
        as_destroy(p->as);
    kfree(p);
    p = NULL;
out:
    kfree(img);
    return p;
}

// The exit code (0-255, so wait() can tell it from an error), unless exit() or the last thread chose it already.
static void
process_set_exit_code(struct process *p, int code)
{
    if (!p->exit_code_set) {
        p->exit_code = code & 0xFF;
        p->exit_code_set = true;
    }
}

void
process_thread_exited(struct process *p, int code)
{
    p->live_threads--;
    p->unreaped_threads++;
    if (p->live_threads == 0)
        process_set_exit_code(p, code); // the last thread decides
}

// The last thread's block is free: free the address space, tell the waiter.
void
process_thread_reaped(struct process *p)
{
    p->unreaped_threads--;
    if (p->live_threads != 0 || p->unreaped_threads != 0)
        return;
    if (as_current() == p->as)
        as_activate(&g_kernel_space);
    as_destroy(p->as);
    p->as = NULL;
    p->exited = true;
    s_end_hook(p); // its handles close (which may free other processes)
    // Children outlive their parent; nobody counts them any more.
    list_for_each(n, &s_processes) {
        struct process *c = list_entry(n, struct process, all_link);
        if (c->parent == p) {
            c->parent = NULL;
            p->children--;
        }
    }
    waitq_wake_all(&p->exit_wait);
    process_put(p); // the reference it held while it ran
}

int
process_wait(struct process *p, uint32_t ticks)
{
    if (p == g_current->proc)
        return -EDEADLK;
    uint32_t flags = irq_save();
    kobject_get(&p->obj); // a handle closed meanwhile must not free it
    int err = waitq_wait_for(&p->exit_wait, &p->exited, ticks, "wait: process still running");
    int code = p->exit_code;
    irq_restore(flags);
    process_put(p);
    return err ? err : code;
}

// Marks every thread of p but `except` killed and wakes it: each dies at
// its next exit to user mode or wake-up.
static void
process_kill_threads(struct process *p, struct thread *except)
{
    struct thread *t;
    thread_for_each(t) {
        if (t->proc == p && t != except && t->state != THREAD_DEAD) {
            t->killed = true;
            thread_wake(t);
        }
    }
}

void
process_kill(struct process *p)
{
    if (p == g_current->proc)
        process_exit(EXIT_KILLED);
    uint32_t flags = irq_save();
    if (p->live_threads > 0) {
        process_set_exit_code(p, EXIT_KILLED);
        process_kill_threads(p, NULL);
    }
    irq_restore(flags);
}

void
process_exit(int code)
{
    cli();
    struct thread *self = g_current;
    process_set_exit_code(self->proc, code);
    process_kill_threads(self->proc, self);
    thread_exit(code);
}
