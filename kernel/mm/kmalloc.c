// kmalloc and friends: kernel/mm/heap.c over the heap region of paging.h.
// In release builds kmalloc and kfree are inline (kmalloc.h) and come here
// only for what the heap's cache cannot do in a few instructions.
#include "kmalloc.h"
#include "kprintf.h"
#include "ksyms.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "panic.h"
#include "spinlock.h"
#include "x86.h"

#define HEAP_GROW_MIN (16u * 1024) // grow in steps of at least this

struct heap g_kheap;
static uintptr_t s_heap_end = HEAP_BASE; // first unmapped heap address

// Maps fresh frames at the end of the heap region, so that every grow is
// contiguous with the last.  All or nothing: on failure it unmaps what it
// mapped and returns NULL.
static void *
kheap_grow(void *ctx, size_t min_bytes, size_t *got)
{
    (void)ctx;
    size_t bytes = ALIGN_UP(min_bytes < HEAP_GROW_MIN ? HEAP_GROW_MIN : min_bytes, PAGE_SIZE);
    if (min_bytes > HEAP_LIMIT - HEAP_BASE || bytes > HEAP_LIMIT - s_heap_end)
        return NULL;
    uintptr_t start = s_heap_end, va;
    for (va = start; va < start + bytes; va += PAGE_SIZE) {
        uintptr_t pa = frame_alloc();
        if (!pa || vm_map(&g_kernel_space, va, pa, VM_WRITE) != 0) {
            if (pa)
                frame_free(pa);
            while (va > start) {
                va -= PAGE_SIZE;
                frame_free(vm_unmap(&g_kernel_space, va));
            }
            return NULL;
        }
    }
    s_heap_end = start + bytes;
    *got = bytes;
    return (void *)start;
}

// Takes back the pages at the end of the heap region that the heap no
// longer uses, so that a burst of allocations (a spawn bomb) does not keep
// its frames for ever.  The heap only gives back its top, which is always
// where the last grow ended.
static void
kheap_shrink(void *ctx, void *start, size_t bytes)
{
    (void)ctx;
    uintptr_t va = (uintptr_t)start;
    KASSERT(va + bytes == s_heap_end && IS_ALIGNED(va, PAGE_SIZE) && IS_ALIGNED(bytes, PAGE_SIZE));
    for (uintptr_t p = va; p < s_heap_end; p += PAGE_SIZE)
        frame_free(vm_unmap(&g_kernel_space, p));
    s_heap_end = va;
}

static const char *
sym_or_unknown(uintptr_t addr)
{
    const char *s = addr ? ksym_lookup(addr, NULL) : NULL;
    return s ? s : "?";
}

static const char *const s_fault_names[] = {
    [HEAP_BAD_POINTER] = "free of a pointer the heap never returned",
    [HEAP_DOUBLE_FREE] = "double free",
    [HEAP_BAD_HEADER] = "block header overwritten",
    [HEAP_REDZONE_BEFORE] = "red zone before the block overwritten",
    [HEAP_REDZONE_AFTER] = "red zone after the block overwritten",
    [HEAP_BAD_FREE_LIST] = "free lists damaged",
    [HEAP_BAD_STATS] = "statistics disagree with the blocks",
    [HEAP_WRITE_AFTER_FREE] = "block written after it was freed",
    [HEAP_BAD_CACHE] = "cache lists damaged",
};

NORETURN static void
kheap_corrupt(void *ctx, const struct heap_report *r)
{
    (void)ctx;
    panic("heap: %s: pointer %p, size %zu, caller %#lx <%s>, allocated by %#lx <%s>",
          s_fault_names[r->what], r->ptr, r->size, (unsigned long)r->caller,
          sym_or_unknown(r->caller), (unsigned long)r->owner, sym_or_unknown(r->owner));
}

void
kheap_init(void)
{
    heap_init(&g_kheap, kheap_grow, kheap_corrupt, NULL);
    // Free pages at the top go back to the frame allocator, less one grow
    // step kept free, so that the top does not map and unmap on every
    // allocation and free that crosses a page.
    heap_set_shrink(&g_kheap, kheap_shrink, PAGE_SIZE, HEAP_GROW_MIN);
}

// One heap for every CPU, under the big kernel lock (debug builds check it
// is held: docs/design.md, "Per-CPU state and the lock").  It is not
// reentrant, and an interrupt handler on the same CPU may allocate (an
// arena spill), so every entry point holds interrupts off too.
#define WITH_IRQS_OFF(expr)           \
    ({                                \
        bkl_assert_held("the heap");  \
        uint32_t flags_ = irq_save(); \
        __typeof__(expr) r_ = (expr); \
        irq_restore(flags_);          \
        r_;                           \
    })

void *
kzalloc(size_t size)
{
    return WITH_IRQS_OFF(heap_zalloc(&g_kheap, size, CALLER_ADDR));
}

void *
kcalloc(size_t n, size_t size)
{
    return WITH_IRQS_OFF(heap_calloc(&g_kheap, n, size, CALLER_ADDR));
}

void *
krealloc(void *p, size_t size)
{
    return WITH_IRQS_OFF(heap_realloc(&g_kheap, p, size, CALLER_ADDR));
}

void *
kmalloc_aligned(size_t size, size_t align)
{
    return WITH_IRQS_OFF(heap_alloc_aligned(&g_kheap, size, align, CALLER_ADDR));
}

#if TANDEM_DEBUG
void *
kmalloc(size_t size)
{
    return WITH_IRQS_OFF(heap_alloc(&g_kheap, size, CALLER_ADDR));
}

void
kfree(void *ptr)
{
    bkl_assert_held("the heap");
    uint32_t flags = irq_save();
    heap_free(&g_kheap, ptr, CALLER_ADDR);
    irq_restore(flags);
}
#else
void *
kmalloc_slow(size_t size)
{
    return WITH_IRQS_OFF(heap_alloc(&g_kheap, size, CALLER_ADDR));
}

void
kfree_slow(void *ptr)
{
    bkl_assert_held("the heap");
    uint32_t flags = irq_save();
    heap_free(&g_kheap, ptr, CALLER_ADDR);
    irq_restore(flags);
}
#endif

void
kheap_flush_cache(void)
{
    uint32_t flags = irq_save();
    heap_flush_cache(&g_kheap);
    irq_restore(flags);
}

void
kheap_stats(struct heap_stats *out)
{
    uint32_t flags = irq_save();
    heap_stats(&g_kheap, out);
    irq_restore(flags);
}

static void
kheap_print_problem(void *arg, const struct heap_report *r)
{
    (void)arg;
    kprintf("heap check: %s at %p (size %zu, allocated by <%s>)\n", s_fault_names[r->what], r->ptr,
            r->size, sym_or_unknown(r->owner));
}

size_t
kheap_check(void)
{
    return WITH_IRQS_OFF(heap_check(&g_kheap, kheap_print_problem, NULL));
}
