// The kernel's own checks fire, and say what broke: the stack protector and
// the heap's double-free check (every build), UBSan, the heap's red zones,
// the lock-order checker, the stuck-spinlock report and the heap's check
// for the big kernel lock (debug builds only: release compiles them out).  Each test arms a panic
// recovery point, commits the crime, and reads the panic message.
#include "kmalloc.h"
#include "ktest.h"
#include "lib/format.h"
#include "lib/string.h"
#include "panic.h"
#include "percpu.h"
#include "spinlock.h"
#include "x86.h"

static jmp_buf s_env;

static bool
contains(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (strncmp(haystack, needle, n) == 0)
            return true;
    return false;
}

// Runs fn with a panic recovery point; returns true if it panicked.  The
// panic longjmps back into this frame, so fn must not have touched it: the
// smashing test overwrites only its own frame.
static uint32_t s_flags;

static NOINLINE bool
panics(void (*fn)(void))
{
    s_flags = read_eflags();
    g_panic_message[0] = '\0';
    panic_recovery_arm(&s_env);
    if (setjmp(s_env) == 0) {
        fn();
        panic_recovery_arm(NULL);
        return false;
    }
    if (s_flags & EFLAGS_IF)
        sti(); // panic turned interrupts off
    return true;
}

// Overwrites buf and everything above it in this function's own frame, up
// to and including its return address: the guard gcc puts between the
// arrays and the saved registers, the saved ebp and the return address, as
// a real overflow would, and not one byte of the caller's frame.  How far
// that is depends on the frame layout, which differs between debug and
// release builds (a fixed 32 bytes reached panics()'s return address in
// release).  UBSan would see the overflow first (object-size check): keep it
// out, so the stack protector is what catches it.
static NOINLINE __attribute__((no_sanitize_undefined)) void
smash_own_frame(void)
{
    char buf[8];
    volatile char *p = buf;
    __asm__ volatile("" : "+r"(p));                          // hide buf's size from the optimiser
    uint32_t end = (uint32_t)__builtin_frame_address(0) + 8; // saved ebp, return address
    for (uint32_t n = end - (uint32_t)buf, i = 0; i < n; i++)
        p[i] = 'X';
}

KTEST(hardening, stack_protector_catches_a_smashed_frame)
{
    KASSERT_TRUE(panics(smash_own_frame));
    KEXPECT_TRUE(contains(g_panic_message, "stack protector"));
    KEXPECT_TRUE(contains(g_panic_message, "smash_own_frame"));
}

// The heap checks a pointer before it frees it in every build: a double
// free is named with the pointer and the caller of kfree.
static void *s_block;

static NOINLINE void
double_free(void)
{
    kfree(s_block);
    kfree(s_block);
}

KTEST(hardening, heap_double_free_names_pointer_and_caller)
{
    s_block = kmalloc(24);
    KASSERT_NOT_NULL(s_block);
    char ptr[16];
    ksnprintf(ptr, sizeof(ptr), "%p", s_block);
    KASSERT_TRUE(panics(double_free));
    KEXPECT_TRUE(contains(g_panic_message, "double free"));
    KEXPECT_TRUE(contains(g_panic_message, ptr));
    KEXPECT_TRUE(contains(g_panic_message, "caller"));
    KEXPECT_TRUE(contains(g_panic_message, "double_free")); // the caller's symbol
#if TANDEM_DEBUG
    KEXPECT_TRUE(contains(g_panic_message, "size 24")); // debug builds record the size
#endif
    KEXPECT_UEQ(kheap_check(), 0); // the heap is intact
}

#if TANDEM_DEBUG
// Debug builds only: UBSan, red zones.
static volatile int s_shift = 40, s_one = 1, s_int_max = __INT_MAX__;

static NOINLINE void
shift_too_far(void)
{
    volatile int x = s_one << s_shift;
    (void)x;
}

static NOINLINE void
overflow_int(void)
{
    volatile int x = s_int_max + s_one;
    (void)x;
}

