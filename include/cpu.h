/* What the CPU offers beyond what Tandem requires (include/cpuid.h says
 * what it requires; boot/cpu_check.c refuses a CPU without it). */
#ifndef TANDEM_CPU_H
#define TANDEM_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_info {
    char vendor[13];
    uint32_t family, model, stepping;
    bool sep;           // sysenter/sysexit work (CPUID says so, and it is no early Pentium Pro)
    bool umip;          // CR4.UMIP: on whenever the CPU has it (cpu_protect)
};

extern struct cpu_info g_cpu;

// Fills g_cpu from CPUID; call once, early.
void cpu_identify(void);
// Turns on the protections the CPU has (now UMIP: sgdt, sidt, sldt, smsw
// and str fault in ring 3, which then cannot learn where the GDT, IDT and
// TSS are; nothing in Tandem needs them outside ring 0).
void cpu_protect(void);

#endif
