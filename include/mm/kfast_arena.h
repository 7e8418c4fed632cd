/* The arena's side facing the scheduler and the exit path (the allocator's
 * users need only include/kfast.h). */
#ifndef TANDEM_MM_KFAST_ARENA_H
#define TANDEM_MM_KFAST_ARENA_H

#include "kfast.h"

// Debug builds put this before every allocation (in the block and in spill
// chunks), so a debugger can walk the live objects in order.
struct kfast_record {
    uint32_t size;   // bytes asked for
    uint32_t caller; // return address of the kfastmalloc call
};

struct kfast_chunk {
    struct kfast_chunk *older;
    uint32_t size; // bytes of data[]
    uint32_t used;
    bool area; // a CPU's spill area (else a heap chunk)
    bool lent; // a spill area: an arena holds it
    uint8_t data[] ALIGNED(8);
};

#define KFAST_SPILL_CHUNK 4096u // smallest spill chunk's data[]

// Sets up the arena of a block whose arena view starts at base: paints
// [base, paint_end) with KFAST_PAINT (for the stack low-water mark) and puts
// the canary at its base.  sp_offset turns a stack address into the arena
// view's; guarded: claimed pages leave the stack view.  A fresh block is
// painted whole; the boot thread's, which is in use, up to below its frames.
void kfast_arena_init(struct kfast_arena *a, void *base, uint32_t sp_offset, bool guarded,
                      uintptr_t paint_end, bool strict);
// Makes a the running arena (boot: no previous one).
void kfast_arena_activate(struct kfast_arena *a);
// Context switch: parks the running arena's registers in prev, loads next's.
// Moves the end of a's claimed pages from `from` to `to` (page-aligned):
// pages claimed leave the stack view, pages given back return to it
// (kernel/mm/kfast_guard.c over kernel/mm/block.c; recorded only, on the host).
void kfast_guard_move(struct kfast_arena *a, uintptr_t from, uintptr_t to);

static inline void
kfast_arena_switch(struct kfast_arena *prev, struct kfast_arena *next)
{
    prev->top = g_kfast.top;
    prev->guard = g_kfast.guard;
    prev->allocations = g_kfast.allocations;
    g_kfast.top = next->top;
    g_kfast.guard = next->guard;
    g_kfast.allocations = next->allocations;
    g_kfast.arena = next;
    g_kfast.empty_top = next->empty_top;
}
// The current top of a (live for the running arena, saved otherwise).
static inline uintptr_t
kfast_arena_top(const struct kfast_arena *a)
{
    return a == g_kfast.arena ? g_kfast.top : a->top;
}

// The end of a's claimed pages (below it, the stack view has no pages).
static inline uintptr_t
kfast_arena_guard(const struct kfast_arena *a)
{
    return a == g_kfast.arena ? g_kfast.guard : a->guard;
}
// True if the canary at a's top is intact.
static inline bool
kfast_canary_intact(const struct kfast_arena *a)
{
    return *(const volatile uint32_t *)kfast_arena_top(a) == KFAST_CANARY;
}
// Reports a broken canary at the running arena's top, found when memory is
// given back: the thread layer installs its collision report
// (kernel/thread/collision.c); with no hook, or if it returns, kfast panics.
typedef void (*kfast_canary_hook_t)(void);
void kfast_set_canary_hook(kfast_canary_hook_t hook);
// The broken canary found by a reset or release: the hook, then a panic.
NORETURN void kfast_canary_broken(void);
// Frees every spill chunk (a dead thread's, from the reaper: any arena).
void kfast_spill_free_all(struct kfast_arena *a);
// The rarer half of a reset: spill chunks to give back, or claimed pages
// past a->keep.  old_top: the top the reset emptied (for the peak).
void kfast_reset_rest(struct kfast_arena *a, uintptr_t old_top);
void kfast_poison(uintptr_t from, uintptr_t to);

