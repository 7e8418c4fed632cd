/* The inline fast paths of a release build (include/kfast.h: kfastmalloc,
 * kfastzalloc, the bump in the newest spill chunk) against the out-of-line
 * path they stand in for (kernel/mm/kfast.c): one seeded trace of
 * allocations, scopes, resets and stack moves, run once through the inline
 * functions and once through kfast_alloc_slow/kfast_zalloc_slow from the
 * same state, must place every object alike and leave the arena alike
 * after every step.
 *
 * Built as a release build (kfast_inline.flags) with HOST_TEST undefined in
 * this file only, so that kfast.h gives it the kernel's inline functions;
 * kernel/mm/kfast.c keeps HOST_TEST (the simulated esp).  KFAST_SEED=n
 * fixes the seed, KFAST_OPS=n the trace's length. */
#undef HOST_TEST
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmalloc.h"
#include "mm/kfast_arena.h"

#if TANDEM_DEBUG
#error "kfast_inline_test is a release build (tests/host/kfast_inline.flags)"
#endif

NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
extern uintptr_t g_kfast_host_sp, g_kfast_host_guard;

#define PAGE      4096u
#define STEPS_MAX 20000u

void *
kmalloc(size_t size)
{
    void *p = malloc(size);
    assert_non_null(p);
    memset(p, 0xCD, size); // as the kernel heap's debug fill: zalloc must not rely on it
    return p;
}

void
kfree(void *p)
{
    free(p);
}

void
panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    abort();
}

static uint8_t *s_block;
static struct kfast_arena s_arena;

static unsigned
env_or(const char *name, unsigned dflt)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

static uint64_t
rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint32_t
rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

// What one step left behind: where its object went (the block, or a spill
// chunk by its place in the chain, counted from the oldest) and the arena.
struct step {
    int where; // 0: NULL, 1: the block, 2: a spill chunk
    uint32_t chunk, offset;
    uintptr_t top, guard, chunk_fill, chunk_room;
    uint32_t chain;
    struct kfast_stats stats;
};

static uint32_t
chain_length(const struct kfast_chunk *c)
{
    uint32_t n = 0;
    for (; c; c = c->older)
        n++;
    return n;
}

static void
note(struct step *st, const void *p)
{
    const struct kfast_arena *a = &s_arena;
    memset(st, 0, sizeof(*st));
    if (p && (uintptr_t)p >= a->base && (uintptr_t)p < a->end) {
        st->where = 1;
        st->offset = (uint32_t)((uintptr_t)p - a->base);
    } else if (p) {
        // Only the newest chunk hands anything out.
        st->where = 2;
        st->chunk = chain_length(a->spill);
        assert_true((uintptr_t)p >= (uintptr_t)a->spill->data &&
                    (uintptr_t)p <= (uintptr_t)a->spill->data + a->spill->size);
        st->offset = (uint32_t)((uintptr_t)p - (uintptr_t)a->spill->data);
    }
    st->top = g_kfast.top - a->base;
    st->guard = g_kfast.guard - a->base;
    st->chain = chain_length(a->spill);
    st->chunk_fill = a->spill ? a->chunk_top - (uintptr_t)a->spill->data : 0;
    st->chunk_room = a->chunk_end - a->chunk_top;
    kfast_arena_stats(a, &st->stats);
    // Every object has its canary after it in the block (the stats read it).
    assert_int_equal(*(const uint32_t *)g_kfast.top, KFAST_CANARY);
}

static uint32_t
size_of_constant(int constant, uint32_t size)
{
    static const uint32_t sizes[] = { 0, 8, 64, 13, 0 };
    return constant ? sizes[constant] : size;
}

// Inline or out of line: the same request.  Constant sizes go through
// their own calls, as kernel code with a constant size gets them.
static void *
alloc(bool inl, bool zero, uint32_t size, int constant)
{
    if (inl) {
        switch (constant) {
        case 1: return zero ? kfastzalloc(8) : kfastmalloc(8);
        case 2: return zero ? kfastzalloc(64) : kfastmalloc(64);
        case 3: return zero ? kfastzalloc(13) : kfastmalloc(13);
        case 4: return zero ? kfastzalloc(0) : kfastmalloc(0);
        default: return zero ? kfastzalloc(size) : kfastmalloc(size);
        }
    }
    size = size_of_constant(constant, size);
    return zero ? kfast_zalloc_slow(size, 0) : kfast_alloc_slow(size, 0);
}

