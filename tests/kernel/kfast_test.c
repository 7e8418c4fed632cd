// The scratch arena in the running kernel: sizes, spills, scopes, nesting
// under interrupts, blocking, claimed pages, and collisions survived.
//
// Objects go into a block only inside pages the arena has claimed (taken
// out of the block's stack view); everything else spills.  The boot
// thread's static block is never claimed, nor is a 4 KiB block, so the
// tests that look at placement run their bodies in a kernel thread (run()
// below) and expect the block to hold objects only when KSTACK_SIZE has a
// page to spare.  A kernel thread's block is mapped twice
// (include/mm/block.h): kfastmalloc hands out arena-view addresses, esp is a
// stack-view one; ESP_VIEW() is esp seen from the arena.  Debug builds put
// an 8-byte record before every allocation: REC.  Bodies run in other
// threads use KEXPECT only (a KASSERT would longjmp across threads).
//
// Every test also runs in strict mode (boot word kfast=strict, or a
// KFAST_STRICT=1 build; `make test` runs both): what would spill is then
// refused, and a test expects a refusal where it would expect a spill
// (overflowed(), overflows_since()).  The boot thread's block holds
// nothing, so there everything is refused.
#include "boot.h"
#include "collision.h"
#include "irq.h"
#include "kmalloc.h"
#include "ktest.h"
#include "lib/setjmp.h"
#include "lib/string.h"
#include "mm/block.h"
#include "mm/frame.h"
#include "mm/kfast_arena.h"
#include "mm/paging.h"
#include "rtc.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define REC        (TANDEM_DEBUG ? sizeof(struct kfast_record) : 0)
#define COST(n)    ((uint32_t)ALIGN_UP((size_t)(n) + REC, (size_t)KFAST_ALIGN))
#define ESP_VIEW() (read_esp() + g_kfast.arena->sp_offset)
#define ROOMY      (KSTACK_SIZE > PAGE_SIZE) // a kernel thread's block can hold objects
#define STRICT     (g_kfast.arena->strict)   // the running arena refuses instead of spilling

static struct kfast_stats
my_stats(void)
{
    struct kfast_stats s;
    kfast_stats(NULL, &s);
    return s;
}

// True if p lies in the running thread's block (its arena view).
static bool
in_my_block(const void *p)
{
    const struct kfast_arena *a = g_kfast.arena;
    return (uintptr_t)p >= a->base && (uintptr_t)p < a->end;
}

// What the arena gives when its block cannot take an object: a spilled
// one (outside the block), or none in a strict arena.
static bool
overflowed(const void *p)
{
    return STRICT ? p == NULL : p != NULL && !in_my_block(p);
}

static bool
canary_ok(void)
{
    return *(volatile uint32_t *)g_kfast.top == KFAST_CANARY;
}

// Where objects may end (with the canary after them) without a spill: the
// claimed pages, or those the arena may claim now, ending reserve below esp.
static uintptr_t
claim_limit(uint32_t esp_view)
{
    const struct kfast_arena *a = g_kfast.arena;
    uintptr_t limit = g_kfast.guard;
    if (a->guarded && esp_view >= a->base + KFAST_RESERVE) {
        uintptr_t can = ALIGN_DOWN(esp_view - KFAST_RESERVE, PAGE_SIZE);
        if (can > limit)
            limit = can;
    }
    return limit;
}

// Bytes the next allocation may take from the block (record included).
static uint32_t
free_span(uint32_t esp_view)
{
    uintptr_t limit = claim_limit(esp_view);
    return limit >= g_kfast.top + 8 ? (uint32_t)(limit - 8 - g_kfast.top) : 0;
}

// Spills since before, or refusals in a strict arena.
static uint32_t
overflows_since(struct kfast_stats before)
{
    struct kfast_stats now = my_stats();
    return STRICT ? now.refusals - before.refusals : now.spills - before.spills;
}

// Spill chunks the running arena holds (the spill area or heap chunks),
// and the bytes handed out from them.
static unsigned
chunks_held(void)
{
    unsigned n = 0;
    for (const struct kfast_chunk *c = g_kfast.arena->spill; c; c = c->older)
        n++;
    return n;
}

static uint32_t
spill_bytes(void)
{
    return kfast_spill_in_use(g_kfast.arena);
}

static size_t
heap_live(void)
{
    struct heap_stats hs;
    kheap_stats(&hs);
    return hs.live_blocks;
}

// Free frames, counting back those the heap took for itself meanwhile.
static uint32_t
frames_free(void)
{
    struct frame_counts fc;
    struct heap_stats hs;
    frame_counts(&fc);
    kheap_stats(&hs);
    return fc.free + (uint32_t)(hs.heap_size / PAGE_SIZE);
}

static uint8_t
pattern(uint32_t id, uint32_t i)
{
    return (uint8_t)(id * 131u + i * 7u + 1u);
}

static void
fill(void *p, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        ((uint8_t *)p)[i] = pattern(id, i);
}

static bool
intact(const void *p, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (((const volatile uint8_t *)p)[i] != pattern(id, i))
            return false;
    return true;
}

// Makes a kernel thread; its tid is read before it can run, exit and be freed.
static uint32_t
spawn(const char *name, void (*fn)(void *), void *arg)
{
    uint32_t flags = irq_save();
    struct thread *t = kthread_create(name, fn, arg);
    uint32_t tid = t ? t->tid : 0;
    irq_restore(flags);
    return tid;
}

static void
body_main(void *arg)
{
    kfast_mark_t m = kfast_mark();
    ((void (*)(void))arg)();
    kfast_release(m);
}

// Runs body in a fresh kernel thread (interrupts on, its own block) and
// waits for it; nothing may leak.
static void
run(void (*body)(void))
{
    size_t live = heap_live();
    uint32_t frames = frames_free();
    uint32_t tid = spawn("kfast-test", body_main, (void *)body);
    KASSERT_NE(tid, 0);
    thread_join(tid);
    KEXPECT_UEQ(heap_live(), live);
    KEXPECT_UEQ(frames_free(), frames);
}

/* ---- sizes ---- */

