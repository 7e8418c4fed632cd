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
    bool umip;          // CR4.UMIP can be set
};

extern struct cpu_info g_cpu;

// Fills g_cpu from CPUID; call once, early.
void cpu_identify(void);

#endif