KTEST(hardening, ubsan_reports_a_shift_with_file_and_line)
{
    KASSERT_TRUE(panics(shift_too_far));
    KEXPECT_TRUE(contains(g_panic_message, "UBSan: shift out of bounds"));
    KEXPECT_TRUE(contains(g_panic_message, "hardening_test.c:"));
}

KTEST(hardening, ubsan_reports_signed_overflow)
{
    KASSERT_TRUE(panics(overflow_int));
    KEXPECT_TRUE(contains(g_panic_message, "UBSan: signed addition overflow"));
}

static NOINLINE void
write_past_the_end(void)
{
    ((volatile uint8_t *)s_block)[24] = 0; // one byte past a 24-byte block
    kfree(s_block);
}

KTEST(hardening, heap_red_zone_overwrite_is_reported_on_free)
{
    s_block = kmalloc(24);
    KASSERT_NOT_NULL(s_block);
    KASSERT_TRUE(panics(write_past_the_end));
    KEXPECT_TRUE(contains(g_panic_message, "red zone after"));
    KEXPECT_TRUE(contains(g_panic_message, "size 24"));
    // Repair the red zone and free the block properly.
    ((volatile uint8_t *)s_block)[24] = 0xFD;
    kfree(s_block);
}

// Two locks of the tests' own, in rank order.
static struct spinlock s_outer = SPINLOCK_INIT("test outer", LOCK_RANK_TEST);
static struct spinlock s_inner = SPINLOCK_INIT("test inner", LOCK_RANK_TEST + 1);

// panics(fn) with interrupts off, as locks are taken; then puts back what
// fn took or changed: the test locks free, the big kernel lock held, the
// stuck report's threshold.
static bool
lock_panics(void (*fn)(void))
{
    uint32_t flags = irq_save();
    bool caught = panics(fn);
    if (spin_held(&s_inner))
        spin_unlock(&s_inner);
    s_inner.holder = 0;
    g_spin_stuck_spins = SPIN_STUCK_SPINS;
    if (!bkl_held())
        bkl_lock();
    irq_restore(flags);
    return caught;
}

static NOINLINE void
take_outer_inside_inner(void)
{
    spin_lock(&s_inner);
    spin_lock(&s_outer);
}

KTEST(hardening, lock_taken_out_of_order_names_both)
{
    KASSERT_TRUE(lock_panics(take_outer_inside_inner));
    KEXPECT_TRUE(contains(g_panic_message, "takes test outer (rank 8) while holding test inner "
                                           "(rank 9)"));
    KEXPECT_UEQ(this_cpu()->held_count, 1); // the big kernel lock, as before
}

static NOINLINE void
take_inner_twice(void)
{
    spin_lock(&s_inner);
    spin_lock(&s_inner);
}

KTEST(hardening, lock_taken_again_by_its_holder_is_reported)
{
    KASSERT_TRUE(lock_panics(take_inner_twice));
    KEXPECT_TRUE(contains(g_panic_message, "takes test inner, which it holds already"));
}

// A lock that another CPU (5, made up) holds and never gives back.
static NOINLINE void
spin_on_a_lock_cpu_5_holds(void)
{
    s_inner.holder = 5 + 1;
    g_spin_stuck_spins = 1000;
    spin_lock(&s_inner);
}

KTEST(hardening, stuck_spinlock_names_lock_holder_and_spinner)
{
    KASSERT_TRUE(lock_panics(spin_on_a_lock_cpu_5_holds));
    char want[64];
    ksnprintf(want, sizeof(want), "cpu %u stuck on test inner, held by cpu 5", this_cpu_index());
    KEXPECT_TRUE(contains(g_panic_message, want));
}

static NOINLINE void
allocate_without_the_bkl(void)
{
    bkl_unlock();
    s_block = kmalloc(8);
}

KTEST(hardening, heap_without_the_big_kernel_lock_is_reported)
{
    s_block = NULL;
    KASSERT_TRUE(lock_panics(allocate_without_the_bkl));
    KEXPECT_NULL(s_block);
    KEXPECT_TRUE(contains(g_panic_message, "the heap without the big kernel lock"));
}
#endif