static void
aligned_body(void)
{
    uintptr_t prev_end = 0;
    unsigned placed = 0, sized = 0;
    for (uint32_t size = 0; size < 64; size++) {
        uintptr_t before = g_kfast.top;
        uint8_t *p = kfastmalloc(size);
        if (!KEXPECT_NOT_NULL(p))
            return;
        KEXPECT_UEQ((uintptr_t)p % KFAST_ALIGN, 0);
        bool takes_bytes = COST(size) > 0;
        sized += takes_bytes;
        if (!takes_bytes) {
            // Release builds: zero bytes and no record take nothing, claim
            // nothing, and get top (size_zero below).
            KEXPECT_PTR_EQ(p, before);
            KEXPECT_UEQ(g_kfast.top, before);
        } else if (in_my_block(p)) {
            placed++;
            KEXPECT_PTR_EQ(p, before + REC);
            KEXPECT_UEQ(g_kfast.top, before + COST(size));
            KEXPECT_ULE(g_kfast.top + 4, g_kfast.guard); // inside claimed pages
            KEXPECT_UGE((uintptr_t)p, prev_end);
            prev_end = (uintptr_t)p + size;
        } else {
            KEXPECT_UEQ(g_kfast.top, before);
        }
        memset(p, 0x3C, size);
        KEXPECT_TRUE(canary_ok());
    }
    KEXPECT_EQ(placed, ROOMY ? sized : 0);
    KEXPECT_EQ(sized, TANDEM_DEBUG ? 64 : 63);
    uint8_t *z = kfastzalloc(13);
    KEXPECT_UEQ((uintptr_t)z % KFAST_ALIGN, 0);
}

KTEST(kfast, pointers_are_aligned)
{
    run(aligned_body);
}

static void
size_zero_body(void)
{
    struct kfast_stats before = my_stats();
    uintptr_t t0 = g_kfast.top;
    uint8_t *p = kfastmalloc(0);
    KEXPECT_NOT_NULL(p);
    KEXPECT_UEQ((uintptr_t)p % KFAST_ALIGN, 0);
    if (ROOMY || COST(0) == 0) {
        KEXPECT_PTR_EQ(p, t0 + REC);
        KEXPECT_UEQ(g_kfast.top, t0 + COST(0));
    } else {
        KEXPECT_FALSE(in_my_block(p)); // its record needs a claimed page
    }
    KEXPECT_UEQ(my_stats().allocations, before.allocations + 1);
    KEXPECT_UEQ(my_stats().refusals, before.refusals);
    KEXPECT_TRUE(canary_ok());
}

KTEST(kfast, size_zero)
{
    run(size_zero_body);
}

// The largest size that fits ends 8 bytes under the claim limit (the canary
// after it still in the claimed page); one more byte spills, and so does
// anything once the block is full.  The limit comes from esp: pages are
// claimed only if they end reserve below it.
static void
span_body(void)
{
    uint32_t esp = ESP_VIEW();
    uintptr_t top = g_kfast.top;
    uint32_t span = free_span(esp);
    struct kfast_stats before = my_stats();
    size_t live = heap_live();
    if (!ROOMY) {
        KEXPECT_UEQ(span, 0);
        uint8_t *p = kfastmalloc(8);
        KEXPECT_TRUE(overflowed(p));
        KEXPECT_UEQ(overflows_since(before), 1);
        return;
    }
    KEXPECT_GE(span, PAGE_SIZE / 2);
    uintptr_t limit = claim_limit(esp);
    KEXPECT_ULE(limit + KFAST_RESERVE, esp); // never a page within reserve of esp

    kfast_mark_t m = kfast_mark();
    uint8_t *p = kfastmalloc(span - REC);
    KEXPECT_TRUE(in_my_block(p));
    KEXPECT_UEQ(g_kfast.top, limit - 8);
    KEXPECT_UEQ(g_kfast.guard, limit);
    memset(p, 0x55, span - REC);
    uint8_t *q = kfastmalloc(1); // the block is full now
    KEXPECT_TRUE(overflowed(q));
    KEXPECT_UEQ(g_kfast.top, limit - 8);
    kfast_release(m);
    KEXPECT_UEQ(g_kfast.top, top);
    KEXPECT_UEQ(g_kfast.guard, m.guard); // the pages claimed go back

    m = kfast_mark();
    p = kfastmalloc(span - REC + 1);
    KEXPECT_TRUE(overflowed(p));
    KEXPECT_UEQ(g_kfast.top, top);
    KEXPECT_UEQ(overflows_since(before), 2);
    KEXPECT_UEQ(chunks_held(), !STRICT); // the spill chunk
    KEXPECT_UEQ(spill_bytes(), STRICT ? 0 : COST(span - REC + 1));
    if (p)
        memset(p, 0x11, span - REC + 1);
    kfast_release(m);
    KEXPECT_UEQ(chunks_held(), 0);
    KEXPECT_UEQ(heap_live(), live);
    KEXPECT_TRUE(canary_ok());
}

KTEST(kfast, sizes_at_and_over_the_free_span)
{
    run(span_body);
}

// The boot thread's static block is never claimed: all its objects spill,
// or are refused in strict mode.
KTEST(kfast, boot_thread_block_holds_nothing)
{
    KEXPECT_FALSE(g_kfast.arena->guarded);
    uintptr_t t0 = g_kfast.top;
    struct kfast_stats before = my_stats();
    uint8_t *p = kfastmalloc(8);
    KEXPECT_TRUE(overflowed(p));
    KEXPECT_UEQ(g_kfast.top, t0);
    KEXPECT_UEQ(overflows_since(before), 1);
}

static volatile bool s_thread_strict;

static void
strict_probe(void)
{
    s_thread_strict = STRICT;
}

// kfast=strict and KFAST_STRICT=1 reach every arena: the boot thread's and
// each new thread's (except with 4 KiB blocks, where the kernel refuses
// strict mode: nothing could be placed).
KTEST(kfast, strict_mode_reaches_every_arena)
{
    bool want = g_boot.kfast_strict || KFAST_STRICT;
    KEXPECT_EQ(kfast_default_strict(), want && ROOMY);
    KEXPECT_EQ(STRICT, want && ROOMY);
    s_thread_strict = !kfast_default_strict();
    run(strict_probe);
    KEXPECT_EQ(s_thread_strict, kfast_default_strict());
}

