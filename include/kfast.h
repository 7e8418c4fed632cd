/* kfastmalloc: the scratch arena that shares each thread's kernel-stack block.
 *
 *  block + KSTACK_SIZE  +-------------------------+  <- TSS.esp0 while the thread runs
 *                       | trap frame (user entry) |
 *                       | kernel stack, grows down|  <- esp
 *                       | reserve (KFAST_RESERVE) |  never claimed by the arena
 *                       +- - - - - - - - - - - - -+  <- guard: claimed pages end here,
 *                       | rest of the claimed page|     the stack view has none below
 *                       | canary (4 bytes)        |  at the arena top
 *                       | arena, grows up         |  <- top
 *  block                +-------------------------+  <- base
 *
 * The arena claims the block a page at a time, and only pages that end at
 * least KFAST_RESERVE below esp.  A block is mapped twice (include/mm/
 * block.h): the arena's objects live in the arena view, and a claimed page
 * is removed from the stack view, so a stack that grows into it takes a
 * page fault at the instruction that does it (reported from the double-fault
 * task).  Objects go only into claimed pages; when no page can be claimed
 * (a 4 KiB block has none to spare, the boot thread's static block has one
 * view only, or the stack is deep) they spill.  The canary at the top is
 * the second layer, for writes that are not the stack's.  A reset keeps
 * the claimed pages that end KFAST_KEEP_DEPTH below the block's top (no
 * entry's stack was measured to go that deep) out of the stack view, so
 * the next entry allocates in them inline; where esp comes near them, those
 * without objects go back first (kfast_trim, include/mm/kfast_arena.h).
 * For the small, short-lived objects of one kernel entry: formatted
 * strings, objects made by factories, IPC bounce buffers.  There is no
 * free.  Everything allocated is released at once, in O(1):
 *   - on every return to user mode (the exit path resets the arena),
 *   - by kfast_release(mark) for a scope opened with kfast_mark(),
 *   - by kfast_reset_quiescent() in a kernel thread's loop (kernel threads
 *     never return to user mode; see kernel/mm/kfast.c).
 * A thread that blocks inside the kernel keeps its arena: it is its block.
 *
 * Every pointer is KFAST_ALIGN (8) byte aligned.  An allocation goes into
 * the block only inside pages claimed while they ended at least
 * KFAST_RESERVE bytes below esp.  What does not fit
 * spills - to the per-CPU spill area, then to heap chunks - released at the
 * same reset; in strict mode (build option KFAST_STRICT=1 or the boot word
 * `kfast=strict`) it returns NULL instead.  Sizes so large that the
 * arithmetic would wrap are refused.
 * Must not be used from the double-fault task.
 */
#ifndef TANDEM_KFAST_H
#define TANDEM_KFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "config.h"
#include "percpu_seg.h"
#include "uapi/syscall.h"

#define KFAST_ALIGN       8u
// Room always left below esp when the arena claims memory: the deepest
// nesting of a trap frame (76 bytes), the interrupt path's calls, the
// scheduler and a console write, measured with the stack low-water mark at
// about 600 bytes, doubled.
#define KFAST_RESERVE     1024u
// The deepest any kernel entry of a user thread was measured to write its
// stack below the top of its block (800 bytes, in a debug build at every
// block size; 632 in a release one), about doubled.  `make test`
// measures it again in every kernel job (the user_stacks suite, from each
// thread's low-water mark) and fails if a path went deeper.
#define KFAST_STACK_WORST 1536u
// A reset keeps the arena's claimed pages (out of the stack view) across
// kernel entries as long as they end this far below the block's top: the
// worst stack plus the reserve, in whole pages.  The first allocation of the
// next entry then stays on the inline path instead of claiming again.
#define KFAST_KEEP_DEPTH  ALIGN_UP(KFAST_STACK_WORST + KFAST_RESERVE, 4096u)
// The spill area: one per CPU (the boot CPU's in the kernel image, the
// others' from the heap when they start), lent to the first arena on that
// CPU that spills and returned when that arena is emptied, wherever that
// is, so that the common spill costs no heap call and holds no heap memory
// between entries.
#define KFAST_SPILL_AREA  (64u * 1024u)
#define KFAST_CANARY      0xC011DE5Au // "collide": the word at the arena top
#define KFAST_PAINT       0xA5u       // fills a new block: untouched bytes read 0xA5
#define KFAST_POISON      0x6Bu       // debug: what a reset or release gives back
#define KFAST_MAX_ALLOC   (1u << 24)  // larger requests are refused outright
#ifndef KFAST_STRICT
#define KFAST_STRICT 0 // 1: refuse instead of spilling (`make KFAST_STRICT=1`)
#endif
// A 4 KiB block has no page the arena can claim: a strict arena there would
// refuse every allocation (debug_write's text, IPC payloads).
#if KFAST_STRICT && KSTACK_SIZE <= 4096
#error KFAST_STRICT=1 needs KSTACK_SIZE of 8192 or more: a 4096-byte block has no page the arena can claim, so a strict arena would refuse every allocation
#endif

