/* Build-time tunables.  The Makefile passes KSTACK_SIZE and TANDEM_DEBUG;
 * the defaults here only matter to tools that read headers alone. */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stdint.h>

#ifndef KSTACK_SIZE
#define KSTACK_SIZE     8192            // bytes per kernel-stack block (stack + arena)
#endif
#define KERNEL_VMA      0xC0000000u     // start of the kernel half of every address space
#define PAGE_SIZE       4096u

#if (KSTACK_SIZE & (KSTACK_SIZE - 1)) || KSTACK_SIZE < 4096
#error "KSTACK_SIZE must be a power of two of at least 4096"
#endif

// The kernel half maps physical memory at KERNEL_VMA + phys (see kernel/mm).
#define P2V(pa)         ((void *)((uintptr_t)(pa) + KERNEL_VMA))
#define V2P(va)         ((uintptr_t)(va) - KERNEL_VMA)

#endif