KTEST(kfast, wrapping_sizes_are_refused)
{
    const size_t sizes[] = {
        SIZE_MAX,
        SIZE_MAX - 7,
        SIZE_MAX - REC + 1 - KFAST_ALIGN,
        (size_t)KFAST_MAX_ALLOC + 1,
        0xFFFFFFFFu,
        0xFFFFFFF8u,
        0x80000000u,
    };
    struct kfast_stats before = my_stats();
    uintptr_t t0 = g_kfast.top;
    size_t live = heap_live();
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        KEXPECT_NULL(kfastmalloc(sizes[i]));
        KEXPECT_NULL(kfastzalloc(sizes[i]));
    }
    struct kfast_stats after = my_stats();
    KEXPECT_UEQ(after.refusals, before.refusals + 2 * ARRAY_SIZE(sizes));
    KEXPECT_UEQ(after.allocations, before.allocations);
    KEXPECT_UEQ(after.spills, before.spills);
    KEXPECT_UEQ(g_kfast.top, t0);
    KEXPECT_UEQ(heap_live(), live);
    KEXPECT_TRUE(canary_ok());
}

static void
zalloc_body(void)
{
    kfast_mark_t m = kfast_mark();
    uint8_t *dirty = kfastmalloc(600);
    if (!KEXPECT_NOT_NULL(dirty))
        return;
    memset(dirty, 0xEE, 600);
    kfast_release(m);
    uint8_t *z = kfastzalloc(600);
    if (!KEXPECT_NOT_NULL(z))
        return;
    if (ROOMY)
        KEXPECT_PTR_EQ(z, dirty); // the same bytes, dirtied before
    unsigned nonzero = 0;
    for (uint32_t i = 0; i < 600; i++)
        nonzero += z[i] != 0;
    KEXPECT_EQ(nonzero, 0);
    // Larger than any block: from a heap chunk, zeroed too (refused if strict).
    uint8_t *big = kfastzalloc(KSTACK_SIZE + 100);
    KEXPECT_TRUE(overflowed(big));
    if (!big)
        return;
    nonzero = 0;
    for (uint32_t i = 0; i < KSTACK_SIZE + 100; i++)
        nonzero += big[i] != 0;
    KEXPECT_EQ(nonzero, 0);
}

KTEST(kfast, zalloc_zeroes)
{
    run(zalloc_body);
}

#define OBJ  200
#define NOBJ (3 * KSTACK_SIZE / OBJ) // enough to fill the block three times over

static uint8_t *s_objs[NOBJ];

// Objects in the block are inside claimed pages, which ended reserve below
// esp when they were claimed: an allocation never crosses into the stack.
static void
expect_admitted_safely(const uint8_t *p, uint32_t size, uint32_t esp)
{
    KEXPECT_ULE((uintptr_t)p + size + 4, g_kfast.guard);
    KEXPECT_ULE(g_kfast.guard + KFAST_RESERVE, esp);
}

static void
spill_body(void)
{
    size_t live = heap_live();
    struct kfast_stats before = my_stats();
    kfast_mark_t m = kfast_mark();
    unsigned n = NOBJ, placed = 0, spilled = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t esp = ESP_VIEW();
        uint8_t *p = s_objs[i] = kfastmalloc(OBJ);
        if (in_my_block(p)) {
            placed++;
            expect_admitted_safely(p, OBJ, esp);
        } else {
            if (!KEXPECT_TRUE(overflowed(p)))
                return;
            spilled++;
        }
        if (p)
            fill(p, OBJ, i);
        KEXPECT_TRUE(canary_ok());
    }
    KEXPECT_TRUE(ROOMY ? placed > 0 : placed == 0);
    KEXPECT_GT(spilled, n / 2);
    for (unsigned i = 0; i < n; i++)
        KEXPECT_TRUE(!s_objs[i] || intact(s_objs[i], OBJ, i));
    struct kfast_stats s = my_stats();
    KEXPECT_UEQ(overflows_since(before), spilled);
    KEXPECT_UEQ(s.allocations, before.allocations + (STRICT ? placed : n));
    KEXPECT_UEQ(s.in_use, before.in_use + (STRICT ? placed : n) * COST(OBJ));
    KEXPECT_EQ(spill_bytes() > 0, !STRICT);
    KEXPECT_EQ(chunks_held() > 0, !STRICT);
    kfast_release(m);
    KEXPECT_UEQ(chunks_held(), 0);
    KEXPECT_UEQ(heap_live(), live);
    KEXPECT_UEQ(g_kfast.top, m.top);
    KEXPECT_UEQ(my_stats().in_use, before.in_use);
    KEXPECT_TRUE(canary_ok());
}

KTEST(kfast, spill_past_the_block_keeps_data)
{
    run(spill_body);
}

static void
strict_body(void)
{
    struct kfast_arena *a = g_kfast.arena;
    size_t live = heap_live();
    struct kfast_stats before = my_stats();
    kfast_mark_t m = kfast_mark();
    bool was_strict = a->strict;
    a->strict = true;
    unsigned placed = 0, refused = 0;
    for (unsigned i = 0; i < 3 * KSTACK_SIZE / OBJ && refused < 3; i++) {
        uint32_t esp = ESP_VIEW();
        uint8_t *p = kfastmalloc(OBJ);
        if (!p) {
            refused++;
            continue;
        }
        KEXPECT_TRUE(in_my_block(p));
        expect_admitted_safely(p, OBJ, esp);
        fill(p, OBJ, i);
        placed++;
    }
    a->strict = was_strict;
    KEXPECT_TRUE(ROOMY ? placed > 0 : placed == 0);
    KEXPECT_EQ(refused, 3);
    struct kfast_stats s = my_stats();
    KEXPECT_UEQ(s.refusals, before.refusals + 3);
    KEXPECT_UEQ(s.spills, before.spills);
    KEXPECT_UEQ(heap_live(), live);
    kfast_release(m);
    KEXPECT_TRUE(canary_ok());
}

KTEST(kfast, strict_refuses_instead_of_spilling)
{
    run(strict_body);
}

// Deeper in the stack, fewer pages can be claimed: at every depth the size
// that just fits is placed and one more byte spills, until esp - reserve
// falls below the first page's end and everything spills.  The allocator
// reads esp a few frames deeper than this function: where esp - reserve
// lies that close above a page's end, whether the page can be claimed is
// the allocator's call, so the size that just fits is not tried there.
#define ALLOC_DEPTH 256 // bytes of stack between here and the allocator's esp, at most

