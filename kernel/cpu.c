// The CPU's optional features, read once at boot (include/cpu.h).
#include "cpu.h"
#include "cpuid.h"
#include "gdt.h"
#include "lib/string.h"
#include "percpu.h"
#include "uapi/syscall.h"
#include "x86.h"

struct cpu_info g_cpu;

void
cpu_identify(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    uint32_t max_leaf = r.eax;
    memcpy(g_cpu.vendor + 0, &r.ebx, 4);
    memcpy(g_cpu.vendor + 4, &r.edx, 4);
    memcpy(g_cpu.vendor + 8, &r.ecx, 4);
    g_cpu.vendor[12] = '\0';

    r = cpuid(1, 0);
    g_cpu.stepping = r.eax & 0xF;
    g_cpu.model = (r.eax >> 4) & 0xF;
    g_cpu.family = (r.eax >> 8) & 0xF;
    if (g_cpu.family == 0xF)
        g_cpu.family += (r.eax >> 20) & 0xFF;
    if (g_cpu.family == 0x6 || g_cpu.family >= 0xF)
        g_cpu.model |= ((r.eax >> 16) & 0xF) << 4;
    // The Pentium Pro (family 6, model 1) sets the SEP bit but has no
    // working sysenter (Intel's CPUID application note): family 6 models
    // below 3 with steppings below 3 are taken at their word only when
    // the feature really exists.
    bool early_p6 = g_cpu.family == 6 && g_cpu.model < 3 && g_cpu.stepping < 3;
    g_cpu.sep = (r.edx & CPUID_1_EDX_SEP) && (r.edx & CPUID_1_EDX_MSR) && !early_p6;
    g_cpu.apic = (r.edx & CPUID_1_EDX_APIC) && (r.edx & CPUID_1_EDX_MSR);
    g_cpu.pge = (r.edx & CPUID_1_EDX_PGE) != 0;

    if (max_leaf >= 7) {
        r = cpuid(7, 0);
        g_cpu.umip = (r.ecx & CPUID_7_ECX_UMIP) != 0;
        g_cpu.smep = (r.ebx & CPUID_7_EBX_SMEP) != 0;
    }
}

void
cpu_protect(void)
{
    uint32_t cr4 = read_cr4();
    if (g_cpu.umip)
        cr4 |= CR4_UMIP;
    if (g_cpu.smep)
        cr4 |= CR4_SMEP;
    write_cr4(cr4);
}

void
entry_stack_set(uint32_t top)
{
    tss_set_esp0(top);
    if (g_cpu.sep)
        wrmsr(MSR_SYSENTER_ESP, top);
}

uint32_t
syscall_gates(void)
{
    return SYSCALL_GATE_INT80 | (g_cpu.sep ? SYSCALL_GATE_SYSENTER : 0);
}
