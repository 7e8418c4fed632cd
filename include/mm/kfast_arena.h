/* The arena's side facing the scheduler and the exit path (the allocator's
 * users need only include/kfast.h). */
#ifndef TANDEM_MM_KFAST_ARENA_H
#define TANDEM_MM_KFAST_ARENA_H

#include "kfast.h"

// Debug builds put this before every allocation (in the block and in spill
// chunks), so a debugger can walk the live objects in order.
struct kfast_record {
    uint32_t size;              // bytes asked for
    uint32_t caller;            // return address of the kfastmalloc call
};

struct kfast_chunk {
    struct kfast_chunk *older;
    uint32_t size;              // bytes of data[]
    uint32_t used;
    uint8_t data[] ALIGNED(8);
};

#define KFAST_SPILL_CHUNK   4096u   // smallest spill chunk's data[]

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
// Frees every spill chunk; the exit path's out-of-line part.
void kfast_spill_free_all(struct kfast_arena *a);
// Empties the running arena: peak, poison (debug), top back to base,
// canary, spill chunks freed.  O(1) in the number of objects.
void kfast_reset_slow(void);
// The exit-to-user reset.  An entry that allocated nothing leaves top at
// base and no spill chunks (a spill sets empty_top to 0), so the common case
// is one compare; anything else goes out of line.  Every exit to user mode
// resets, so a user thread's reset count is derived (kfast_stats), not kept.
static inline void
kfast_reset(void)
{
    if (unlikely(g_kfast.top != g_kfast.empty_top))
        kfast_reset_slow();
}
// Fewest untouched (still painted) bytes between the arena's peak and the
// deepest stack write so far.  O(block size): for reports and statistics.
uint32_t kfast_low_water(const struct kfast_arena *a);
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