static void
admit_at_depth(unsigned depth, unsigned *roomy, unsigned *full)
{
    volatile uint8_t frame[96];
    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)i;
    uint32_t esp = ESP_VIEW();
    uint32_t span = free_span(esp);
    kfast_mark_t m = kfast_mark();
    if (span >= REC + 8 && free_span(esp - ALLOC_DEPTH) == span) {
        uint8_t *fits = kfastmalloc(span - REC);
        KEXPECT_TRUE(in_my_block(fits));
        expect_admitted_safely(fits, span - REC, esp);
        kfast_release(m);
        (*roomy)++;
    }
    uint8_t *over = kfastmalloc(span - REC + 8);
    KEXPECT_TRUE(overflowed(over));
    kfast_release(m);
    *full += span < REC + 8;
    if (depth > 0 && esp - g_kfast.arena->base > KFAST_RESERVE + 768)
        admit_at_depth(depth - 1, roomy, full);
    frame[0]++;
}

static void
depth_body(void)
{
    size_t live = heap_live();
    unsigned roomy = 0, full = 0;
    admit_at_depth(60, &roomy, &full);
    KEXPECT_TRUE(ROOMY ? roomy > 0 : roomy == 0);
    KEXPECT_GT(full, 0); // deep enough, nothing can be claimed
    KEXPECT_UEQ(heap_live(), live);
}

KTEST(kfast, admission_follows_esp)
{
    run(depth_body);
}

static void
scopes_body(void)
{
    uint8_t *a = kfastmalloc(40);
    if (!KEXPECT_NOT_NULL(a))
        return;
    fill(a, 40, 1);
    kfast_mark_t m0 = kfast_mark();
    uintptr_t t0 = g_kfast.top, g0 = g_kfast.guard;
    uint32_t s0 = spill_bytes();
    kfastmalloc(100);
    kfastmalloc(KSTACK_SIZE); // spills
    uint32_t s1 = spill_bytes();
    kfast_mark_t m1 = kfast_mark();
    uintptr_t t1 = g_kfast.top;
    uint8_t *b = kfastmalloc(24);
    fill(b, 24, 2);
    uint32_t s2 = spill_bytes();
    kfast_mark_t m2 = kfast_mark();
    uintptr_t t2 = g_kfast.top;
    kfastmalloc(KSTACK_SIZE);
    kfastmalloc(8);
    KEXPECT_EQ(spill_bytes() > s2, !STRICT); // spilled, or refused
    kfast_release(m2);
    KEXPECT_UEQ(g_kfast.top, t2);
    KEXPECT_UEQ(spill_bytes(), s2);
    KEXPECT_TRUE(intact(b, 24, 2));
    kfast_release(m1);
    KEXPECT_UEQ(g_kfast.top, t1);
    KEXPECT_UEQ(spill_bytes(), s1);
    // Reopen, allocate, then release the outermost scope from inside.
    m1 = kfast_mark();
    kfastmalloc(KSTACK_SIZE);
    kfastmalloc(16);
    kfast_mark();
    kfastmalloc(16);
    kfast_release(m0);
    KEXPECT_UEQ(g_kfast.top, t0);
    KEXPECT_UEQ(g_kfast.guard, g0);
    KEXPECT_UEQ(spill_bytes(), s0);
    KEXPECT_UEQ(s0, (!ROOMY && !STRICT) ? COST(40) : 0); // a spilled chunk holds a
    KEXPECT_UEQ(chunks_held(), !ROOMY && !STRICT);
    KEXPECT_TRUE(intact(a, 40, 1));
    KEXPECT_TRUE(canary_ok());
}

KTEST(kfast, nested_scopes_restore_exact_top)
{
    run(scopes_body);
}

/* ---- nested kernel entries ---- */

// A real asynchronous interrupt whose handler allocates: the CMOS RTC's
// periodic interrupt (IRQ 8), at 1024 Hz for the length of the test.
static volatile unsigned s_irq_runs, s_irq_bad, s_irq_spilled, s_irq_refused;

static void
rtc_quiet(struct trap_frame *f)
{
    (void)f;
    cmos_read(RTC_REG_C); // acknowledge, or the RTC raises no more
}

// Allocates in the interrupted thread's arena, above the interrupted
// code's top, and checks where the bytes land.
static void
rtc_allocating(struct trap_frame *f)
{
    (void)f;
    cmos_read(RTC_REG_C);
    uintptr_t t0 = g_kfast.top;
    uint8_t *p = kfastmalloc(40), *q = kfastmalloc(72);
    // A strict arena refuses what its block cannot take (the boot thread's
    // holds nothing; a deep stack leaves no page to claim).
    if ((!p || !q) && STRICT) {
        s_irq_refused++;
        return;
    }
    if (!p || !q || !canary_ok()) {
        s_irq_bad++;
        return;
    }
    if (in_my_block(p)) {
        if ((uintptr_t)p != t0 + REC || (uintptr_t)q != t0 + COST(40) + REC)
            s_irq_bad++;
    } else {
        s_irq_spilled++;
    }
    fill(p, 40, 0xA0 + s_irq_runs);
    fill(q, 72, 0xB0 + s_irq_runs);
    if (!intact(p, 40, 0xA0 + s_irq_runs))
        s_irq_bad++;
    s_irq_runs++;
}

static void
rtc_periodic(bool on)
{
    uint32_t flags = irq_save();
    if (on) {
        irq_register(IRQ_RTC, rtc_allocating);
        rtc_periodic_enable(true);
    } else {
        rtc_periodic_enable(false);
        irq_register(IRQ_RTC, rtc_quiet); // an interrupt already latched finds a handler
    }
    cmos_read(RTC_REG_C);
    irq_restore(flags);
}

#define ROUND_OBJS 12

#define NEST_TICKS   20
// The wait for NEST_TICKS ticks ends after ten times as many tick periods
// of the PIT's own count, or if that count stands still: a timer that no
// longer interrupts fails the test in about two seconds instead of hanging it.
#define NEST_PERIODS (10 * NEST_TICKS)
#define NEST_STILL   100000u

static struct {
    unsigned rounds, bad, placed;
    uint32_t ticks, periods, still;
    uintptr_t top_before, top_after;
} s_nest;

