// Kernel-stack blocks in their own virtual region, each mapped twice
// (include/mm/block.h says why).
//
// The region is cut into slots of 4 * KSTACK_SIZE: an unmapped gap, the
// stack view, an unmapped gap, the arena view (include/mm/block.h says
// why both gaps).  A stack that runs off the bottom of its block faults
// (a double fault, reported) instead of writing into the neighbouring
// slot's arena view.  Free slots are kept on a stack of indices, so allocation and freeing are
// O(1) plus one frame per page.  The region's page tables exist from boot (paging_init_heap) and are
// shared by every address space.
#include "kmalloc.h"
#include "mm/block.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "panic.h"
#include "percpu.h"
#include "x86.h"

#define SLOT_SIZE  (4u * KSTACK_SIZE)
#define SLOT_COUNT ((BLOCK_LIMIT - BLOCK_BASE) / SLOT_SIZE)
#define PAGES      (KSTACK_SIZE / PAGE_SIZE)

static uint16_t s_free[SLOT_COUNT];
static uint32_t s_free_count;
static bool s_ready;

static void
block_init(void)
{
    for (uint32_t i = 0; i < SLOT_COUNT; i++)
        s_free[i] = (uint16_t)(SLOT_COUNT - 1 - i);
    s_free_count = SLOT_COUNT;
    s_ready = true;
}

// Unmaps both views of the first `pages` pages and frees their frames.
static void
block_release(uintptr_t slot, uint32_t pages)
{
    uintptr_t stack = slot + KSTACK_SIZE, arena = stack + BLOCK_ARENA_OFFSET;
    for (uint32_t i = 0; i < pages; i++) {
        uintptr_t pa = vm_unmap(&g_kernel_space, arena + i * PAGE_SIZE);
        vm_unmap(&g_kernel_space, stack + i * PAGE_SIZE);
        if (pa)
            frame_free(pa);
    }
}

uint8_t *
block_alloc(void)
{
    uint32_t flags = irq_save();
    if (!s_ready)
        block_init();
    if (s_free_count == 0) {
        irq_restore(flags);
        return NULL;
    }
    uintptr_t slot = BLOCK_BASE + s_free[--s_free_count] * SLOT_SIZE;
    irq_restore(flags);
    uintptr_t stack = slot + KSTACK_SIZE, arena = stack + BLOCK_ARENA_OFFSET;
    for (uint32_t i = 0; i < PAGES; i++) {
        uintptr_t pa = frame_alloc();
        if (!pa || vm_map(&g_kernel_space, stack + i * PAGE_SIZE, pa, VM_WRITE) != 0 ||
            vm_map(&g_kernel_space, arena + i * PAGE_SIZE, pa, VM_WRITE) != 0) {
            // Undo: the pages mapped so far, and this one.
            if (pa) {
                vm_unmap(&g_kernel_space, stack + i * PAGE_SIZE);
                frame_free(pa);
            }
            block_release(slot, i);
            flags = irq_save();
            s_free[s_free_count++] = (uint16_t)((slot - BLOCK_BASE) / SLOT_SIZE);
            irq_restore(flags);
            return NULL;
        }
    }
    return (uint8_t *)stack;
}

void
block_free(uint8_t *stack_view)
{
    uintptr_t slot = (uintptr_t)stack_view - KSTACK_SIZE;
    if (slot < BLOCK_BASE || slot >= BLOCK_LIMIT || (slot - BLOCK_BASE) % SLOT_SIZE)
        panic("block_free(%p): not a block", (void *)stack_view);
    block_release(slot, PAGES);
    uint32_t flags = irq_save();
    s_free[s_free_count++] = (uint16_t)((slot - BLOCK_BASE) / SLOT_SIZE);
    irq_restore(flags);
}

// The arena view's page entries are copied into (or cleared from) the stack
// view's, one store and one invlpg per page: the claim and the give-back
// sit on the allocation and reset paths.
void
block_hide_from_stack(uintptr_t arena_from, uintptr_t arena_to)
{
    for (uintptr_t va = arena_from; va < arena_to; va += PAGE_SIZE) {
        uintptr_t stack = va - BLOCK_ARENA_OFFSET;
        g_block_ptes[(stack - BLOCK_BASE) >> 12] = 0;
        invlpg(stack);
    }
    // Another CPU that ran this thread may keep the page in its TLB: it
    // catches up before it can run the thread again (include/percpu.h).
    tlb_changed();
}

void
block_show_to_stack(uintptr_t arena_from, uintptr_t arena_to)
{
    for (uintptr_t va = arena_from; va < arena_to; va += PAGE_SIZE) {
        uint32_t pte = g_block_ptes[(va - BLOCK_BASE) >> 12];
        if (!(pte & PTE_PRESENT))
            panic("block_show_to_stack: arena page %#lx is not mapped", (unsigned long)va);
        // A stale entry for a hidden page is never in the TLB: no flush.
        g_block_ptes[(va - BLOCK_ARENA_OFFSET - BLOCK_BASE) >> 12] = pte;
    }
}
