/* Thin wrappers around the x86 instructions C cannot express. */
#ifndef TANDEM_X86_H
#define TANDEM_X86_H

#include <stdint.h>
#include "compiler.h"

#define EFLAGS_CF     (1u << 0)
#define EFLAGS_FIXED  (1u << 1) // reads as 1
#define EFLAGS_PF     (1u << 2)
#define EFLAGS_AF     (1u << 4)
#define EFLAGS_ZF     (1u << 6)
#define EFLAGS_SF     (1u << 7)
#define EFLAGS_TF     (1u << 8)
#define EFLAGS_IF     (1u << 9)
#define EFLAGS_DF     (1u << 10)
#define EFLAGS_OF     (1u << 11)
#define EFLAGS_IOPL   (3u << 12)
#define EFLAGS_NT     (1u << 14)
#define EFLAGS_RF     (1u << 16)
#define EFLAGS_VM     (1u << 17)
#define EFLAGS_AC     (1u << 18)
#define EFLAGS_ID     (1u << 21)
// What the kernel runs with, from the first instructions of every entry
// (kernel/entry/trap_frame.inc, ESTABLISH_KERNEL_EFLAGS): every flag clear.
#define EFLAGS_KERNEL EFLAGS_FIXED
// The flags ring 3 may hold on its way back: those popf can change at CPL 3
// with IOPL 0, and RF, which the CPU sets in fault frames.  IOPL, VM, VIF
// and VIP are never the user's; IF is always on.
#define EFLAGS_USER                                                                      \
    (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_TF | EFLAGS_DF | \
     EFLAGS_OF | EFLAGS_NT | EFLAGS_RF | EFLAGS_AC | EFLAGS_ID)
#define CR0_WP     (1u << 16)
#define CR0_PG     (1u << 31)
#define CR0_AM     (1u << 18)
#define CR0_EM     (1u << 2)
// The page-fault error code (Intel SDM vol. 3A, 4.7).
#define PF_PRESENT (1u << 0) // set: a protection violation; clear: a not-present page
#define PF_WRITE   (1u << 1) // a write (else a read)
#define PF_USER    (1u << 2) // from ring 3
#define PF_RSVD    (1u << 3) // a reserved bit set in a paging entry
#define PF_FETCH   (1u << 4) // an instruction fetch

#define CR4_PSE  (1u << 4)  // 4 MiB pages
#define CR4_PGE  (1u << 7)  // global pages: a CR3 load keeps their TLB entries
#define CR4_UMIP (1u << 11) // sgdt, sidt, sldt, smsw, str: #GP outside ring 0
#define CR4_SMEP (1u << 20) // ring 0 cannot execute user pages: #PF

static inline void
outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void
cli(void)
{
    __asm__ volatile("cli" : : : "memory");
}

static inline void
sti(void)
{
    __asm__ volatile("sti" : : : "memory");
}

static inline void
hlt(void)
{
    __asm__ volatile("hlt" : : : "memory");
}

static inline void
cpu_relax(void)
{
    __asm__ volatile("pause");
}

static inline uint32_t
read_eflags(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}

static inline uint32_t
read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint32_t
read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint32_t
read_cr3(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline uint32_t
read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static inline void
write_cr0(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void
write_cr3(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void
write_cr4(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void
invlpg(uintptr_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

// Flushes this CPU's whole TLB, global pages too: a CR3 load keeps those
// while CR4.PGE is on, and turning PGE off and on again drops them.
static inline void
tlb_flush_local(void)
{
    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    if (cr4 & CR4_PGE) {
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 & ~CR4_PGE) : "memory");
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    } else {
        __asm__ volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=r"(cr4) : : "memory");
    }
}

static inline uint32_t
read_esp(void)
{
    uint32_t v;
    __asm__ volatile("mov %%esp, %0" : "=r"(v));
    return v;
}

static inline uint64_t
rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

// The sysenter MSRs (Intel SDM vol. 3B, 2.1): the entry's CS, stack and eip.
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

static inline void
wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t
rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

// Saves the interrupt flag and disables interrupts; pair with irq_restore.
static inline uint32_t
irq_save(void)
{
    uint32_t f = read_eflags();
    cli();
    return f;
}

static inline void
irq_restore(uint32_t f)
{
    if (f & EFLAGS_IF)
        sti();
}

#endif