// Allocates and checks scopes for NEST_TICKS timer ticks with interrupts
// on; every object in the block must be exactly where the last one ended.
static void
nest_body(void)
{
    static uint8_t *objs[ROUND_OBJS];
    static uint32_t sizes[ROUND_OBJS];
    struct pit_watch clock;
    s_nest.top_before = g_kfast.top;
    uint32_t start = timer_ticks();
    pit_watch_start(&clock);
    while (timer_ticks() - start < NEST_TICKS && pit_watch_poll(&clock) < NEST_PERIODS &&
           clock.still < NEST_STILL) {
        kfast_mark_t m = kfast_mark();
        uintptr_t expect = g_kfast.top;
        for (unsigned i = 0; i < ROUND_OBJS; i++) {
            sizes[i] = 1 + (s_nest.rounds * 7 + i * 13) % 60;
            objs[i] = kfastmalloc(sizes[i]);
            if (!objs[i]) {
                s_nest.bad++;
                return;
            }
            if (in_my_block(objs[i])) {
                s_nest.placed++;
                if ((uintptr_t)objs[i] != expect + REC || g_kfast.top != expect + COST(sizes[i]))
                    s_nest.bad++;
                expect += COST(sizes[i]);
            } else if (g_kfast.top != expect) {
                s_nest.bad++;
            }
            fill(objs[i], sizes[i], s_nest.rounds + i);
        }
        for (unsigned i = 0; i < ROUND_OBJS; i++)
            s_nest.bad += !intact(objs[i], sizes[i], s_nest.rounds + i);
        s_nest.bad += !canary_ok();
        kfast_release(m);
        s_nest.bad += g_kfast.top != m.top;
        s_nest.rounds++;
    }
    s_nest.ticks = timer_ticks() - start;
    s_nest.periods = clock.periods;
    s_nest.still = clock.still;
    s_nest.top_after = g_kfast.top;
}

static void
expect_nesting_survived(void)
{
    KEXPECT_EQ(s_nest.bad, 0);
    if (s_nest.ticks < NEST_TICKS) {
        uint32_t flags = irq_save();
        uint16_t isr = irq_in_service(), masked = irq_masked();
        irq_restore(flags);
        ktest_fail(__FILE__, __LINE__, false,
                   "timer ticks did not advance: %u ticks in %u rounds, while the PIT counted "
                   "%u periods%s (IRQs in service %#x, masked %#x)",
                   s_nest.ticks, s_nest.rounds, s_nest.periods,
                   s_nest.still >= NEST_STILL ? " and then stood still" : "", isr, masked);
    }
    KEXPECT_GT(s_nest.rounds, 20);
    KEXPECT_TRUE(ROOMY ? s_nest.placed > 0 : s_nest.placed == 0);
    KEXPECT_UEQ(s_nest.top_after, s_nest.top_before);
}

KTEST(kfast, timer_interrupts_nest_inside_allocations)
{
    memset(&s_nest, 0, sizeof(s_nest));
    run(nest_body);
    expect_nesting_survived();
}

KTEST(kfast, allocating_interrupts_leave_no_trace)
{
    memset(&s_nest, 0, sizeof(s_nest));
    s_irq_runs = s_irq_bad = s_irq_spilled = s_irq_refused = 0;
    rtc_periodic(true);
    run(nest_body);
    rtc_periodic(false);
    expect_nesting_survived();
    KEXPECT_GE(s_irq_runs, 20); // the handler did allocate, many times
    KEXPECT_EQ(s_irq_bad, 0);
    if (ROOMY)
        KEXPECT_LT(s_irq_spilled, s_irq_runs);
}

/* ---- blocking ---- */

struct blocker {
    struct waitq q;
    volatile bool waiting, woken, wait_ok;
    volatile unsigned bad;
    volatile uintptr_t top_before, top_after_sleep, top_after_wait;
};

static void
blocker_main(void *arg)
{
    struct blocker *b = arg;
    kfast_mark_t m = kfast_mark();
    // y spills (a strict arena refuses it: then x is all it holds).
    uint8_t *x = kfastmalloc(300), *y = kfastmalloc(2 * KSTACK_SIZE);
    if (!x || !overflowed(y)) {
        b->bad++;
        thread_exit(1);
    }
    fill(x, 300, 5);
    if (y)
        fill(y, 2 * KSTACK_SIZE, 6);
    b->top_before = g_kfast.top;
    thread_sleep(3);
    b->top_after_sleep = g_kfast.top;
    b->bad += !intact(x, 300, 5) + (y && !intact(y, 2 * KSTACK_SIZE, 6)) + !canary_ok();
    cli();
    b->waiting = true;
    b->wait_ok = waitq_wait(&b->q, "kfast test: blocked with arena objects");
    sti();
    b->woken = true;
    b->top_after_wait = g_kfast.top;
    b->bad += !intact(x, 300, 5) + (y && !intact(y, 2 * KSTACK_SIZE, 6)) + !canary_ok();
    kfast_release(m);
}

KTEST(kfast, blocked_thread_keeps_its_arena)
{
    static struct blocker b;
    memset(&b, 0, sizeof(b));
    waitq_init(&b.q);
    // Meanwhile this thread has arena objects of its own (spilled: the boot
    // thread's block holds none; a strict arena has none at all).
    uint8_t *mine = kfastmalloc(500);
    KASSERT_TRUE(overflowed(mine));
    if (mine)
        fill(mine, 500, 7);
    size_t live = heap_live();
    uint32_t tid = spawn("kfast-blocker", blocker_main, &b);
    KASSERT_NE(tid, 0);
    for (int i = 0; i < 200 && !b.waiting; i++)
        thread_sleep(1);
    KEXPECT_TRUE(b.waiting);
    thread_sleep(2);
    KEXPECT_FALSE(b.woken); // it really is blocked
    uint32_t flags = irq_save();
    struct thread *t = thread_find(tid);
    KEXPECT_TRUE(t && t->state == THREAD_BLOCKED);
    waitq_wake_all(&b.q);
    irq_restore(flags);
    thread_join(tid);
    KEXPECT_TRUE(b.woken);
    KEXPECT_TRUE(b.wait_ok);
    KEXPECT_EQ(b.bad, 0);
    KEXPECT_NE(b.top_before, 0);
    KEXPECT_UEQ(b.top_after_sleep, b.top_before);
    KEXPECT_UEQ(b.top_after_wait, b.top_before);
    KEXPECT_TRUE(!mine || intact(mine, 500, 7));
    KEXPECT_UEQ(heap_live(), live);
}

/* ---- claimed pages (blocks with a page to spare) ---- */

struct claim {
    uintptr_t base, block;
    uint32_t sp_offset;
    bool guarded;
    uintptr_t guard0, guard1, guard_in_scope, guard_after_release, guard_after_reset, keep;
    uintptr_t second_claim;         // the guard a second claim would set, 0 if esp forbids it
    uintptr_t top_next, guard_next; // after the next allocation
    bool hidden, shown_after_reset, arena_mapped, data_ok;
};