// A reset found a cross-CPU call's request still in use in a (panics).
NORETURN void kfast_reset_under_call(const struct kfast_arena *a);

// Empties the running arena: the canary checked, the peak noted, top back
// to base with its canary.  Claimed pages up to a->keep stay claimed (out
// of the stack view), so the next entry's first allocation stays inline;
// pages past it go back to the stack view, and spill chunks are returned,
// out of line (reset_limit is 0 while chunks exist).  O(1) in the number
// of objects and of pages kept.  Interrupts must be off (the exit path's
// and kfast_reset_quiescent's).
//
// The exit-to-user reset, too: an entry that allocated nothing leaves top
// at base and no spill chunks (a spill sets empty_top to 0), so the common
// case is one compare.  Every exit to user mode resets, so a user thread's
// reset count is derived (kfast_stats), not kept.
static inline void
kfast_reset(void)
{
    uintptr_t top = g_kfast.top;
    if (likely(top == g_kfast.empty_top))
        return;
    struct kfast_arena *a = g_kfast.arena;
    if (TANDEM_DEBUG && unlikely(a->calls_pending))
        kfast_reset_under_call(a);
    // Giving memory back is a check point: the stack must not have reached
    // the objects (a new canary at base would hide it).
    if (unlikely(*(volatile uint32_t *)top != KFAST_CANARY))
        kfast_canary_broken();
    if (top > a->peak_top)
        a->peak_top = top;
    a->emptied++;
    if (TANDEM_DEBUG)
        kfast_poison(a->base, top);
    g_kfast.top = a->base;
    *(volatile uint32_t *)a->base = KFAST_CANARY;
    if (unlikely(g_kfast.guard > a->reset_limit))
        kfast_reset_rest(a, top);
}

// Fewest untouched (still painted) bytes between the arena's peak and the
// deepest stack write so far.  O(block size): for reports and statistics.
uint32_t kfast_low_water(const struct kfast_arena *a);
// How far below the block's top the stack has written so far (from the
// paint, like kfast_low_water): what KFAST_STACK_WORST is measured with.
uint32_t kfast_stack_depth(const struct kfast_arena *a);
// Bytes handed out from a's spill chunks now.
uint32_t kfast_spill_in_use(const struct kfast_arena *a);
// The running CPU's spill area (KFAST_SPILL_AREA bytes), a chunk lent to
// one arena at a time; whether an arena holds it now.
const struct kfast_chunk *kfast_spill_area(void);
bool kfast_spill_area_lent(void);
// A spill area for another CPU, from the heap (its kfast_cpu's
// spill_area); NULL if memory is short (that CPU then spills to the heap).
struct kfast_chunk *kfast_spill_area_make(void);
// Gives back the claimed pages that hold no object and end less than
// KFAST_RESERVE below sp (an arena-view address): an entry whose stack
// went deeper than the pages kept from earlier entries allow.  Called with
// the running arena where esp is at hand (kfast_mark, the out-of-line
// allocation); interrupts off.
void kfast_trim(struct kfast_arena *a, uintptr_t sp);
// Bytes of the block in use by the arena now.
static inline uint32_t
kfast_in_block(const struct kfast_arena *a)
{
    return (uint32_t)(kfast_arena_top(a) - a->base);
}
// Fills the statistics of arena a.
void kfast_arena_stats(const struct kfast_arena *a, struct kfast_stats *out);
// Switches strict mode for every arena created from now on (boot option).
void kfast_set_default_strict(bool strict);
bool kfast_default_strict(void);

// Whether the instruction at code, run with the general registers regs
// (eax, ecx, edx, ebx, esp, ebp, esi, edi), stores KFAST_CANARY at top: the
// inline fast path's last step, which an interrupt may find not yet done
// (kernel/mm/kfast_pending.c).
bool kfast_canary_store_pending(const uint8_t *code, const uint32_t regs[8], uintptr_t top);

#endif
