// Processes: loading a program from a boot module, exit, wait.
//
// A process ends when its last thread exits; its address space is freed
// when the reaper has freed the last thread's block, and only then does
// wait() return, so a parent that waited sees every counter settled.
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

uint32_t
process_count(void)
{
    return s_process_count;
}

struct process *
process_find(uint32_t pid)
{
    list_for_each(n, &s_processes) {
        struct process *p = list_entry(n, struct process, all_link);
        if (p->pid == pid)
            return p;
    }
    return NULL;
}

static void
process_free(struct process *p)
{
    list_remove(&p->all_link);
    s_process_count--;
    if (p->parent)
        p->parent->children--;
    kfree(p);
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

struct process *
process_spawn(unsigned index, struct process *parent, int *err)
{
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
        USER_BASE, USER_TOP, USER_STACK_TOP - USER_STACK_MAX, USER_STACK_TOP,
    };
    *err = img ? elf_parse(P2V(m->start), m->end - m->start, &limits, img, &why) : -ENOMEM;
    if (*err) {
        kprintf("spawn: module %u (%s) refused: %s\n", index, m->name, why);
        goto out;
    }
    *err = -ENOMEM;
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
    strlcpy(p->name, m->name, sizeof(p->name));
    p->parent = parent;
    p->has_waiter = parent == NULL;     // the kernel waits for what it starts
    waitq_init(&p->exit_wait);
    struct thread *t = uthread_create(p, m->name, img->entry, USER_STACK_TOP, 0);
    if (!t)
        goto fail;
    thread_user_frame(t)->ebx = syscall_gates();     // the ABI's word for the runtime
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

void
process_thread_exited(struct process *p, int code)
{
    code &= 0xFF;           // exit codes are 0-255, so wait() can tell them from errors
    p->live_threads--;
    p->unreaped_threads++;
    if (p->live_threads == 0 && !p->exit_code_set) {       // the last thread decides
        p->exit_code = code;
        p->exit_code_set = true;
    }
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
    // Children outlive their parent as orphans that nobody will wait for:
    // those already finished go now, the others when they finish.
    for (struct list_node *n = s_processes.next, *next; n != &s_processes; n = next) {
        next = n->next;
        struct process *c = list_entry(n, struct process, all_link);
        if (c->parent == p) {
            c->parent = NULL;           // p is going: nobody counts c any more
            p->children--;
            if (c->exited && !c->has_waiter)
                process_free(c);
        }
    }
    waitq_wake_all(&p->exit_wait);
    if (!p->parent && !p->has_waiter)
        process_free(p);
}

int
process_wait(struct process *p)
{
    uint32_t flags = irq_save();
    p->has_waiter = true;
    while (!p->exited) {
        // A killed waiter (its process is ending) gives up at once, so the
        // kill is not held up by a child that may never end.  The child is
        // then nobody's to collect: it is freed when it ends after its
        // parent, or with its parent's reaping (process_thread_reaped).
        if (g_current->killed || !waitq_wait(&p->exit_wait, "wait: process still running")) {
            p->has_waiter = false;
            irq_restore(flags);
            return -EINTR;
        }
    }
    int code = p->exit_code;
    process_free(p);
    irq_restore(flags);
    return code;
}

void
process_exit(int code)
{
    cli();
    struct thread *self = g_current, *t;
    struct process *p = self->proc;
    if (!p->exit_code_set) {
        p->exit_code = code & 0xFF;
        p->exit_code_set = true;
    }
    thread_for_each(t) {
        if (t->proc == p && t != self && t->state != THREAD_DEAD) {
            t->killed = true;
            thread_wake(t);
        }
    }
    thread_exit(code);
}
