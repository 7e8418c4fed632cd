// Device memory for user-space drivers: a memory handle with CAP_USE maps
// its physical range into its process, uncached (the device sees every
// write) and marked as device memory, so nothing ever frees it as a frame.
// The mapping belongs to the handle: closing it - or a revoke - unmaps it.
#include "cap.h"
#include "mm/paging.h"
#include "thread.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

// Unmaps the first n pages of p's mapping at va (for an undo, or the
// close); p's threads on other CPUs flush their TLBs at once.
static void
unmap_pages(struct process *p, uintptr_t va, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        vm_unmap(p->as, va + i * PAGE_SIZE);
    sched_kick_process(p);
}

int
cap_memory_map(struct cap *c, uintptr_t vaddr)
{
    struct process *p = c->table->owner;
    uint32_t base, size;
    boot_object_range(c->obj, &base, &size);
    uint32_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    if (c->mapped_at)
        return -EBUSY;
    if (vaddr & (PAGE_SIZE - 1) || vaddr < USER_BASE || vaddr >= USER_TOP ||
        pages * PAGE_SIZE > USER_TOP - vaddr)
        return -EINVAL;
    // Not over the main stack's growth window (it is the stack's to map).
    if (vaddr < USER_STACK_TOP && vaddr + pages * PAGE_SIZE > USER_STACK_TOP - USER_STACK_MAX)
        return -EINVAL;
    for (uint32_t i = 0; i < pages; i++) {
        uintptr_t pa;
        uint32_t flags;
        if (vm_query(p->as, vaddr + i * PAGE_SIZE, &pa, &flags))
            return -EINVAL; // something is there already
    }
    for (uint32_t i = 0; i < pages; i++) {
        int err = vm_map(p->as, vaddr + i * PAGE_SIZE, base + i * PAGE_SIZE,
                         VM_USER | VM_WRITE | VM_DEVICE);
        if (err) {
            unmap_pages(p, vaddr, i);
            return err;
        }
    }
    c->mapped_at = vaddr;
    return 0;
}

void
cap_memory_unmap(struct cap *c)
{
    struct process *p = c->table->owner;
    if (!c->mapped_at)
        return;
    uint32_t base, size;
    boot_object_range(c->obj, &base, &size);
    if (p->as) // an ended process's space is gone already
        unmap_pages(p, c->mapped_at, (size + PAGE_SIZE - 1) / PAGE_SIZE);
    c->mapped_at = 0;
}
