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
// only read-modify-writes of shared state on the fast path are single
// `incl`s of a count, which an interrupt cannot split.
//
// Kernel threads never return to user mode, so nothing resets their arena
// for them: they either allocate inside kfast_mark()/kfast_release() scopes
// or call kfast_reset_quiescent() at the top of their loop (the reaper, the
// self-test runner and the idle thread do).
//
// Pages kept across entries (docs/design.md, "The arena's rules"): a reset
// leaves claimed the pages that end KFAST_KEEP_DEPTH below the block's top,
// where no entry's stack was ever measured to go; they stay out of the stack
// view, so a stack that went deeper anyway faults on them (the trap, as for
// any claimed page).  Where esp is at hand - a mark, an out-of-line
// allocation - pages within KFAST_RESERVE of it that hold no object go back
// first (kfast_trim).
#include "kmalloc.h"
#include "lib/string.h"
#include "mm/kfast_arena.h"
#include "panic.h"
#ifndef HOST_TEST
#include "spinlock.h"
#include "x86.h"
#endif

#if __STDC_HOSTED__
struct kfast_cpu g_kfast;
#endif
static bool s_default_strict = KFAST_STRICT;

#ifdef HOST_TEST
uintptr_t g_kfast_host_sp;    // the host tests' stand-in for esp
uintptr_t g_kfast_host_guard; // where the host's "stack view" would end

static uintptr_t
kfast_sp(void)
{
    return g_kfast_host_sp;
}

void
kfast_guard_move(struct kfast_arena *a, uintptr_t from, uintptr_t to)
{
    (void)a;
    (void)from;
    g_kfast_host_guard = to;
}

static uint32_t
kfast_irq_save(void)
{
    return 0;
}

static void
kfast_irq_restore(uint32_t f)
{
    (void)f;
}
static void *
kfast_heap_alloc(size_t n)
{
    return kmalloc(n);
}
static void
kfast_heap_free(void *p)
{
    kfree(p);
}
#else
static uintptr_t
kfast_sp(void)
{
    return read_esp();
}

static uint32_t
kfast_irq_save(void)
{
    return irq_save();
}

static void
kfast_irq_restore(uint32_t f)
{
    irq_restore(f);
}
// The arena takes no lock, but the heap is under the big kernel lock: a
// thread that runs without it (the smp tests' hammers) takes it for the call.
static void *
kfast_heap_alloc(size_t n)
{
    bool took = !bkl_held();
    if (took)
        bkl_lock();
    void *p = kmalloc(n);
    if (took)
        bkl_unlock();
    return p;
}

static void
kfast_heap_free(void *p)
{
    bool took = !bkl_held();
    if (took)
        bkl_lock();
    kfree(p);
    if (took)
        bkl_unlock();
}
#endif

#define RECORD_BYTES (TANDEM_DEBUG ? sizeof(struct kfast_record) : 0)

// The spill areas: one chunk per CPU, lent to one arena at a time (the
// running thread's, unless a thread blocked or moved on holding it), so
// that an entry that spills usually costs no heap call and nothing of the
// heap is held between entries.  The boot CPU's is in the kernel image,
// the others' come from the heap as they start (kfast_spill_area_make).  A
// word after each catches an object that ran past its end when the area
// comes back.  Any CPU may give an area back (the thread may have moved),
// and a CPU whose own could not be made lends the image's: the flag is
// taken with a compare-exchange, so an area is lent once whatever shares it.
#define SPILL_AREA_BYTES (sizeof(struct kfast_chunk) + KFAST_SPILL_AREA + sizeof(uint32_t))
static union {
    struct kfast_chunk chunk;
    uint8_t bytes[SPILL_AREA_BYTES];
} s_area ALIGNED(8) = { .chunk = { .area = true } };

static struct kfast_chunk *
kfast_cpu_area(void)
{
    return g_kfast.spill_area ? g_kfast.spill_area : &s_area.chunk;
}

const struct kfast_chunk *
kfast_spill_area(void)
{
    return kfast_cpu_area();
}

bool
kfast_spill_area_lent(void)
{
    return __atomic_load_n(&kfast_cpu_area()->lent, __ATOMIC_ACQUIRE);
}

