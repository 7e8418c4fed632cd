/* What the CPU offers beyond what Tandem requires (include/cpuid.h says
 * what it requires; boot/cpu_check.c refuses a CPU without it). */
#ifndef TANDEM_CPU_H
#define TANDEM_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_info {
    char vendor[13];
    uint32_t family, model, stepping;
    bool sep;  // sysenter/sysexit work (CPUID says so, and it is no early Pentium Pro)
    bool umip; // CR4.UMIP: on whenever the CPU has it (cpu_protect)
    bool smep; // CR4.SMEP: likewise
    bool apic; // a local APIC, and the MSRs to find it (bring-up: kernel/smp/smp.c)
    bool pge;  // global pages: the kernel's mappings are made global (kmain)
};

extern struct cpu_info g_cpu;

// Fills g_cpu from CPUID; call once, early.
void cpu_identify(void);
// Turns on the protections the CPU has: UMIP (sgdt, sidt, sldt, smsw and
// str fault in ring 3, which then cannot learn where the GDT, IDT and TSS
// are; nothing in Tandem needs them outside ring 0) and SMEP (the kernel
// faults on fetching an instruction from a user page, so a corrupted
// function pointer cannot send it into code ring 3 wrote).  Every CPU
// loads the boot CPU's CR4 (kernel/smp/trampoline.asm), so one call does.
void cpu_protect(void);

// Makes top the stack every entry from ring 3 lands on: TSS.esp0, and
// IA32_SYSENTER_ESP where the CPU has sysenter.  The scheduler calls it at
// every switch; it is CPU state, so it lives here, below the threads.
void entry_stack_set(uint32_t top);
// The system-call gates user programs may use (SYSCALL_GATE_*): int 0x80
// always, sysenter where the CPU has it (kernel/entry/sysenter.c opens it
// on exactly those CPUs).
uint32_t syscall_gates(void);

#endif
