/* Kernel-stack blocks: KSTACK_SIZE bytes per thread, mapped twice.
 *
 *   slot + 0                unmapped: a stack running off its block faults
 *   slot + KSTACK_SIZE      stack view: what esp, TSS.esp0 and the trap frame use
 *   slot + 2 * KSTACK_SIZE  unmapped: nothing overruns from one view into the other
 *   slot + 3 * KSTACK_SIZE  arena view: what kfastmalloc hands out
 *   slot + 4 * KSTACK_SIZE  the next slot's unmapped gap
 *
 * Both views map the same frames, page for page.  When the arena claims a
 * page, the page disappears from the stack view (kfast's guard): a stack
 * that grows into it takes a page fault at the instruction that does it,
 * while the arena's objects stay reachable through the arena view.
 *
 * Every view has an unmapped neighbour on both sides, so a copy that runs
 * off an arena object in either direction, or off the stack in either
 * direction, faults on its first byte outside the view.  Without the middle
 * gap the top of the stack view - the trap frame from ring 3 - lay directly
 * under the first arena object, one backward byte away.  Each view and gap
 * is KSTACK_SIZE, so each view stays aligned to KSTACK_SIZE.
 */
#ifndef TANDEM_MM_BLOCK_H
#define TANDEM_MM_BLOCK_H

#include <stdint.h>
#include "config.h"

// A new block, its stack view returned (the arena view follows it), or
// NULL when frames or slots run out.
uint8_t *block_alloc(void);
void block_free(uint8_t *stack_view);
// Arena-view address minus stack-view address, for any byte of a block.
#define BLOCK_ARENA_OFFSET (2u * KSTACK_SIZE)

// The arena view of a block.
static inline uint8_t *
block_arena_view(uint8_t *stack_view)
{
    return stack_view + BLOCK_ARENA_OFFSET;
}

// Removes the stack view's pages for arena-view [from, to) (claimed by the
// arena), or puts them back (given back).  Page-aligned addresses.
void block_hide_from_stack(uintptr_t arena_from, uintptr_t arena_to);
void block_show_to_stack(uintptr_t arena_from, uintptr_t arena_to);

#endif
