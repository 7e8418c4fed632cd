/* Compiler annotations used across Tandem (kernel, user runtime, host tests). */
#ifndef TANDEM_COMPILER_H
#define TANDEM_COMPILER_H

#define likely(x)         __builtin_expect(!!(x), 1)
#define unlikely(x)       __builtin_expect(!!(x), 0)
#define NORETURN          __attribute__((noreturn))
#define NOINLINE          __attribute__((noinline))
// Every call in the function stays a call, none becomes a jump: a frame
// that tail-calls has gone from the frame-pointer chain `tandem bt` walks,
// while GDB, which knows the call's target, still shows it.
#define NO_TAIL_CALLS     __attribute__((optimize("no-optimize-sibling-calls")))
#define FORCE_INLINE      inline __attribute__((always_inline))
#define PACKED            __attribute__((packed))
#define ALIGNED(n)        __attribute__((aligned(n)))
#define UNUSED            __attribute__((unused))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define SECTION(s)        __attribute__((section(s)))
#define USED              __attribute__((used))

#define ARRAY_SIZE(a)    (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)   (((x) + ((a)-1)) & ~(__typeof__(x))((a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~(__typeof__(x))((a)-1))
#define IS_ALIGNED(x, a) (((x) & ((a)-1)) == 0)

/* TANDEM_DEBUG: 1 in the default (debug) build, 0 with `make RELEASE=1`.
 * Debug checks (red zones, poisoning, caller records) are compiled under it. */
#ifndef TANDEM_DEBUG
#define TANDEM_DEBUG 1
#endif

#define CALLER_ADDR ((uintptr_t)__builtin_return_address(0))

#endif
