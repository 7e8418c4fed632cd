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
 * the second layer, for writes that are not the stack's.
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
 * spills to heap chunks released at the same reset; in strict mode (build
 * option KFAST_STRICT=1 or the boot word `kfast=strict`) it returns NULL
 * instead.  Sizes so large that the arithmetic would wrap are refused.
 * Must not be used from the double-fault task.
 */
#ifndef TANDEM_KFAST_H
#define TANDEM_KFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "config.h"
#include "uapi/syscall.h"

#define KFAST_ALIGN     8u
// Room always left below esp when the arena claims memory: the deepest
// nesting of a trap frame (76 bytes), the interrupt path's calls, the
// scheduler and a console write, measured with the stack low-water mark at
// about 600 bytes, doubled.
#define KFAST_RESERVE   1024u
#define KFAST_CANARY    0xC011DE5Au     // "collide": the word at the arena top
#define KFAST_PAINT     0xA5u           // fills a new block: untouched bytes read 0xA5
#define KFAST_POISON    0x6Bu           // debug: what a reset or release gives back
#define KFAST_MAX_ALLOC (1u << 24)      // larger requests are refused outright
#ifndef KFAST_STRICT
#define KFAST_STRICT    0               // 1: refuse instead of spilling (`make KFAST_STRICT=1`)
#endif
// A 4 KiB block has no page the arena can claim: a strict arena there would
// refuse every allocation (debug_write's text, IPC payloads).
#if KFAST_STRICT && KSTACK_SIZE <= 4096
#error "KFAST_STRICT=1 needs KSTACK_SIZE of 8192 or more: a 4096-byte block has no page the arena can claim, so a strict arena would refuse every allocation"
#endif

struct kfast_chunk;

// A saved arena position (Turbo Pascal's Mark): release returns to it.
typedef struct {
    uintptr_t top;
    uintptr_t guard;            // end of the claimed pages at the mark
    struct kfast_chunk *spill;  // newest spill chunk at the mark
    uint32_t spill_used;        // bytes used in it
} kfast_mark_t;

// Per-thread arena state, kept in the thread control block.  While the
// thread runs, its top and allocation count live in g_kfast instead.
struct kfast_arena {
    uintptr_t base;             // first arena byte (the block's start, in the arena view)
    uintptr_t end;              // the block's end (base + KSTACK_SIZE)
    uint32_t sp_offset;         // arena-view address = stack-view address + sp_offset
    bool guarded;               // claimed pages leave the stack view (the trap)
    uintptr_t top;              // saved top while not running
    uintptr_t guard;            // saved end of the claimed pages while not running
    uint32_t allocations;       // saved count while not running
    uint32_t peak;              // most bytes in use at once, in the block and spilled
    uint32_t peak_block;        // most bytes of the block in use at once
    uint32_t spills, refusals, collisions;
    uint32_t resets;            // kernel threads' quiescent resets (user threads: see kfast_stats)
    uint32_t emptied;           // resets that had something to give back (kfast_reset_slow)
    uintptr_t empty_top;        // base, or 0 while spill chunks exist (so that top != empty_top)
    struct kfast_chunk *spill;  // newest spill chunk (a chain to older ones)
    uint32_t spill_bytes;       // bytes handed out from spill chunks now
    bool strict;                // refuse instead of spilling
};

// The running thread's arena "registers": swapped by the context switch so
// that the fast path reaches them with absolute addresses.
struct kfast_cpu {
    uintptr_t top;              // next free byte; the canary sits at [top, top + 4)
    uintptr_t guard;            // end of the claimed pages: the stack view has none below
    uint32_t allocations;
    struct kfast_arena *arena;  // the running thread's state
    uintptr_t empty_top;        // arena->empty_top: top when there is nothing to release
};
extern struct kfast_cpu g_kfast;

void *kfast_alloc_slow(size_t size, uintptr_t caller);

#if TANDEM_DEBUG || defined(HOST_TEST)
// Debug builds record each allocation's size and caller (for GDB's
// `tandem arena`), so every allocation is a call: its return address is
// the caller's.
void *kfastmalloc(size_t size);
#else
// The fast path: a handful of instructions for a constant size.  It needs
// no esp: the claimed pages are gone from the stack view, so no stack is there.
// The object and the canary after it must end inside them (end is 8-aligned
// and guard page-aligned, so end < guard leaves room for the canary).
// Sizes above KSTACK_SIZE never fit, and excluding them first keeps the
// sum from wrapping.
static FORCE_INLINE void *
kfastmalloc(size_t size)
{
    if (unlikely(size > KSTACK_SIZE))
        return kfast_alloc_slow(size, 0);
    uintptr_t top = g_kfast.top;
    uintptr_t end = top + ALIGN_UP(size, KFAST_ALIGN);
    if (unlikely(end >= g_kfast.guard))
        return kfast_alloc_slow(size, 0);
    // Top moves first, the canary follows with the next store: an
    // interrupt between the two finds that store pending and knows it
    // (kfast_canary_store_pending); the barrier keeps gcc from swapping them.
    g_kfast.top = end;
    __asm__ volatile("" ::: "memory");
    *(volatile uint32_t *)end = KFAST_CANARY;
    g_kfast.allocations++;
    return (void *)top;
}
#endif

// kfastmalloc, zeroed.
void *kfastzalloc(size_t size);
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
