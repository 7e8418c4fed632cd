// The kernel's own checks fire, and say what broke: the stack protector,
// UBSan (debug builds) and the heap's misuse checks.  Each test arms a
// panic recovery point, commits the crime, and reads the panic message.
#include "kmalloc.h"
#include "ktest.h"
#include "lib/format.h"
#include "lib/string.h"
#include "panic.h"
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

// Runs fn with a panic recovery point; returns true if it panicked.
static uint32_t s_flags;    // not on the stack: the smashing test overwrites frames

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
        sti();                  // panic turned interrupts off
    return true;
}

static volatile uint32_t s_len = 32;

// UBSan would see the overflow first (object-size check): keep it out, so
// the stack protector is what catches it.
static NOINLINE __attribute__((no_sanitize_undefined)) void
smash_own_frame(void)
{
    char buf[8];
    for (uint32_t i = 0; i < s_len; i++)    // writes past buf, over the guard
        ((volatile char *)buf)[i] = 'X';
}

KTEST(hardening, stack_protector_catches_a_smashed_frame)
{
    KASSERT_TRUE(panics(smash_own_frame));
    KEXPECT_TRUE(contains(g_panic_message, "stack protector"));
    KEXPECT_TRUE(contains(g_panic_message, "smash_own_frame"));
}

#if TANDEM_DEBUG
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

static void *s_block;

static NOINLINE void
double_free(void)
{
    kfree(s_block);
    kfree(s_block);
}

static NOINLINE void
write_past_the_end(void)
{
    ((volatile uint8_t *)s_block)[24] = 0;    // one byte past a 24-byte block
    kfree(s_block);
}

KTEST(hardening, heap_double_free_names_pointer_size_and_callers)
{
    s_block = kmalloc(24);
    KASSERT_NOT_NULL(s_block);
    char ptr[16];
    ksnprintf(ptr, sizeof(ptr), "%p", s_block);
    KASSERT_TRUE(panics(double_free));
    KEXPECT_TRUE(contains(g_panic_message, "double free"));
    KEXPECT_TRUE(contains(g_panic_message, ptr));
    KEXPECT_TRUE(contains(g_panic_message, "caller"));
    KEXPECT_TRUE(contains(g_panic_message, "double_free"));     // the caller's symbol
    KEXPECT_UEQ(kheap_check(), 0);                              // the heap is intact
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
#endif
