// The scratch arena: the out-of-line half of kfastmalloc, scopes, reset.
//
// Plain C with no hardware access: the host tests compile this file as it
// is, with a simulated stack pointer and malloc-backed kmalloc.
//
// Why the fast path may race with interrupts on one CPU: an interrupt that
// arrives in the kernel marks the arena on entry and releases to that mark
// on exit (kernel/entry/trap.c), so when the interrupted code resumes, top, the
// canary and the spill chain are exactly as it left them; anything the
// handler allocated was above the interrupted code's top and is gone.  The
// only read-modify-write of shared state on the fast path is the single
// `incl` of the allocation count, which an interrupt cannot split.
//
// Kernel threads never return to user mode, so nothing resets their arena
// for them: they either allocate inside kfast_mark()/kfast_release() scopes
// or call kfast_reset_quiescent() at the top of their loop (the reaper, the
// self-test runner and the idle thread do).
#include "kmalloc.h"
#include "lib/string.h"
#include "mm/kfast_arena.h"
#include "panic.h"
#ifndef HOST_TEST
#include "x86.h"
#endif

struct kfast_cpu g_kfast;
static bool s_default_strict = KFAST_STRICT;

#ifdef HOST_TEST
uintptr_t g_kfast_host_sp;      // the host tests' stand-in for esp
uintptr_t g_kfast_host_guard;   // where the host's "stack view" would end
static uintptr_t kfast_sp(void) { return g_kfast_host_sp; }
void kfast_guard_move(struct kfast_arena *a, uintptr_t from, uintptr_t to) { (void)a; (void)from; g_kfast_host_guard = to; }
static uint32_t kfast_irq_save(void) { return 0; }
static void kfast_irq_restore(uint32_t f) { (void)f; }
#else
static uintptr_t kfast_sp(void) { return read_esp(); }
static uint32_t kfast_irq_save(void) { return irq_save(); }
static void kfast_irq_restore(uint32_t f) { irq_restore(f); }
#endif

#define RECORD_BYTES (TANDEM_DEBUG ? sizeof(struct kfast_record) : 0)

static kfast_canary_hook_t s_canary_hook;

void
kfast_set_canary_hook(kfast_canary_hook_t hook)
{
    s_canary_hook = hook;
}

// Giving memory back is a check point too: the canary at the old top must
// be intact, or the stack reached the objects being released (and a new
// canary at the lower top would hide it).  The thread layer's hook reports
// the collision (and may recover a test); without one, or if it returns,
// this is a panic.
static void
kfast_check_before_release(void)
{
    if (likely(*(volatile uint32_t *)g_kfast.top == KFAST_CANARY))
        return;
    if (s_canary_hook)
        s_canary_hook();
    panic("kfast: the canary at top %#lx is broken", (unsigned long)g_kfast.top);
}

void
kfast_set_default_strict(bool strict)
{
    s_default_strict = strict;
}

bool
kfast_default_strict(void)
{
    return s_default_strict;
}

void
kfast_arena_init(struct kfast_arena *a, void *base, uint32_t sp_offset, bool guarded,
                 uintptr_t paint_end, bool strict)
{
    memset(a, 0, sizeof(*a));
    a->base = a->top = a->empty_top = a->guard = (uintptr_t)base;
    a->end = a->base + KSTACK_SIZE;
    a->sp_offset = sp_offset;
    a->guarded = guarded;
    a->strict = strict;
    memset(base, KFAST_PAINT, paint_end - (uintptr_t)base);
    *(uint32_t *)a->base = KFAST_CANARY;
}

void
kfast_arena_activate(struct kfast_arena *a)
{
    g_kfast.top = a->top;
    g_kfast.guard = a->guard;
    g_kfast.allocations = a->allocations;
    g_kfast.arena = a;
    g_kfast.empty_top = a->empty_top;
}

// Moves the end of the running arena's claimed pages.
static void
kfast_set_guard(uintptr_t guard)
{
    if (guard != g_kfast.guard) {
        kfast_guard_move(g_kfast.arena, g_kfast.guard, guard);
        g_kfast.guard = guard;
    }
}