static bool
stack_view_mapped(uintptr_t arena_va)
{
    return vm_query(&g_kernel_space, arena_va - g_kfast.arena->sp_offset, NULL, NULL);
}

static void
claimer_main(void *arg)
{
    struct claim *c = arg;
    struct kfast_arena *a = g_kfast.arena;
    c->base = a->base;
    c->block = (uintptr_t)g_current->block;
    c->sp_offset = a->sp_offset;
    c->guarded = a->guarded;
    c->guard0 = g_kfast.guard;
    uint8_t *p = kfastmalloc(100);
    fill(p, 100, 1);
    c->guard1 = g_kfast.guard;
    c->hidden = !stack_view_mapped(a->base);
    c->arena_mapped = vm_query(&g_kernel_space, a->base, NULL, NULL);
    kfast_mark_t m = kfast_mark();
    // Past the first page: claimed too if its end lies reserve below esp
    // (16 KiB blocks), else placed on the canary alone.
    uintptr_t want = ALIGN_UP(g_kfast.top + COST(PAGE_SIZE) + 4, PAGE_SIZE);
    c->second_claim = want + KFAST_RESERVE + 256 <= ESP_VIEW() ? want : 0;
    uint8_t *q = kfastmalloc(PAGE_SIZE);
    c->guard_in_scope = g_kfast.guard;
    // q lies in the second page if it could be claimed; else it spilled,
    // or a strict arena refused it.
    c->data_ok = (c->second_claim ? in_my_block(q) : overflowed(q)) && intact(p, 100, 1);
    kfast_release(m);
    c->guard_after_release = g_kfast.guard;
    kfast_reset_quiescent();
    c->guard_after_reset = g_kfast.guard;
    c->keep = a->keep;
    c->shown_after_reset = stack_view_mapped(a->base);
    // Exits holding a claimed page: the reaper must free the block whole.
    // A kept page takes it without a claim.
    kfastmalloc(100);
    c->top_next = g_kfast.top;
    c->guard_next = g_kfast.guard;
}

KTEST(kfast, guarded_arena_claims_whole_pages)
{
    static struct claim c;
    memset(&c, 0, sizeof(c));
    size_t live = heap_live();
    uint32_t frames = frames_free();
    uint32_t tid = spawn("kfast-claimer", claimer_main, &c);
    KASSERT_NE(tid, 0);
    thread_join(tid);
    KEXPECT_UEQ(frames_free(), frames);
    KEXPECT_UEQ(heap_live(), live);

    KEXPECT_UEQ(c.base, c.block + BLOCK_ARENA_OFFSET); // the arena view, past a gap
    KEXPECT_UEQ(c.sp_offset, BLOCK_ARENA_OFFSET);
    KEXPECT_UEQ(c.base & (KSTACK_SIZE - 1), 0);
    KEXPECT_UEQ(c.guard0, c.base);
    KEXPECT_TRUE(c.arena_mapped);
    KEXPECT_TRUE(c.data_ok);
    if (KSTACK_SIZE > PAGE_SIZE) {
        KEXPECT_TRUE(c.guarded);
        KEXPECT_UEQ(c.guard1, c.base + PAGE_SIZE); // the first page, claimed whole
        KEXPECT_TRUE(c.hidden);                    // and gone from the stack view
        KEXPECT_UEQ(c.guard_in_scope, c.second_claim ? c.second_claim : c.base + PAGE_SIZE);
        KEXPECT_TRUE(KSTACK_SIZE < 4 * PAGE_SIZE || c.second_claim);
        KEXPECT_UEQ(c.guard_after_release, c.base + PAGE_SIZE);
    } else {
        KEXPECT_FALSE(c.guarded); // a 4 KiB block has no page to spare
        KEXPECT_UEQ(c.guard1, c.base);
        KEXPECT_FALSE(c.hidden);
    }
    // The reset keeps the claimed pages up to keep (KFAST_KEEP_DEPTH below
    // the block's top), still out of the stack view, and the next
    // allocation lands in them with no claim.
    KEXPECT_UEQ(c.keep,
                KSTACK_SIZE > KFAST_KEEP_DEPTH ? c.base + KSTACK_SIZE - KFAST_KEEP_DEPTH : c.base);
    uintptr_t kept = c.guard_after_release < c.keep ? c.guard_after_release : c.keep;
    KEXPECT_UEQ(c.guard_after_reset, kept);
    KEXPECT_EQ(c.shown_after_reset, kept == c.base);
    KEXPECT_UEQ(c.guard_next, ROOMY ? kept : c.base);
    KEXPECT_UEQ(c.top_next, ROOMY ? c.base + COST(100) : c.base);
}

/* ---- collisions ---- */

struct collide {
    uint32_t tid;
    uintptr_t block, top, guard;
    uint32_t sp_offset;
    bool canary_broken; // seen at the bottom of the dive
    bool scope_moved;   // the scope placed an object in the block
    bool recovered, returned, canary_back, objects_intact;
    uint32_t collisions_before, collisions_after;
};

static struct collide s_col;
static jmp_buf s_col_env;

// The deepest frame: a dense one that writes every word (a compiler's
// frames may leave holes), then a context switch to check the canary.
static NOINLINE void
smash(void)
{
    volatile uint32_t words[64];
    for (unsigned i = 0; i < ARRAY_SIZE(words); i++)
        words[i] = 0x0BAD0000u | i;
    s_col.canary_broken = !canary_ok();
    thread_yield();
    words[0]++;
}

// Recurses, writing each frame, until esp (seen from the arena) is below
// until, or the guard stops it.
static NOINLINE uint32_t
dive(uintptr_t until, uint32_t depth)
{
    volatile uint8_t buf[48];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(depth + i);
    uint32_t esp = ESP_VIEW();
    if (esp > until && depth < 2000)
        esp = dive(until, depth + 1);
    else
        smash();
    return esp + buf[depth % sizeof(buf)];
}

enum how { STRAY_WRITE, STRAY_THEN_RELEASE, STACK_DIVE };

