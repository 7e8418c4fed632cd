// The arena's claimed pages and the stack view (include/mm/block.h): the
// hardware half of collision detection.
//
// A page the arena claims is unmapped from its block's stack view; a stack
// that grows into it faults at the instruction that does it.  The fault
// cannot be delivered on that stack, so it becomes a double fault, handled
// by its own task (kernel/thread/double_fault.c), which reports the thread,
// esp, block and arena top.  Claiming or giving back a page is a page-table
// write and an invlpg; a context switch costs nothing (each block keeps its
// own mappings); a reset that gives pages back remaps them.
#include "mm/block.h"
#include "mm/kfast_arena.h"

void
kfast_guard_move(struct kfast_arena *a, uintptr_t from, uintptr_t to)
{
    (void)a;
    if (to > from)
        block_hide_from_stack(from, to);
    else
        block_show_to_stack(to, from);
}