struct kfast_chunk *
kfast_spill_area_make(void)
{
    struct kfast_chunk *c = kmalloc(SPILL_AREA_BYTES);
    if (c)
        *c = (struct kfast_chunk){ .area = true };
    return c;
}

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
NOINLINE void
kfast_canary_broken(void)
{
    if (s_canary_hook)
        s_canary_hook();
    panic("kfast: the canary at top %#lx is broken", (unsigned long)g_kfast.top);
}

static void
kfast_check_before_release(void)
{
    if (unlikely(*(volatile uint32_t *)g_kfast.top != KFAST_CANARY))
        kfast_canary_broken();
}

void
kfast_poison(uintptr_t from, uintptr_t to)
{
    memset((void *)from, KFAST_POISON, to - from);
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
    a->base = a->top = a->empty_top = a->guard = a->peak_top = (uintptr_t)base;
    a->end = a->base + KSTACK_SIZE;
    a->sp_offset = sp_offset;
    a->guarded = guarded;
    a->strict = strict;
    // The pages a reset may leave claimed: none in a block too small to
    // keep one past the worst stack and the reserve, or without a guard.
    a->keep = a->base;
    if (guarded && KSTACK_SIZE > KFAST_KEEP_DEPTH)
        a->keep = a->end - KFAST_KEEP_DEPTH;
    a->reset_limit = a->keep;
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

void
kfast_trim(struct kfast_arena *a, uintptr_t sp)
{
    if (likely(g_kfast.guard + KFAST_RESERVE <= sp) || !a->may_trim)
        return;
    uint32_t flags = kfast_irq_save();
    // Pages that hold objects stay claimed: those below top.  (The canary
    // at top may then lie in a page the stack view has again; a stack that
    // breaks it is caught at the next check.)
    uintptr_t floor = ALIGN_UP(g_kfast.top, PAGE_SIZE);
    uintptr_t want =
        sp >= a->base + KFAST_RESERVE ? ALIGN_DOWN(sp - KFAST_RESERVE, PAGE_SIZE) : a->base;
    if (want < floor)
        want = floor;
    if (want < g_kfast.guard) {
        kfast_set_guard(want);
        a->trimmed++;
    }
    kfast_irq_restore(flags);
}

// The peak of use, block and spill together (the block's alone is peak_top):
// noted lazily, before use goes down, and only while chunks exist - without
// them the block's peak is the whole peak.
static void
kfast_note_peak(struct kfast_arena *a, uintptr_t top)
{
    if (top > a->peak_top)
        a->peak_top = top;
    if (a->spill) {
        uint32_t total = (uint32_t)(top - a->base) + kfast_spill_in_use(a);
        if (total > a->peak)
            a->peak = total;
    }
}

uint32_t
kfast_spill_in_use(const struct kfast_arena *a)
{
    return a->spill ? a->spill_older + (uint32_t)(a->chunk_top - (uintptr_t)a->spill->data) : 0;
}

// A chunk for at least n bytes: the spill area if no arena holds it and n
// fits, else one from the heap.
static struct kfast_chunk *
kfast_chunk_new(uint32_t n)
{
    struct kfast_chunk *c = kfast_cpu_area();
    bool free_area = false;
    if (n <= KFAST_SPILL_AREA && __atomic_compare_exchange_n(&c->lent, &free_area, true, false,
                                                             __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        c->size = KFAST_SPILL_AREA;
        *(volatile uint32_t *)(c->data + KFAST_SPILL_AREA) = KFAST_CANARY;
        return c;
    }
    uint32_t size = n > KFAST_SPILL_CHUNK ? n : KFAST_SPILL_CHUNK;
    c = kfast_heap_alloc(sizeof(*c) + size);
    if (c)
        *c = (struct kfast_chunk){ .size = size };
    return c;
}

// Gives chunk c, of which used bytes were handed out, back.
static void
kfast_chunk_put(struct kfast_chunk *c, uint32_t used)
{
    if (!c->area) {
        kfast_heap_free(c);
        return;
    }
    if (*(volatile uint32_t *)(c->data + KFAST_SPILL_AREA) != KFAST_CANARY)
        panic("kfast: an object ran past the end of the spill area %p (%u bytes)", (void *)c->data,
              KFAST_SPILL_AREA);
    if (TANDEM_DEBUG)
        memset(c->data, KFAST_POISON, used);
    __atomic_store_n(&c->lent, false, __ATOMIC_RELEASE);
}

// Takes n bytes (n a multiple of 8) from the newest spill chunk, or a new one.
// Out of line so that GDB's `tandem catch spill` has a place to stop.
static NOINLINE void *
kfast_spill(struct kfast_arena *a, uint32_t n)
{
    if (!a->spill || a->chunk_end - a->chunk_top < n) {
        struct kfast_chunk *c = kfast_chunk_new(n);
        if (!c)
            return NULL;
        // The newest chunk's fill lives in chunk_top; an older one's in used.
        if (a->spill) {
            a->spill->used = (uint32_t)(a->chunk_top - (uintptr_t)a->spill->data);
            a->spill_older += a->spill->used;
        }
        c->older = a->spill;
        c->used = 0;
        a->spill = c;
        a->chunk_top = (uintptr_t)c->data;
        a->chunk_end = (uintptr_t)c->data + c->size;
        a->reset_limit = 0; // the reset must look now,
        a->empty_top = 0;   // and the exit path too
        if (a == g_kfast.arena)
            g_kfast.empty_top = 0;
    }
    void *p = (void *)a->chunk_top;
    a->chunk_top += n;
    a->spills++;
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
    kfast_trim(a, sp);
    // The order is the inline path's (include/kfast.h), so that both place
    // an object alike: in the block under the guard; else in the newest
    // spill chunk, if more than n bytes are left there; else in the block
    // if pages can be claimed for it; else spilled.  In the block only
    // inside claimed pages, which the guard protects: memory the stack view
    // still maps is never handed out, so no object lies where a stack can
    // reach it unnoticed; what cannot be claimed (a 4 KiB block, the boot
    // thread's static block, a deep stack) spills.  Zero bytes take
    // nothing: top.
    bool in_block;
    if (end < g_kfast.guard)
        in_block = true;
    else if (a->chunk_end - a->chunk_top > n)
        in_block = false;
    else
        in_block = n == 0 || kfast_claim(a, end, sp);
    if (in_block) {
        g_kfast.top = end;
        *(uint32_t *)end = KFAST_CANARY;
        g_kfast.allocations++;
        p = (uint8_t *)top;
    } else if (a->strict || !(p = kfast_spill(a, n))) {
        a->refusals++;
        kfast_irq_restore(flags);
        return NULL;
    }
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

void *
kfast_zalloc_slow(size_t size, uintptr_t caller)
{
    void *p = kfast_alloc_slow(size, caller);
    if (p)
        memset(p, 0, size);
    return p;
}

#if TANDEM_DEBUG || defined(HOST_TEST)
NOINLINE void *
kfastmalloc(size_t size)
{
    return kfast_alloc_slow(size, CALLER_ADDR);
}

NOINLINE void *
kfastzalloc(size_t size)
{
    return kfast_zalloc_slow(size, CALLER_ADDR);
}
#endif

kfast_mark_t
kfast_mark(void)
{
    struct kfast_arena *a = g_kfast.arena;
    // A mark opens a nested entry's scope too (kernel/entry/trap.c): a
    // point where the stack may be deep, so a check point for kept pages.
    kfast_trim(a, kfast_sp() + a->sp_offset);
    return (kfast_mark_t){ g_kfast.top, g_kfast.guard, a->spill,
                           a->spill ? (uint32_t)(a->chunk_top - (uintptr_t)a->spill->data) : 0 };
}

// Frees spill chunks newer than keep and restores keep's fill level.
static void
kfast_spill_release(struct kfast_arena *a, struct kfast_chunk *keep, uint32_t keep_used)
{
    while (a->spill != keep) {
        struct kfast_chunk *c = a->spill;
        if (!c)
            panic("kfast_release: spill chunk %p of the mark is not in the chain", (void *)keep);
        a->spill = c->older;
        if (a->spill)
            a->spill_older -= a->spill->used;
        kfast_chunk_put(c, (uint32_t)(a->chunk_top - (uintptr_t)c->data));
        if (a->spill)
            a->chunk_top = (uintptr_t)a->spill->data + a->spill->used;
    }
    if (keep) {
        a->chunk_top = (uintptr_t)keep->data + keep_used;
        a->chunk_end = (uintptr_t)keep->data + keep->size;
    } else {
        a->chunk_top = a->chunk_end = 0;
        a->spill_older = 0;
        a->empty_top = a->base;
        a->reset_limit = a->keep;
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
        (mark.spill && mark.spill == a->spill &&
         mark.spill_used > a->chunk_top - (uintptr_t)a->spill->data))
        panic("kfast_release: mark %#lx is outside the arena [%#lx, top %#lx]: "
              "released out of order or from another thread",
              (unsigned long)mark.top, (unsigned long)a->base, (unsigned long)g_kfast.top);
    // Only a scope that allocated moves top and rewrites the canary: an
    // interrupt that allocated nothing must not repair a canary the stack
    // broke before it arrived.
    kfast_note_peak(a, g_kfast.top);
    if (mark.top != g_kfast.top) {
        kfast_check_before_release();
        if (TANDEM_DEBUG)
            kfast_poison(mark.top, g_kfast.top);
        g_kfast.top = mark.top;
        *(uint32_t *)mark.top = KFAST_CANARY;
    }
    // Pages claimed inside the scope go back to the stack (an interrupt
    // handler must not leave the interrupted code with less stack); pages
    // a trim gave back inside it stay given back.
    if (mark.guard < g_kfast.guard)
        kfast_set_guard(mark.guard);
    if (a->spill != mark.spill ||
        (mark.spill && a->chunk_top - (uintptr_t)mark.spill->data != mark.spill_used))
        kfast_spill_release(a, mark.spill, mark.spill_used);
    kfast_irq_restore(flags);
}

void
kfast_spill_free_all(struct kfast_arena *a)
{
    kfast_spill_release(a, NULL, 0);
}

void
kfast_reset_rest(struct kfast_arena *a, uintptr_t old_top)
{
    if (a->spill) {
        kfast_note_peak(a, old_top);
        kfast_spill_free_all(a);
    }
    if (g_kfast.guard > a->keep)
        kfast_set_guard(a->keep);
}

// The one way to lose a cross-CPU call's request before its targets have
// read it: a caller that did not wait.
NORETURN void
kfast_reset_under_call(const struct kfast_arena *a)
{
    panic("kfast_reset: %u cross-CPU call(s) whose request is in this arena [%#lx, top %#lx] "
          "are not answered yet: a call must wait for its targets (an asynchronous one must "
          "not keep its request in the arena)",
          a->calls_pending, (unsigned long)a->base, (unsigned long)g_kfast.top);
}

void
kfast_reset_quiescent(void)
{
    uint32_t flags = kfast_irq_save();
    kfast_reset();
    g_kfast.arena->resets++;
    kfast_irq_restore(flags);
}

// Where the paint above the arena's furthest reach begins (past its canary).
static uintptr_t
kfast_paint_from(const struct kfast_arena *a)
{
    uintptr_t top = kfast_arena_top(a);
    return (a->peak_top > top ? a->peak_top : top) + sizeof(uint32_t);
}

uint32_t
kfast_low_water(const struct kfast_arena *a)
{
    uint32_t n = 0;
    const uint8_t *p = (const uint8_t *)kfast_paint_from(a);
    for (; (uintptr_t)p < a->end && *p == KFAST_PAINT; p++)
        n++;
    return n;
}

uint32_t
kfast_stack_depth(const struct kfast_arena *a)
{
    return (uint32_t)(a->end - kfast_paint_from(a)) - kfast_low_water(a);
}

void
kfast_arena_stats(const struct kfast_arena *a, struct kfast_stats *out)
{
    uint32_t in_block = kfast_in_block(a), peak_block = (uint32_t)(a->peak_top - a->base);
    out->block_size = KSTACK_SIZE;
    out->in_use = in_block + kfast_spill_in_use(a);
    out->peak = a->peak > peak_block ? a->peak : peak_block;
    if (out->in_use > out->peak)
        out->peak = out->in_use;
    out->allocations = (a == g_kfast.arena ? g_kfast.allocations : a->allocations) + a->spills;
    out->spills = a->spills;
    out->refusals = a->refusals;
    out->resets = a->resets;
    out->emptied = a->emptied;
    out->stack_low_water = kfast_low_water(a);
    out->collisions = a->collisions;
}