// Breaks the arena's guard rails one way, with a recovery point armed.
// Kept apart so that no caller variable lives across setjmp.
static NOINLINE void
collide_once(enum how how, kfast_mark_t scope)
{
    collision_recovery_arm(&s_col_env);
    if (setjmp(s_col_env) == 0) {
        switch (how) {
        case STRAY_WRITE: // as an overrun of the newest object would
            *(volatile uint32_t *)g_kfast.top = 0x0BADF00Du;
            thread_yield(); // the context switch checks the canary
            break;
        case STRAY_THEN_RELEASE:
            // Interrupts off (sti below): a timer interrupt in between would
            // check the canary first, and the release would not be the one
            // to catch it.
            cli();
            *(volatile uint32_t *)g_kfast.top = 0x0BADF00Du;
            kfast_release(scope); // checked before the scope goes, if it moved top
            *(volatile uint32_t *)g_kfast.top = KFAST_CANARY; // not caught: repair
            break;
        case STACK_DIVE:
            cli();
            dive(g_kfast.arena->base - 256, 0); // to the block's bottom and on
            break;
        }
        s_col.returned = true;
    } else {
        s_col.recovered = true;
        s_col.canary_back = canary_ok();
    }
    collision_recovery_arm(NULL);
    sti(); // a recovery resumes with interrupts off
}

static void
collider_main(void *arg)
{
    enum how how = (enum how)(uintptr_t)arg;
    s_col.tid = g_current->tid;
    s_col.block = (uintptr_t)g_current->block;
    s_col.sp_offset = g_kfast.arena->sp_offset;
    s_col.collisions_before = my_stats().collisions;
    uint8_t *obj = kfastmalloc(PAGE_SIZE / 2); // claims the first page if it can
    fill(obj, PAGE_SIZE / 2, 77);
    kfast_mark_t scope = kfast_mark();
    kfastmalloc(24);
    s_col.top = g_kfast.top;
    s_col.scope_moved = g_kfast.top != scope.top;
    s_col.guard = g_kfast.guard;
    collide_once(how, scope);
    s_col.objects_intact = intact(obj, PAGE_SIZE / 2, 77);
    s_col.collisions_after = my_stats().collisions;
    thread_exit(0);
}

// Runs a collider thread; returns its tid (0 if it could not start).
static uint32_t
collide(enum how how)
{
    memset(&s_col, 0, sizeof(s_col));
    memset(&g_last_collision, 0, sizeof(g_last_collision));
    uint32_t tid = spawn("kfast-collider", collider_main, (void *)(uintptr_t)how);
    if (tid)
        thread_join(tid);
    return tid;
}

static void
expect_report(uint32_t tid)
{
    const struct collision_report *r = &g_last_collision;
    KEXPECT_TRUE(s_col.recovered);
    KEXPECT_FALSE(s_col.returned);
    KEXPECT_TRUE(s_col.canary_back); // the report puts it back
    KEXPECT_UEQ(s_col.collisions_before, 0);
    KEXPECT_UEQ(s_col.collisions_after, 1);
    KEXPECT_UEQ(r->tid, tid);
    KEXPECT_STREQ(r->name, "kfast-collider");
    KEXPECT_UEQ(r->block, s_col.block);
    KEXPECT_UEQ(r->block_size, KSTACK_SIZE);
    KEXPECT_UEQ(r->arena_top, s_col.top);
    KEXPECT_UGE(r->esp + 4096, r->block); // a stack-view address: in the block, or the gap under it
    KEXPECT_ULT(r->esp, r->block + KSTACK_SIZE);
    KEXPECT_NOT_NULL(r->detected_at);
}

static void
expect_stray_write_report(uint32_t tid)
{
    const struct collision_report *r = &g_last_collision;
    expect_report(tid);
    KEXPECT_FALSE(r->by_trap);
    const uint8_t bad[4] = { 0x0D, 0xF0, 0xAD, 0x0B };
    KEXPECT_MEMEQ(r->canary, bad, 4);
    KEXPECT_TRUE(s_col.objects_intact);
}

KTEST(kfast, broken_canary_is_caught_at_the_switch)
{
    size_t live = heap_live();
    uint32_t threads = thread_count();
    uint32_t tid = collide(STRAY_WRITE);
    KASSERT_NE(tid, 0);
    expect_stray_write_report(tid);
    // The system goes on: the thread is gone, nothing leaked, the arena works.
    KEXPECT_UEQ(thread_count(), threads);
    KEXPECT_UEQ(heap_live(), live);
    // The boot thread's arena: a spill, or a refusal if strict.
    KEXPECT_TRUE(overflowed(kfastmalloc(64)));
    KEXPECT_TRUE(canary_ok());
}

// A release checks the canary before it moves top down over it (and only
// then: a scope that placed nothing in the block leaves top alone).
KTEST(kfast, broken_canary_is_caught_before_a_release)
{
    size_t live = heap_live();
    uint32_t tid = collide(STRAY_THEN_RELEASE);
    KASSERT_NE(tid, 0);
    KEXPECT_EQ(s_col.scope_moved, ROOMY);
    if (s_col.scope_moved) {
        expect_stray_write_report(tid);
        KEXPECT_STREQ(g_last_collision.detected_at, "a release");
    } else {
        KEXPECT_TRUE(s_col.returned);
        KEXPECT_FALSE(s_col.recovered);
        KEXPECT_UEQ(s_col.collisions_after, 0);
    }
    KEXPECT_UEQ(heap_live(), live);
}

// A stack driven down its block stops at the guard: the end of the claimed
// pages (blocks with a page to spare), else the unmapped gap under the
// block.  The claimed objects are never written.
KTEST(kfast, stack_dive_is_trapped_by_the_guard)
{
    size_t live = heap_live();
    uint32_t frames = frames_free();
    uint32_t tid = collide(STACK_DIVE);
    KASSERT_NE(tid, 0);
    const struct collision_report *r = &g_last_collision;
    expect_report(tid);
    KEXPECT_TRUE(r->by_trap);
    KEXPECT_FALSE(s_col.canary_broken); // the dive never got to look
    uint32_t floor = (uint32_t)(s_col.guard - s_col.sp_offset);
    KEXPECT_UEQ(floor, ROOMY ? s_col.block + PAGE_SIZE : s_col.block);
    KEXPECT_UGE(r->esp + 128, floor); // within a frame of it
    KEXPECT_ULE(r->esp, floor + 64);
    if (ROOMY)
        KEXPECT_TRUE(s_col.objects_intact); // behind the guard, untouched
    KEXPECT_UEQ(heap_live(), live);
    KEXPECT_UEQ(frames_free(), frames);
}

