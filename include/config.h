/* Build-time tunables.  The Makefile passes KSTACK_SIZE and TANDEM_DEBUG;
 * the defaults here only matter to tools that read headers alone. */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stdint.h>

#ifndef KSTACK_SIZE
#define KSTACK_SIZE 8192 // bytes per kernel-stack block (stack + arena)
#endif
#define KERNEL_VMA 0xC0000000u // start of the kernel half of every address space
#define PAGE_SIZE  4096u

#ifndef TANDEM_BENCH_ONLY
#define TANDEM_BENCH_ONLY 0 // 1: `make KSTACK_BENCH_ONLY=1`, a kernel for `bench` only
#endif

#if (KSTACK_SIZE & (KSTACK_SIZE - 1)) || KSTACK_SIZE < 4096
#error "KSTACK_SIZE must be a power of two of at least 4096"
#endif
// The sizes every test is run with (`make test` boots all three).  Tests
// assume them: a 32 KiB block is too deep for the arena's admission test
// to reach the block's bottom, and user programs check the block size
// they are told.  The benchmark kernel (mk/bench.mk) uses 128 KiB blocks
// so that 10,000 live objects fit in one; it is built with
// KSTACK_BENCH_ONLY=1 and refuses test mode.
#if KSTACK_SIZE != 4096 && KSTACK_SIZE != 8192 && KSTACK_SIZE != 16384 && !TANDEM_BENCH_ONLY
#error KSTACK_SIZE must be 4096, 8192 or 16384, the sizes the tests run with (KSTACK_BENCH_ONLY=1 allows other powers of two for a kernel that only runs the benchmarks)
#endif

// The kernel half maps physical memory at KERNEL_VMA + phys (see kernel/mm).
#define P2V(pa) ((void *)((uintptr_t)(pa) + KERNEL_VMA))
#define V2P(va) (((uintptr_t)(va)) - KERNEL_VMA)

#endif