struct kfast_chunk;

// A saved arena position (Turbo Pascal's Mark): release returns to it.
typedef struct {
    uintptr_t top;
    uintptr_t guard;           // end of the claimed pages at the mark
    struct kfast_chunk *spill; // newest spill chunk at the mark
    uint32_t spill_used;       // bytes used in it
} kfast_mark_t;

// Per-thread arena state, kept in the thread control block.  While the
// thread runs, its top, guard and count live in g_kfast instead.
struct kfast_arena {
    uintptr_t base;        // first arena byte (the block's start, in the arena view)
    uintptr_t end;         // the block's end (base + KSTACK_SIZE)
    uint32_t sp_offset;    // arena-view address = stack-view address + sp_offset
    bool guarded;          // claimed pages leave the stack view (the trap)
    uintptr_t top;         // saved top while not running
    uintptr_t guard;       // saved end of the claimed pages while not running
    uint32_t allocations;  // saved count of objects placed in the block, while not running
    uintptr_t keep;        // a reset leaves at most this much claimed (KFAST_KEEP_DEPTH)
    uintptr_t reset_limit; // keep, or 0 while spill chunks exist: the reset's one test
    uintptr_t peak_top;    // highest top so far (the block's peak, an address)
    uint32_t peak;         // most bytes in use at once, block and spilled, noted while
                           //   spill chunks existed (otherwise peak_top says it)
    uint32_t refusals, collisions;
    uint32_t resets;           // kernel threads' quiescent resets (user threads: see kfast_stats)
    uint32_t emptied;          // resets that had something to give back
    uint32_t trimmed;          // times kept pages went back because esp came near them
    uintptr_t empty_top;       // base, or 0 while spill chunks exist (so that top != empty_top)
    struct kfast_chunk *spill; // newest spill chunk (a chain to older ones)
    uint32_t spill_older;      // bytes handed out from the chunks older than the newest
    // What the inline spill path touches, side by side: on the host, with
    // spills apart from them, the count's increment cost a third of an
    // entry's time in the transient benchmark.
    uintptr_t chunk_top;    // the newest chunk's next free byte (its fill: the inline bump)
    uintptr_t chunk_end;    // the newest chunk's end (chunk_top when there is none)
    uint32_t spills;        // allocations served from spill chunks
    bool strict;            // refuse instead of spilling
    bool may_trim;          // no interrupt nests in this thread's kernel code (a user
                            //   thread's runs with interrupts off), so a trim cannot
                            //   cut under an interrupted inline allocation (kfast_trim)
    uint32_t calls_pending; // cross-CPU calls whose request is in this arena and not
                            //   yet answered by every target: a reset now would free
                            //   it under them (include/smp/xcall.h; checked in debug)
};

// The running thread's arena "registers", one set per CPU: swapped by the
// context switch so that the fast path reaches them with one instruction
// each.
struct kfast_cpu {
    uintptr_t top;                  // next free byte; the canary sits at [top, top + 4)
    uintptr_t guard;                // end of the claimed pages: the stack view has none below
    uint32_t allocations;           // objects placed in the block (spills are counted apart)
    struct kfast_arena *arena;      // the running thread's state
    uintptr_t empty_top;            // arena->empty_top: top when there is nothing to release
    struct kfast_chunk *spill_area; // this CPU's spill area (NULL: the image's)
};
#if __STDC_HOSTED__
extern struct kfast_cpu g_kfast; // the host tests and benchmarks: one CPU
#else
// The running CPU's: the first member of its area (include/percpu.h),
// %fs-relative, so each access is one instruction, as an absolute one was.
#define g_kfast PERCPU_AT(struct kfast_cpu, 0)
#endif