/* ---- pages kept across entries, and a stack that goes deeper ---- */

// A reset keeps the claimed pages up to keep.  An entry whose stack then
// goes deeper than any measured one (KFAST_STACK_WORST) must never write
// into them unnoticed: where esp is at hand (here, a mark at every level,
// as a nested entry makes) the empty pages near it go back to the stack
// view first; pages that hold objects, or a stack with no check point on
// its way, meet the trap.
struct deep {
    bool marks, objects; // the dive's check points; objects placed in the kept pages
    uintptr_t base, keep, guard_kept, top;
    bool hidden_before, shown_after, recovered, returned, objects_intact;
    uint32_t lowest; // deepest esp the dive saw (arena view)
    uintptr_t guard_after;
    uint32_t trimmed, collisions_before, collisions_after;
};

static struct deep s_deep;
static jmp_buf s_deep_env;

static NOINLINE uint32_t
deep_dive(uintptr_t until, uint32_t depth)
{
    volatile uint8_t buf[48];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(depth ^ i);
    kfast_mark_t m = { 0 };
    if (s_deep.marks)
        m = kfast_mark();
    uint32_t esp = ESP_VIEW();
    if (esp < s_deep.lowest)
        s_deep.lowest = esp;
    if (esp > until && depth < 4000)
        esp = deep_dive(until, depth + 1);
    if (s_deep.marks)
        kfast_release(m);
    return esp + buf[depth % sizeof(buf)];
}

// Kept apart so that no caller variable lives across setjmp.
static NOINLINE void
deep_dive_guarded(uintptr_t until)
{
    collision_recovery_arm(&s_deep_env);
    if (setjmp(s_deep_env) == 0) {
        deep_dive(until, 0);
        s_deep.returned = true;
    } else {
        s_deep.recovered = true;
    }
    collision_recovery_arm(NULL);
}

static void
deep_main(void *arg)
{
    (void)arg;
    struct deep *d = &s_deep;
    struct kfast_arena *a = g_kfast.arena;
    d->base = a->base;
    d->keep = a->keep;
    d->collisions_before = my_stats().collisions;
    // An entry that used the arena: every page it may claim, then the reset.
    uint32_t span = free_span(ESP_VIEW());
    if (span > REC)
        kfastmalloc(span - REC);
    kfast_reset_quiescent();
    d->guard_kept = g_kfast.guard;
    d->hidden_before = !stack_view_mapped(a->base);
    uint8_t *obj = NULL;
    if (d->objects && (obj = kfastmalloc(PAGE_SIZE * 3 / 4)))
        fill(obj, PAGE_SIZE * 3 / 4, 5);
    d->top = g_kfast.top;
    // The next entry, as a user thread's: interrupts off, so nothing nests
    // halfway through an inline allocation and the pages may go back.
    a->may_trim = true;
    uint32_t trimmed = a->trimmed;
    d->lowest = ESP_VIEW();
    cli();
    deep_dive_guarded(a->base + PAGE_SIZE / 2);
    sti();
    d->trimmed = a->trimmed - trimmed;
    d->guard_after = g_kfast.guard;
    d->shown_after = stack_view_mapped(a->base);
    d->objects_intact = !obj || intact(obj, PAGE_SIZE * 3 / 4, 5);
    d->collisions_after = my_stats().collisions;
    thread_exit(0);
}

static void
deep_run(bool marks, bool objects)
{
    memset(&s_deep, 0, sizeof(s_deep));
    memset(&g_last_collision, 0, sizeof(g_last_collision));
    s_deep.marks = marks;
    s_deep.objects = objects;
    size_t live = heap_live();
    uint32_t frames = frames_free();
    uint32_t tid = spawn("kfast-deep", deep_main, NULL);
    KASSERT_NE(tid, 0);
    thread_join(tid);
    KEXPECT_UEQ(heap_live(), live);
    KEXPECT_UEQ(frames_free(), frames);
    const struct deep *d = &s_deep;
    // The pages kept by the reset: all that were claimed, up to keep, out
    // of the stack view (none in a 4 KiB block).
    KEXPECT_UEQ(d->guard_kept, d->keep);
    KEXPECT_EQ(d->hidden_before, d->keep > d->base);
    KEXPECT_EQ(d->keep > d->base, ROOMY);
    KEXPECT_TRUE(d->objects_intact);
    KEXPECT_TRUE(d->recovered != d->returned);
    if (d->keep == d->base) {
        // Nothing kept: the dive, half a page above the block's bottom, is
        // only a deep stack.
        KEXPECT_TRUE(d->returned);
        KEXPECT_UEQ(d->collisions_after, d->collisions_before);
    } else if (d->returned) {
        // Given back before the stack got there: no collision, and the
        // stack view has the pages again, down to reserve below the dive.
        KEXPECT_UEQ(d->collisions_after, d->collisions_before);
        KEXPECT_GT(d->trimmed, 0);
        KEXPECT_ULE(d->guard_after + KFAST_RESERVE, d->lowest);
        KEXPECT_TRUE(d->shown_after);
        KEXPECT_ULT(d->lowest, d->keep); // the stack went where a kept page was
    } else {
        // Caught on the instruction: the trap, at the end of the pages
        // still claimed (a trim never gives back a page with objects), the
        // objects behind it untouched.
        KEXPECT_UEQ(d->collisions_after, d->collisions_before + 1);
        KEXPECT_TRUE(g_last_collision.by_trap);
        KEXPECT_UGE(d->guard_after, ALIGN_UP(d->top, PAGE_SIZE));
        uint32_t floor = (uint32_t)(d->guard_after - (d->base - g_last_collision.block));
        KEXPECT_UGE(g_last_collision.esp + 128, floor);
        KEXPECT_ULE(g_last_collision.esp, floor + 64);
    }
}

KTEST(kfast, kept_pages_go_back_before_a_deep_stack_reaches_them)
{
    deep_run(true, false);
    KEXPECT_TRUE(s_deep.returned);
}

KTEST(kfast, kept_pages_trap_a_deep_stack_with_no_check_point)
{
    deep_run(false, false);
    KEXPECT_EQ(s_deep.recovered, ROOMY);
}

KTEST(kfast, kept_pages_with_objects_trap_a_deep_stack)
{
    deep_run(true, true);
    KEXPECT_EQ(s_deep.recovered, ROOMY);
    deep_run(false, true);
    KEXPECT_EQ(s_deep.recovered, ROOMY);
}
