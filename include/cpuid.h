/* CPUID: the instruction and the feature bits Tandem asks about.
 *
 * Shared by the boot-time check (boot/cpu_check.c), which runs before
 * paging on any CPU a loader can start, and the kernel's feature table
 * (kernel/cpu.c).  Intel SDM vol. 2A, CPUID, tables 3-10 and 3-8. */
#ifndef TANDEM_CPUID_H
#define TANDEM_CPUID_H

#include <stdint.h>

// Leaf 1, EDX.
#define CPUID_1_EDX_PSE  (1u << 3)  // 4 MiB pages
#define CPUID_1_EDX_TSC  (1u << 4)  // rdtsc
#define CPUID_1_EDX_MSR  (1u << 5)  // rdmsr/wrmsr
#define CPUID_1_EDX_APIC (1u << 9)  // an on-chip local APIC, enabled
#define CPUID_1_EDX_SEP  (1u << 11) // sysenter/sysexit
#define CPUID_1_EDX_PGE  (1u << 13) // global pages (CR4.PGE)
#define CPUID_1_EDX_CMOV (1u << 15) // cmov: what -march=i686 code uses
// Leaf 7 subleaf 0, ECX.
#define CPUID_7_ECX_UMIP (1u << 2) // sgdt, sidt, sldt, smsw, str: #GP in ring 3
#define CPUID_7_EBX_SMEP (1u << 7) // supervisor-mode execution prevention

// What the kernel and user programs cannot run without: they are compiled
// for i686 (cmov), the boot code maps the kernel with 4 MiB pages and reads
// the TSC before the first C function.  SEP is optional (int 0x80 remains).
#define CPUID_1_EDX_REQUIRED (CPUID_1_EDX_PSE | CPUID_1_EDX_TSC | CPUID_1_EDX_CMOV)

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs
cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

// Whether the CPU has CPUID at all: it does if software can flip EFLAGS.ID
// (a 386 and early 486s cannot).
static inline int
cpuid_present(void)
{
    uint32_t before, after;
    __asm__ volatile("pushfl\n\t"
                     "pushfl\n\t"
                     "popl %0\n\t"
                     "movl %0, %1\n\t"
                     "xorl $0x200000, %0\n\t"
                     "pushl %0\n\t"
                     "popfl\n\t"
                     "pushfl\n\t"
                     "popl %0\n\t"
                     "popfl"
                     : "=&r"(after), "=&r"(before));
    return ((after ^ before) & 0x200000) != 0;
}

// The boot-time check (boot/cpu_check.c; boot/multiboot.asm calls it
// before paging, with the loader's eax and ebx): returns if the CPU has
// everything above, else names what it lacks and halts.
void cpu_check(uint32_t magic, const uint32_t *mbi);

#endif