// Claims the pages up to the one that holds [end, end + 4) (the object and
// the canary after it), if they end KFAST_RESERVE below sp (an arena-view
// address): they then leave the stack view.
static bool
kfast_claim(struct kfast_arena *a, uintptr_t end, uintptr_t sp)
{
    uintptr_t guard = ALIGN_UP(end + sizeof(uint32_t), PAGE_SIZE);
    if (!a->guarded || guard > sp || sp - guard < KFAST_RESERVE)
        return false;
    kfast_set_guard(guard);
    return true;
}

// Records the use before it goes down (peaks are kept lazily: use only
// falls at a release or a reset, so noting it there is exact).
static void
kfast_note_peak(struct kfast_arena *a)
{
    uint32_t in_block = (uint32_t)(g_kfast.top - a->base);
    if (in_block > a->peak_block)
        a->peak_block = in_block;
    if (in_block + a->spill_bytes > a->peak)
        a->peak = in_block + a->spill_bytes;
}

// Takes n bytes (n a multiple of 8) from the newest spill chunk, or a new one.
// Out of line so that GDB's `tandem catch spill` has a place to stop.
static NOINLINE void *
kfast_spill(struct kfast_arena *a, uint32_t n)
{
    struct kfast_chunk *c = a->spill;
    if (!c || c->size - c->used < n) {
        uint32_t size = n > KFAST_SPILL_CHUNK ? n : KFAST_SPILL_CHUNK;
        c = kmalloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->older = a->spill;
        c->size = size;
        c->used = 0;
        a->spill = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->spill_bytes += n;
    a->spills++;
    a->empty_top = g_kfast.empty_top = 0;      // the exit path must look now
    return p;
}

void *
kfast_alloc_slow(size_t size, uintptr_t caller)
{
    struct kfast_arena *a = g_kfast.arena;
    // Too large for any block or chunk: refuse before any sum can wrap.
    if (size > KFAST_MAX_ALLOC) {
        a->refusals++;
        return NULL;
    }
    uint32_t n = (uint32_t)ALIGN_UP(size + RECORD_BYTES, KFAST_ALIGN);
    uint32_t flags = kfast_irq_save();
    uintptr_t top = g_kfast.top, end = top + n, sp = kfast_sp() + a->sp_offset;
    uint8_t *p;
    // In the block only inside claimed pages, which the guard protects:
    // already claimed, or claimable now.  Memory the stack view still maps
    // is never handed out, so no object lies where a stack can reach it
    // unnoticed; what cannot be claimed (a 4 KiB block, the boot thread's
    // static block, a deep stack) spills.  Zero bytes take nothing: top.
    if (end < g_kfast.guard || n == 0 || kfast_claim(a, end, sp)) {
        g_kfast.top = end;
        *(uint32_t *)end = KFAST_CANARY;
        p = (uint8_t *)top;
    } else if (a->strict || !(p = kfast_spill(a, n))) {
        a->refusals++;
        kfast_irq_restore(flags);
        return NULL;
    }
    g_kfast.allocations++;
    kfast_irq_restore(flags);
#if TANDEM_DEBUG
    struct kfast_record *r = (struct kfast_record *)p;
    r->size = (uint32_t)size;
    r->caller = (uint32_t)caller;
    p += sizeof(*r);
#else
    (void)caller;
#endif
    return p;
}

#if TANDEM_DEBUG || defined(HOST_TEST)
NOINLINE void *
kfastmalloc(size_t size)
{
    return kfast_alloc_slow(size, CALLER_ADDR);
}
#endif

void *
kfastzalloc(size_t size)
{
    void *p = kfast_alloc_slow(size, CALLER_ADDR);
    if (p)
        memset(p, 0, size);
    return p;
}

kfast_mark_t
kfast_mark(void)
{
    struct kfast_arena *a = g_kfast.arena;
    return (kfast_mark_t){ g_kfast.top, g_kfast.guard, a->spill, a->spill ? a->spill->used : 0 };
}

// Frees spill chunks newer than keep and restores keep's fill level.
static void
kfast_spill_release(struct kfast_arena *a, struct kfast_chunk *keep, uint32_t keep_used)
{
    while (a->spill != keep) {
        struct kfast_chunk *c = a->spill;
        if (!c)
            panic("kfast_release: spill chunk %p of the mark is not in the chain", (void *)keep);
        a->spill_bytes -= c->used;
        a->spill = c->older;
        kfree(c);
    }
    if (keep) {
        a->spill_bytes -= keep->used - keep_used;
        keep->used = keep_used;
    } else {
        a->empty_top = a->base;
        if (a == g_kfast.arena)
            g_kfast.empty_top = a->base;
    }
}

void
kfast_release(kfast_mark_t mark)
{
    struct kfast_arena *a = g_kfast.arena;
    uint32_t flags = kfast_irq_save();
    if (mark.top < a->base || mark.top > g_kfast.top ||
        (mark.spill && mark.spill == a->spill && mark.spill_used > mark.spill->used))
        panic("kfast_release: mark %#lx is outside the arena [%#lx, top %#lx]: "
              "released out of order or from another thread", (unsigned long)mark.top,
              (unsigned long)a->base, (unsigned long)g_kfast.top);
    // Only a scope that allocated moves top and rewrites the canary: an
    // interrupt that allocated nothing must not repair a canary the stack
    // broke before it arrived.
    kfast_note_peak(a);
    if (mark.top != g_kfast.top) {
        kfast_check_before_release();
        if (TANDEM_DEBUG)
            memset((void *)mark.top, KFAST_POISON, g_kfast.top - mark.top);
        g_kfast.top = mark.top;
        *(uint32_t *)mark.top = KFAST_CANARY;
    }
    // Pages claimed inside the scope go back to the stack (an interrupt
    // handler must not leave the interrupted code with less stack).
    kfast_set_guard(mark.guard);
    if (a->spill != mark.spill || (mark.spill && mark.spill->used != mark.spill_used))
        kfast_spill_release(a, mark.spill, mark.spill_used);
    kfast_irq_restore(flags);
}

void
kfast_spill_free_all(struct kfast_arena *a)
{
    kfast_spill_release(a, NULL, 0);
}

void
kfast_reset_slow(void)
{
    struct kfast_arena *a = g_kfast.arena;
    kfast_check_before_release();
    kfast_note_peak(a);
    a->emptied++;
    if (TANDEM_DEBUG)
        memset((void *)a->base, KFAST_POISON, g_kfast.top - a->base);
    g_kfast.top = a->base;
    *(uint32_t *)a->base = KFAST_CANARY;
    kfast_set_guard(a->base);
    if (unlikely(a->spill != NULL))
        kfast_spill_free_all(a);
}

void
kfast_reset_quiescent(void)
{
    uint32_t flags = kfast_irq_save();
    kfast_reset();
    g_kfast.arena->resets++;
    kfast_irq_restore(flags);
}

uint32_t
kfast_low_water(const struct kfast_arena *a)
{
    uintptr_t top = kfast_arena_top(a);
    uintptr_t from = a->base + a->peak_block;
    if (from < top)
        from = top;
    from += sizeof(uint32_t);       // past the canary
    uint32_t n = 0;
    for (const uint8_t *p = (const uint8_t *)from; (uintptr_t)p < a->end && *p == KFAST_PAINT; p++)
        n++;
    return n;
}

void
kfast_arena_stats(const struct kfast_arena *a, struct kfast_stats *out)
{
    uint32_t in_block = kfast_in_block(a);
    out->block_size = KSTACK_SIZE;
    out->in_use = in_block + a->spill_bytes;
    out->peak = a->peak > out->in_use ? a->peak : out->in_use;
    out->allocations = a == g_kfast.arena ? g_kfast.allocations : a->allocations;
    out->spills = a->spills;
    out->refusals = a->refusals;
    out->resets = a->resets;
    out->emptied = a->emptied;
    out->stack_low_water = kfast_low_water(a);
    out->collisions = a->collisions;
}