void *kfast_alloc_slow(size_t size, uintptr_t caller);
void *kfast_zalloc_slow(size_t size, uintptr_t caller);

#if TANDEM_DEBUG || defined(HOST_TEST)
// Debug builds record each allocation's size and caller (for GDB's
// `tandem arena`), so every allocation is a call: its return address is
// the caller's.
void *kfastmalloc(size_t size);
// kfastmalloc, zeroed.
void *kfastzalloc(size_t size);
#else
// Clears n bytes at p (8-aligned): word stores, unrolled for a small
// constant n (gcc's own expansion would test the alignment and loop).
static FORCE_INLINE void
kfast_zero(void *p, size_t n)
{
    if (__builtin_constant_p(n) && n <= 256) {
        uint32_t *w = p;
#pragma GCC unroll 64
        for (size_t i = 0; i < n / 4; i++)
            w[i] = 0;
        for (size_t i = n & ~(size_t)3; i < n; i++)
            ((uint8_t *)p)[i] = 0;
    } else {
        __builtin_memset(p, 0, n);
    }
}

// The fast path: a handful of instructions for a constant size.  It needs
// no esp: the claimed pages are gone from the stack view, so no stack is there.
// The object and the canary after it must end inside them (end is 8-aligned
// and guard page-aligned, so end < guard leaves room for the canary).
// Sizes above KSTACK_SIZE never fit, and excluding them first keeps the
// sum from wrapping.  What the claimed pages cannot take goes to the spill
// chunk this entry already uses, with a bump of its own; the first spill of
// an entry, a claim, a new chunk and a refusal are the out-of-line path's.
static FORCE_INLINE void *
kfast_alloc_inline(size_t size, bool zero)
{
    if (unlikely(size > KSTACK_SIZE))
        return zero ? kfast_zalloc_slow(size, 0) : kfast_alloc_slow(size, 0);
    uint32_t n = (uint32_t)ALIGN_UP(size, KFAST_ALIGN);
    uintptr_t top = g_kfast.top;
    uintptr_t end = top + n;
    if (likely(end < g_kfast.guard)) {
        // Top moves first, the canary follows with the next store: an
        // interrupt between the two finds that store pending and knows it
        // (kfast_canary_store_pending); the barrier keeps gcc from swapping them.
        g_kfast.top = end;
        __asm__ volatile("" : : : "memory");
        *(volatile uint32_t *)end = KFAST_CANARY;
        g_kfast.allocations++;
        if (zero)
            kfast_zero((void *)top, size);
        return (void *)top;
    }
    // An interrupt between the load and the store of chunk_top releases
    // whatever it spilled before it returns, so the store stays right.
    struct kfast_arena *a = g_kfast.arena;
    uintptr_t p = a->chunk_top;
    if (likely(a->chunk_end - p > n)) {
        a->chunk_top = p + n;
        a->spills++;
        if (zero)
            kfast_zero((void *)p, size);
        return (void *)p;
    }
    return zero ? kfast_zalloc_slow(size, 0) : kfast_alloc_slow(size, 0);
}

static FORCE_INLINE void *
kfastmalloc(size_t size)
{
    return kfast_alloc_inline(size, false);
}

// kfastmalloc, zeroed: the same paths, then the bytes asked for cleared.
static FORCE_INLINE void *
kfastzalloc(size_t size)
{
    return kfast_alloc_inline(size, true);
}
#endif

kfast_mark_t kfast_mark(void);
// Releases everything allocated since mark; marks must be released in
// reverse order (a mark above the current top panics with both values).
void kfast_release(kfast_mark_t mark);
// Empties a kernel thread's arena at a point where it holds no arena
// pointers (its loop's top).  User threads are reset by the exit path.
void kfast_reset_quiescent(void);

struct thread;
// The figures of thread t's arena (the running thread's, if t is NULL).
void kfast_stats(struct thread *t, struct kfast_stats *out);

#endif