// Runs the trace from seed in a guarded arena (a kernel thread's) or an
// unguarded one (the boot thread's, a 4 KiB block's: everything spills);
// fills steps[0..ops).
static void
run(bool inl, bool guarded, unsigned seed, unsigned ops, struct step *steps)
{
    kfast_arena_init(&s_arena, s_block, 0, guarded, (uintptr_t)s_block + KSTACK_SIZE, false);
    kfast_arena_activate(&s_arena);
    g_kfast_host_guard = s_arena.base;
    g_kfast_host_sp = s_arena.end - 512;
    uint64_t rng = seed * 2654435761u + 1;
    kfast_mark_t marks[8];
    unsigned nmarks = 0;
    for (unsigned i = 0; i < ops; i++) {
        uint32_t r = rng_below(&rng, 100);
        void *p = NULL;
        if (r < 70) {
            bool zero = rng_below(&rng, 3) == 0;
            int constant = rng_below(&rng, 3) == 0 ? 1 + (int)rng_below(&rng, 4) : 0;
            uint32_t size =
                rng_below(&rng, 8) == 0 ? rng_below(&rng, 3 * KSTACK_SIZE) : rng_below(&rng, 600);
            p = alloc(inl, zero, size, constant);
            uint32_t n = size_of_constant(constant, size);
            if (p && zero)
                for (uint32_t k = 0; k < n; k++)
                    assert_int_equal(((uint8_t *)p)[k], 0);
            if (p)
                memset(p, 0xEE, n); // dirty, for the zalloc after a release
        } else if (r < 80 && nmarks < 8) {
            marks[nmarks++] = kfast_mark();
        } else if (r < 90 && nmarks > 0) {
            kfast_release(marks[--nmarks]);
        } else if (r < 93) {
            kfast_reset();
            nmarks = 0;
        } else {
            // The stack moves, never into the claimed pages nor the arena.
            uintptr_t floor = g_kfast.top + 4 > g_kfast.guard ? g_kfast.top + 4 : g_kfast.guard;
            uint32_t room = (uint32_t)(s_arena.end - floor);
            uint32_t depth = 64 + rng_below(&rng, room > 72 ? room - 64 : 8);
            g_kfast_host_sp = s_arena.end - (depth & ~7u);
        }
        note(&steps[i], p);
    }
    kfast_reset();
    assert_null(s_arena.spill);
    assert_false(kfast_spill_area_lent());
}

static void
agree(bool guarded)
{
    unsigned seed = env_or("KFAST_SEED", 0x7A4D), ops = env_or("KFAST_OPS", 5000);
    if (ops > STEPS_MAX)
        ops = STEPS_MAX;
    static struct step a[STEPS_MAX], b[STEPS_MAX];
    print_message("# seed %u, %u steps, %s\n", seed, ops, guarded ? "guarded" : "unguarded");
    run(true, guarded, seed, ops, a);
    run(false, guarded, seed, ops, b);
    unsigned in_block = 0, in_chunk = 0;
    for (unsigned i = 0; i < ops; i++) {
        if (memcmp(&a[i], &b[i], sizeof(a[i])) != 0) {
            fail_msg("step %u: inline placed in %d/%u+%u (top %#lx, guard %#lx, chunk %lu+%lu), "
                     "slow in %d/%u+%u (top %#lx, guard %#lx, chunk %lu+%lu)",
                     i, a[i].where, a[i].chunk, a[i].offset, (unsigned long)a[i].top,
                     (unsigned long)a[i].guard, (unsigned long)a[i].chunk_fill,
                     (unsigned long)a[i].chunk_room, b[i].where, b[i].chunk, b[i].offset,
                     (unsigned long)b[i].top, (unsigned long)b[i].guard,
                     (unsigned long)b[i].chunk_fill, (unsigned long)b[i].chunk_room);
        }
        in_block += a[i].where == 1;
        in_chunk += a[i].where == 2 && a[i].offset > 0;
    }
    print_message("# %u objects placed in the block, %u further into a spill chunk\n", in_block,
                  in_chunk);
    // The trace reaches both inline paths (an unguarded arena places only
    // zero-byte requests at its top).
    if (guarded)
        assert_true(in_block > ops / 10);
    assert_true(in_chunk > ops / 20);
}

static void
test_inline_paths_agree_with_the_slow_path(void **state)
{
    (void)state;
    agree(true);
}

static void
test_inline_paths_agree_with_the_slow_path_unguarded(void **state)
{
    (void)state;
    agree(false);
}

// The first allocation after a reset lands in the page the reset kept,
// inline: no claim, nothing out of line.
static void
test_first_allocation_after_a_reset_stays_inline(void **state)
{
    (void)state;
    if (KSTACK_SIZE <= KFAST_KEEP_DEPTH)
        skip();
    kfast_arena_init(&s_arena, s_block, 0, true, (uintptr_t)s_block + KSTACK_SIZE, false);
    kfast_arena_activate(&s_arena);
    g_kfast_host_sp = s_arena.end - 512;
    void *p = kfastmalloc(8);
    assert_ptr_equal(p, (void *)s_arena.base);
    uintptr_t guard = g_kfast.guard;
    assert_int_equal(guard, s_arena.base + PAGE);
    kfast_reset();
    assert_int_equal(g_kfast.guard, guard);
    // esp where no page could be claimed now: only a kept one takes it.
    g_kfast_host_sp = s_arena.base + PAGE + 8;
    p = kfastzalloc(64);
    assert_ptr_equal(p, (void *)s_arena.base);
    assert_int_equal(g_kfast.top, s_arena.base + 64);
    kfast_reset();
}

static int
setup(void **state)
{
    (void)state;
    s_block = aligned_alloc(KSTACK_SIZE, KSTACK_SIZE);
    return s_block ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    free(s_block);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inline_paths_agree_with_the_slow_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inline_paths_agree_with_the_slow_path_unguarded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_first_allocation_after_a_reset_stays_inline, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("kfast_inline", tests, NULL, NULL);
}
